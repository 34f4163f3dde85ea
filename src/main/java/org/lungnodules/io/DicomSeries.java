package org.lungnodules.io;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;

import net.imglib2.img.array.ArrayImgs;

/**
 * Reads a CT stored as a DICOM series (one slice per file), with our own DICOM Part 10 parser.
 * <p>
 * Transfer syntaxes: implicit VR little endian, explicit VR little endian, explicit VR big endian
 * and deflated explicit VR little endian; of the compressed (encapsulated) ones, RLE Lossless
 * (decoded here, PS3.5 Annex G) and JPEG Lossless Process 14 (1.2.840.10008.1.2.4.57 and its SV1
 * form .70, decoded by TwelveMonkeys' ImageIO JPEG reader). Lossy JPEG is refused because it changes
 * HU values; every other compressed syntax (JPEG-LS, JPEG 2000, ...) is refused, naming it. Pixels: one sample of 8 or 16 bits, signed or unsigned, MONOCHROME2, one
 * frame per file.
 * <p>
 * The volume follows what LUNA16's {@code .mhd} files hold (SimpleITK's series reading): slices
 * sorted along the slice normal (the cross product of the two ImageOrientationPatient cosines) by
 * the projection of ImagePositionPatient, never by file name, InstanceNumber or SliceLocation;
 * x spacing = PixelSpacing[1] (between columns), y spacing = PixelSpacing[0] (between rows), z
 * spacing from the positions; origin = the position of the lowest slice along the normal; direction
 * columns = row cosines, column cosines, normal. World coordinates are DICOM patient (LPS) mm,
 * which is LUNA16's world. HU = stored × RescaleSlope + RescaleIntercept, kept as 16-bit integers
 * when every HU value is an integer in that range, else as floats.
 * <p>
 * Anything wrong fails with a {@link DicomException} naming the file(s) and the problem before any
 * volume is returned: several series in one folder, missing slices or uneven spacing, tilted or
 * non-parallel slices, mixed sizes, duplicate positions, non-CT modalities, truncated or malformed
 * files. Localizer (scout) images are left out, and non-DICOM files (DICOMDIR, notes) are skipped,
 * each with a note in {@link CtReader.ReadCt#notes()}.
 */
public final class DicomSeries {

	/** One series found in a folder: its SeriesInstanceUID, number of image files, description and modality. */
	public record SeriesInfo(String uid, int slices, String description, String modality) {
		@Override
		public String toString() {
			return uid + ": " + slices + " slice" + (slices == 1 ? "" : "s") + ", " + (modality.isEmpty() ? "no modality" : modality) +
				(description.isEmpty() ? "" : ", \"" + description + "\"");
		}
	}

	static final String IMPLICIT_LE = "1.2.840.10008.1.2";
	static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
	static final String DEFLATED_LE = "1.2.840.10008.1.2.1.99";
	static final String EXPLICIT_BE = "1.2.840.10008.1.2.2";
	static final String JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";
	static final String JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57";
	static final String RLE_LOSSLESS = "1.2.840.10008.1.2.5";
	/** Lossy JPEG: refused although the JDK decodes 8-bit baseline, because lossy compression changes HU values. */
	private static final Set<String> LOSSY_JPEG = Set.of("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51");

	/** Names of the encapsulated (compressed) transfer syntaxes, for the refusal message. */
	private static final Map<String, String> COMPRESSED = Map.ofEntries(
		Map.entry("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian"),
		Map.entry("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
		Map.entry("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
		Map.entry("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
		Map.entry(JPEG_LOSSLESS_SV1, "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1)"),
		Map.entry("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
		Map.entry("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)"),
		Map.entry("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.91", "JPEG 2000"),
		Map.entry("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component"),
		Map.entry("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
		Map.entry("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate"),
		Map.entry("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
		Map.entry("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
		Map.entry("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
		Map.entry("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
		Map.entry("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
		Map.entry("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
		Map.entry("1.2.840.10008.1.2.4.112", "JPEG XL"),
		Map.entry("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
		Map.entry("1.2.840.10008.1.2.5", "RLE Lossless"));

	/** The Media Storage Directory SOP class: a DICOMDIR, an index of files rather than an image. */
	private static final String DICOMDIR_CLASS = "1.2.840.10008.1.3.10";

	private static final long UNDEFINED = 0xFFFFFFFFL;
	private static final int ITEM = 0xFFFEE000, ITEM_END = 0xFFFEE00D, SEQUENCE_END = 0xFFFEE0DD;
	private static final int PIXEL_DATA = 0x7FE00010;
	/** How much of a file one header read fetches; CT headers are a few kB. */
	private static final int WINDOW = 64 * 1024;
	/** Deflated datasets are inflated in memory; more than this is a bogus or hostile file, not one CT slice. */
	private static final long MAX_INFLATED = 256L << 20;
	/** Real files nest sequences a few levels deep; far deeper ones are malformed or hostile. */
	private static final int MAX_DEPTH = 32;
	/** The values we interpret are short strings and numbers; longer ones mean a bogus length. */
	private static final int MAX_INTERPRETED_VALUE = 64 * 1024;
	/** Largest ArrayImg: Java arrays hold a little less than 2^31 elements. */
	private static final long MAX_VOXELS = Integer.MAX_VALUE - 8;
	/** Two orientations whose normals differ by more than this are different planes: the odd one is a scout. */
	private static final double SCOUT_MIN_ANGLE_DEG = 45;
	/** Orientation cosines that differ by less than this are the same orientation (DS values carry ~6 decimals). */
	private static final double ORIENTATION_TOLERANCE = 1e-4;
	/** In-plane drift of a slice position beyond this (mm) means a gantry tilt or slices not stacked along their normal. */
	private static final double IN_PLANE_TOLERANCE_MM = 0.01;
	/** Slice steps may differ by this much (relative, with the floor below) and still count as even. */
	private static final double STEP_TOLERANCE = 0.01, STEP_TOLERANCE_FLOOR_MM = 0.01;
	/** Two slices closer than this (mm) along the normal sit at the same position. */
	private static final double DUPLICATE_MM = 1e-3;

	private DicomSeries() {}

	// ---------------------------------------------------------------------------------------------
	// Public API

	/**
	 * Reads a DICOM series into a CT volume.
	 *
	 * @param fileOrFolder a folder holding the series' files, or one file of the series (which
	 *        means its whole series: the files of that series in the same folder)
	 * @param seriesUid the SeriesInstanceUID to read when the folder holds several series (a unique
	 *        start or end of it is enough); null or empty when there is only one
	 */
	public static CtReader.ReadCt read(Path fileOrFolder, String seriesUid) throws IOException {
		Scan scan = scan(fileOrFolder);
		Map<String, List<Slice>> bySeries = scan.bySeries();
		String wanted = seriesUid == null ? "" : seriesUid.trim();
		String uid;
		if (scan.givenFile != null) {
			uid = scan.givenSeries;
			if (!wanted.isEmpty() && !matches(uid, wanted))
				throw new DicomException(fileOrFolder, "series=" + wanted + " was asked for, but this file belongs to series " + uid);
		}
		else uid = pickSeries(fileOrFolder, bySeries, wanted);
		List<String> notes = new ArrayList<>(scan.notes);
		int others = scan.slices.size() - bySeries.get(uid).size();
		if (others > 0)
			notes.add(scan.folder + ": left out " + others + " file(s) of " + (bySeries.size() - 1) + " other series");
		CtVolume volume = assemble(scan.folder, uid, bySeries.get(uid), notes);
		return new CtReader.ReadCt(volume, CtReader.Format.DICOM, notes);
	}

	/**
	 * The series in a folder (or, for a file, the series of that file within its folder), in the
	 * order their first file sorts by name. Only headers are parsed, up to the pixel data.
	 */
	public static List<SeriesInfo> listSeries(Path fileOrFolder) throws IOException {
		Scan scan = scan(fileOrFolder);
		List<SeriesInfo> infos = new ArrayList<>();
		for (Map.Entry<String, List<Slice>> e : scan.bySeries().entrySet()) {
			Slice first = e.getValue().get(0);
			infos.add(new SeriesInfo(e.getKey(), e.getValue().size(), nonNull(first.description), nonNull(first.modality)));
		}
		return infos;
	}

	/**
	 * True for a DICOM Part 10 file ("DICM" after the 128-byte preamble) or a file that plausibly
	 * starts with a raw DICOM dataset (no preamble, as some old scanners wrote them): a group
	 * 0x0008 (or 0x0002) element with a sensible length, followed by a later element.
	 */
	public static boolean isDicomFile(Path file) {
		if (!Files.isRegularFile(file)) return false;
		try (InputStream in = Files.newInputStream(file)) {
			byte[] head = in.readNBytes(132);
			if (head.length == 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') return true;
			return looksLikeRawDataset(head);
		}
		catch (IOException e) {
			return false;
		}
	}

	// ---------------------------------------------------------------------------------------------
	// Finding the files of a series

	/** One file's header: what we need to place and decode its slice. */
	private static final class Slice {
		final Path file;
		String syntax = "", sopClass = "", modality, seriesUid, description, imageType = "", photometric = "";
		double[] position, orientation, pixelSpacing;
		int rows = -1, cols = -1, bitsAllocated = -1, bitsStored = -1, pixelRepresentation, samples = 1, frames = 1;
		double slope = 1, intercept = 0, sliceThickness = Double.NaN;
		boolean bigEndian, deflated, directoryRecords;
		long datasetStart, pixelOffset = -1, pixelLength, fileSize;
		/** Unit slice normal and the position projected on it, set once the orientation is checked. */
		double[] normal;
		double along;

		Slice(Path file) { this.file = file; }

		String name() { return String.valueOf(file.getFileName()); }
	}

	/** The DICOM image files of a folder, grouped by series, and what was skipped. */
	private static final class Scan {
		Path folder;
		Path givenFile;
		String givenSeries;
		final List<Slice> slices = new ArrayList<>();
		final List<String> notes = new ArrayList<>();

		Map<String, List<Slice>> bySeries() {
			Map<String, List<Slice>> map = new LinkedHashMap<>();
			for (Slice s : slices) map.computeIfAbsent(s.seriesUid, k -> new ArrayList<>()).add(s);
			return map;
		}
	}

	private static Scan scan(Path fileOrFolder) throws IOException {
		if (!Files.exists(fileOrFolder)) throw new DicomException(fileOrFolder, "no such file or folder");
		Scan scan = new Scan();
		List<Path> files;
		if (Files.isDirectory(fileOrFolder)) {
			scan.folder = fileOrFolder;
		}
		else {
			scan.givenFile = fileOrFolder;
			scan.folder = fileOrFolder.toAbsolutePath().getParent();
			if (!isDicomFile(fileOrFolder))
				throw new DicomException(fileOrFolder, "not a DICOM file (no \"DICM\" after a 128-byte preamble, and no DICOM dataset at its start)");
			Slice given = readHeader(fileOrFolder);
			if (given.pixelOffset < 0)
				throw new DicomException(fileOrFolder, "a DICOM file without an image (" + describeNonImage(given) + ")");
			scan.givenSeries = requireSeriesUid(given);
		}
		try (Stream<Path> s = Files.list(scan.folder)) {
			files = s.filter(p -> !Files.isDirectory(p)).sorted().collect(Collectors.toList());
		}
		for (Path file : files) {
			String name = String.valueOf(file.getFileName());
			if (!isDicomFile(file)) {
				String lower = name.toLowerCase(Locale.ROOT);
				if (lower.endsWith(".dcm") || lower.endsWith(".dicom"))
					throw new DicomException(file, "named as a DICOM file but is not one (no \"DICM\" after a 128-byte preamble, and no " +
						"DICOM dataset at its start; " + Files.size(file) + " bytes)");
				scan.notes.add(scan.folder + ": skipped " + name + ": not a DICOM file");
				continue;
			}
			Slice slice = readHeader(file);
			if (slice.pixelOffset < 0) {
				scan.notes.add(scan.folder + ": skipped " + name + ": a DICOM file without an image (" + describeNonImage(slice) + ")");
				continue;
			}
			requireSeriesUid(slice);
			if (scan.givenSeries != null && !scan.givenSeries.equals(slice.seriesUid)) continue;
			scan.slices.add(slice);
		}
		if (scan.slices.isEmpty())
			throw new DicomException(fileOrFolder, "no DICOM images here" + (scan.notes.isEmpty() ? "" : " (" + scan.notes.size() +
				" file(s) skipped as not DICOM images)"));
		return scan;
	}

	private static String describeNonImage(Slice s) {
		if (DICOMDIR_CLASS.equals(s.sopClass) || s.directoryRecords) return "a DICOMDIR, an index of files";
		return "no PixelData (7FE0,0010)" + (s.sopClass.isEmpty() ? "" : "; SOP class " + s.sopClass);
	}

	private static String requireSeriesUid(Slice s) throws DicomException {
		if (s.seriesUid == null || s.seriesUid.isEmpty())
			throw new DicomException(s.file, "an image without a SeriesInstanceUID (0020,000E), so its series cannot be told");
		return s.seriesUid;
	}

	private static boolean matches(String uid, String wanted) {
		return uid.equals(wanted) || uid.startsWith(wanted) || uid.endsWith(wanted);
	}

	private static String pickSeries(Path folder, Map<String, List<Slice>> bySeries, String wanted) throws DicomException {
		if (wanted.isEmpty()) {
			if (bySeries.size() == 1) return bySeries.keySet().iterator().next();
			throw new DicomException(folder, "holds " + bySeries.size() + " DICOM series; pick one with series=<SeriesInstanceUID> " +
				"(a unique start or end of it is enough):" + listing(bySeries));
		}
		if (bySeries.containsKey(wanted)) return wanted;
		List<String> hits = bySeries.keySet().stream().filter(u -> matches(u, wanted)).collect(Collectors.toList());
		if (hits.size() == 1) return hits.get(0);
		throw new DicomException(folder, (hits.isEmpty() ? "no series matches series=" + wanted : "series=" + wanted + " matches " +
			hits.size() + " series; give more of the UID") + ". The series here are:" + listing(bySeries));
	}

	private static String listing(Map<String, List<Slice>> bySeries) {
		StringBuilder sb = new StringBuilder();
		for (Map.Entry<String, List<Slice>> e : bySeries.entrySet()) {
			Slice first = e.getValue().get(0);
			sb.append("\n  ").append(new SeriesInfo(e.getKey(), e.getValue().size(), nonNull(first.description), nonNull(first.modality)));
		}
		return sb.toString();
	}

	private static String nonNull(String s) {
		return s == null ? "" : s;
	}

	// ---------------------------------------------------------------------------------------------
	// Putting the slices of one series together

	private static CtVolume assemble(Path folder, String uid, List<Slice> all, List<String> notes) throws IOException {
		for (Slice s : all) {
			if (LOSSY_JPEG.contains(s.syntax))
				throw new DicomException(s.file, "pixel data compressed as " + COMPRESSED.get(s.syntax) + " (transfer syntax " + s.syntax +
					"), which is lossy: its decoded values are not the scanner's HU values, so this reader refuses it; use the lossless " +
					"original series");
			if (COMPRESSED.containsKey(s.syntax) && !isDecodedEncapsulated(s.syntax))
				throw new DicomException(s.file, "pixel data compressed as " + COMPRESSED.get(s.syntax) + " (transfer syntax " + s.syntax +
					"), which this reader does not decode; convert the series to an uncompressed transfer syntax first " +
					"(for example with dcmtk's dcmdjpeg or gdcmconv --raw)");
			if (!isNative(s.syntax) && !isDecodedEncapsulated(s.syntax))
				throw new DicomException(s.file, "unknown transfer syntax " + s.syntax + "; this reader knows implicit and explicit VR " +
					"little endian, explicit VR big endian and deflated explicit VR little endian");
			if (!"CT".equals(s.modality))
				throw new DicomException(s.file, (s.modality == null || s.modality.isEmpty() ? "no Modality (0008,0060)"
					: "modality " + s.modality) + ", not CT: this reader takes CT series only (HU values and lung windows mean nothing " +
					"for other modalities)");
		}
		List<Slice> slices = new ArrayList<>();
		for (Slice s : all) {
			if (Arrays.asList(s.imageType.toUpperCase(Locale.ROOT).split("\\\\")).contains("LOCALIZER"))
				notes.add(s.file + ": left out: a localizer (scout) image, ImageType " + s.imageType);
			else slices.add(s);
		}
		if (slices.isEmpty()) throw new DicomException(folder, "series " + uid + " holds only localizer (scout) images");
		for (Slice s : slices) requireGeometry(s);
		slices = dropOtherPlanes(folder, slices, notes);
		checkSameFormat(slices);
		Slice first = slices.get(0);
		double[] row = Arrays.copyOfRange(first.orientation, 0, 3), col = Arrays.copyOfRange(first.orientation, 3, 6);
		double[] normal = first.normal;
		slices.sort(Comparator.comparingDouble((Slice s) -> s.along).thenComparing(s -> s.file));
		double zSpacing = checkStack(folder, slices, notes);
		Slice lowest = slices.get(0);
		double[] direction = { row[0], col[0], normal[0], row[1], col[1], normal[1], row[2], col[2], normal[2] };
		// PixelSpacing is (row spacing, column spacing) = (y, x).
		Geometry geometry = new Geometry(lowest.position.clone(), new double[] { lowest.pixelSpacing[1], lowest.pixelSpacing[0], zSpacing },
			direction);
		return readPixels(slices, geometry, uid);
	}

	private static boolean isNative(String syntax) {
		return IMPLICIT_LE.equals(syntax) || EXPLICIT_LE.equals(syntax) || EXPLICIT_BE.equals(syntax) || DEFLATED_LE.equals(syntax);
	}

	/** The compressed syntaxes this reader decodes: RLE itself, JPEG Lossless with TwelveMonkeys' ImageIO reader. */
	private static boolean isDecodedEncapsulated(String syntax) {
		return RLE_LOSSLESS.equals(syntax) || JPEG_LOSSLESS.equals(syntax) || JPEG_LOSSLESS_SV1.equals(syntax);
	}

	private static void requireGeometry(Slice s) throws DicomException {
		if (s.position == null) throw missing(s, "ImagePositionPatient (0020,0032)");
		if (s.orientation == null) throw missing(s, "ImageOrientationPatient (0020,0037)");
		if (s.pixelSpacing == null) throw missing(s, "PixelSpacing (0028,0030)");
		if (s.rows < 0) throw missing(s, "Rows (0028,0010)");
		if (s.cols < 0) throw missing(s, "Columns (0028,0011)");
		if (s.bitsAllocated < 0) throw missing(s, "BitsAllocated (0028,0100)");
		if (s.rows == 0 || s.cols == 0) throw new DicomException(s.file, "an empty image: Rows " + s.rows + ", Columns " + s.cols);
		if (!(s.pixelSpacing[0] > 0) || !(s.pixelSpacing[1] > 0))
			throw new DicomException(s.file, "PixelSpacing (0028,0030) must be positive, but is " + Arrays.toString(s.pixelSpacing));
		double[] r = Arrays.copyOfRange(s.orientation, 0, 3), c = Arrays.copyOfRange(s.orientation, 3, 6);
		double lr = norm(r), lc = norm(c), dot = dot(r, c);
		if (Math.abs(lr - 1) > 1e-3 || Math.abs(lc - 1) > 1e-3 || Math.abs(dot) > 1e-3)
			throw new DicomException(s.file, "ImageOrientationPatient (0020,0037) " + Arrays.toString(s.orientation) +
				" is not two orthogonal unit vectors (lengths " + lr + ", " + lc + "; dot product " + dot + ")");
		double[] n = cross(r, c);
		double ln = norm(n);
		s.normal = new double[] { n[0] / ln, n[1] / ln, n[2] / ln };
		s.along = dot(s.position, s.normal);
	}

	private static DicomException missing(Slice s, String what) {
		return new DicomException(s.file, "an image without " + what + ", so it cannot be placed in a volume");
	}

	/**
	 * Keeps the slices of the majority orientation. Images in a clearly different plane (a coronal
	 * or sagittal scout among axial slices) are left out with a note; slices only slightly turned
	 * against the others are an error, because they mean a broken or tilted stack rather than an
	 * extra image.
	 */
	private static List<Slice> dropOtherPlanes(Path folder, List<Slice> slices, List<String> notes) throws DicomException {
		List<List<Slice>> groups = new ArrayList<>();
		for (Slice s : slices) {
			List<Slice> home = null;
			for (List<Slice> g : groups)
				if (sameOrientation(g.get(0).orientation, s.orientation)) home = g;
			if (home == null) groups.add(home = new ArrayList<>());
			home.add(s);
		}
		if (groups.size() == 1) return slices;
		groups.sort(Comparator.comparingInt((List<Slice> g) -> -g.size()));
		List<Slice> major = groups.get(0);
		if (major.size() == groups.get(1).size())
			throw new DicomException(folder, "slices are not parallel: " + major.size() + " slices have ImageOrientationPatient " +
				Arrays.toString(major.get(0).orientation) + " (e.g. " + major.get(0).name() + ") and as many have " +
				Arrays.toString(groups.get(1).get(0).orientation) + " (e.g. " + groups.get(1).get(0).name() + ")");
		double cosLimit = Math.cos(Math.toRadians(SCOUT_MIN_ANGLE_DEG));
		for (List<Slice> g : groups.subList(1, groups.size())) {
			for (Slice s : g) {
				double cos = Math.abs(dot(s.normal, major.get(0).normal));
				double angle = Math.toDegrees(Math.acos(Math.min(1, cos)));
				if (cos > cosLimit)
					throw new DicomException(s.file, String.format(Locale.ROOT, "slices are not parallel: this slice's ImageOrientationPatient " +
						"%s is turned by %.2f degrees against the other %d slices' %s (e.g. %s); a tilted or reformatted slice cannot be stacked",
						Arrays.toString(s.orientation), angle, major.size(), Arrays.toString(major.get(0).orientation), major.get(0).name()));
				notes.add(s.file + String.format(Locale.ROOT, ": left out: an image in another plane (ImageOrientationPatient %s, %.0f degrees " +
					"from the series' %s), taken for a localizer (scout)", Arrays.toString(s.orientation), angle,
					Arrays.toString(major.get(0).orientation)));
			}
		}
		return new ArrayList<>(major);
	}

	private static boolean sameOrientation(double[] a, double[] b) {
		for (int i = 0; i < 6; i++)
			if (Math.abs(a[i] - b[i]) > ORIENTATION_TOLERANCE) return false;
		return true;
	}

	private static void checkSameFormat(List<Slice> slices) throws DicomException {
		Slice f = slices.get(0);
		for (Slice s : slices) {
			if (s.rows != f.rows || s.cols != f.cols)
				throw new DicomException(s.file, "mixed image sizes in one series: this slice is " + s.cols + "x" + s.rows + " (columns x rows), " +
					f.name() + " is " + f.cols + "x" + f.rows);
			if (Math.abs(s.pixelSpacing[0] - f.pixelSpacing[0]) > 1e-6 || Math.abs(s.pixelSpacing[1] - f.pixelSpacing[1]) > 1e-6)
				throw new DicomException(s.file, "mixed pixel spacings in one series: PixelSpacing " + Arrays.toString(s.pixelSpacing) + " here, " +
					Arrays.toString(f.pixelSpacing) + " in " + f.name());
			if (s.samples != 1)
				throw new DicomException(s.file, "SamplesPerPixel (0028,0002) is " + s.samples + "; a CT slice has one sample (grey values) per pixel");
			String pi = s.photometric.trim();
			if ("MONOCHROME1".equals(pi))
				throw new DicomException(s.file, "PhotometricInterpretation MONOCHROME1 (white = low values) is not supported; CT " +
					"slices are MONOCHROME2");
			if (!pi.isEmpty() && !"MONOCHROME2".equals(pi))
				throw new DicomException(s.file, "PhotometricInterpretation " + pi + " is not supported; CT slices are MONOCHROME2");
			if (s.frames != 1)
				throw new DicomException(s.file, "a multi-frame image (NumberOfFrames " + s.frames + "); this reader takes one slice per file");
			if (s.bitsAllocated != 8 && s.bitsAllocated != 16)
				throw new DicomException(s.file, "BitsAllocated (0028,0100) is " + s.bitsAllocated + "; only 8 and 16 are supported");
			int stored = s.bitsStored < 0 ? s.bitsAllocated : s.bitsStored;
			if (stored < 1 || stored > s.bitsAllocated)
				throw new DicomException(s.file, "BitsStored (0028,0101) is " + s.bitsStored + " with BitsAllocated " + s.bitsAllocated);
			if (s.pixelRepresentation != 0 && s.pixelRepresentation != 1)
				throw new DicomException(s.file, "PixelRepresentation (0028,0103) is " + s.pixelRepresentation + "; it must be 0 or 1");
			boolean encapsulated = isDecodedEncapsulated(s.syntax);
			if (s.pixelLength < 0 && !encapsulated)
				throw new DicomException(s.file, "PixelData (7FE0,0010) has undefined length (compressed fragments), but the transfer syntax " +
					s.syntax + " is uncompressed");
			if (s.pixelLength >= 0 && encapsulated)
				throw new DicomException(s.file, "PixelData (7FE0,0010) has a defined length of " + s.pixelLength + " bytes, but the transfer " +
					"syntax " + s.syntax + " is compressed and needs encapsulated fragments (undefined length)");
			if (s.pixelOffset < 0) throw new DicomException(s.file, "an image without PixelData (7FE0,0010)");
			long expected = (long) s.rows * s.cols * (s.bitsAllocated / 8);
			long padded = expected + (expected & 1);
			if (!encapsulated && s.pixelLength != expected && s.pixelLength != padded)
				throw new DicomException(s.file, "PixelData (7FE0,0010) holds " + s.pixelLength + " bytes, but " + s.rows + " rows x " + s.cols +
					" columns x " + (s.bitsAllocated / 8) + " bytes need " + expected);
			if (!Double.isFinite(s.slope) || !Double.isFinite(s.intercept) || s.slope == 0)
				throw new DicomException(s.file, "RescaleSlope " + s.slope + " / RescaleIntercept " + s.intercept + " do not give HU values");
		}
	}

	/**
	 * Checks that the sorted slices form one even stack along their normal and returns the slice
	 * spacing. The spacing is the mean step, rounded to 1e-6 mm: positions are decimal strings, and
	 * their differences in binary carry noise around 1e-14 that would make 2.5 mm into 2.4999999999.
	 */
	private static double checkStack(Path folder, List<Slice> slices, List<String> notes) throws DicomException {
		Slice first = slices.get(0);
		double[] n = first.normal;
		for (Slice s : slices) {
			double[] d = { s.position[0] - first.position[0], s.position[1] - first.position[1], s.position[2] - first.position[2] };
			double a = dot(d, n);
			double[] inPlane = { d[0] - a * n[0], d[1] - a * n[1], d[2] - a * n[2] };
			double drift = norm(inPlane);
			if (drift > IN_PLANE_TOLERANCE_MM)
				throw new DicomException(folder, String.format(Locale.ROOT, "slices are not stacked along their normal %s: %s at %s is shifted " +
					"by %.3f mm sideways from %s at %s. That is a gantry tilt (or a broken series); this reader does not resample tilted " +
					"series", Arrays.toString(n), s.name(), Arrays.toString(s.position), drift, first.name(), Arrays.toString(first.position)));
		}
		if (slices.size() == 1) {
			double z = first.sliceThickness > 0 ? first.sliceThickness : 1;
			notes.add(first.file + ": a series of one slice; its z spacing is " + (first.sliceThickness > 0 ? "its SliceThickness, " : "taken as ") + z + " mm");
			return z;
		}
		double[] steps = new double[slices.size() - 1];
		for (int i = 1; i < slices.size(); i++) {
			Slice a = slices.get(i - 1), b = slices.get(i);
			steps[i - 1] = b.along - a.along;
			if (steps[i - 1] < DUPLICATE_MM)
				throw new DicomException(folder, String.format(Locale.ROOT, "duplicate slice positions: %s and %s both sit at %s " +
					"(%.3f mm along the normal); the folder holds a slice twice or two acquisitions mixed in one series",
					a.name(), b.name(), Arrays.toString(b.position), b.along));
		}
		double[] sorted = steps.clone();
		Arrays.sort(sorted);
		double median = sorted[sorted.length / 2];
		double tolerance = Math.max(STEP_TOLERANCE_FLOOR_MM, STEP_TOLERANCE * median);
		List<String> gaps = new ArrayList<>();
		for (int i = 0; i < steps.length; i++) {
			if (Math.abs(steps[i] - median) <= tolerance) continue;
			Slice a = slices.get(i), b = slices.get(i + 1);
			double ratio = steps[i] / median;
			String hint = Math.abs(ratio - Math.rint(ratio)) < 0.05 && ratio > 1.5
				? " (" + ((int) Math.rint(ratio) - 1) + " slice(s) missing?)" : "";
			if (gaps.size() < 5)
				gaps.add(String.format(Locale.ROOT, "%.3f mm between %s at %.3f mm and %s at %.3f mm along the normal%s", steps[i], a.name(),
					a.along, b.name(), b.along, hint));
			else if (gaps.size() == 5) gaps.add("...");
		}
		if (!gaps.isEmpty())
			throw new DicomException(folder, String.format(Locale.ROOT, "uneven slice spacing: the slices are %.3f mm apart, but there is a gap of ",
				median) + String.join("; and of ", gaps));
		double mean = (slices.get(slices.size() - 1).along - first.along) / (slices.size() - 1);
		return Math.round(mean * 1e6) / 1e6;
	}

	private static CtVolume readPixels(List<Slice> slices, Geometry geometry, String uid) throws IOException {
		Slice f = slices.get(0);
		int w = f.cols, h = f.rows, d = slices.size();
		long plane = (long) w * h;
		if (plane * d > MAX_VOXELS)
			throw new DicomException(f.file, "the series has " + w + "x" + h + "x" + d + " voxels, more than one image can hold (2^31)");
		short[] shorts = new short[(int) (plane * d)];
		float[] floats = null;
		int[] stored = new int[(int) plane];
		for (int z = 0; z < d; z++) {
			Slice s = slices.get(z);
			readStored(s, stored);
			int base = (int) (z * plane);
			if (floats == null && sliceFitsShorts(stored, s.slope, s.intercept)) {
				int a = (int) s.slope, b = (int) s.intercept;
				if (a == s.slope && b == s.intercept)
					for (int i = 0; i < stored.length; i++) shorts[base + i] = (short) (stored[i] * a + b);
				else for (int i = 0; i < stored.length; i++) shorts[base + i] = (short) (stored[i] * s.slope + s.intercept);
				continue;
			}
			if (floats == null) {
				// The first HU value that is not a 16-bit integer: from here on the volume is float.
				floats = new float[shorts.length];
				for (int i = 0; i < base; i++) floats[i] = shorts[i];
				shorts = null;
			}
			for (int i = 0; i < stored.length; i++)
				floats[base + i] = (float) (stored[i] * s.slope + s.intercept);
		}
		if (floats == null) return CtVolume.ofShorts(shorts, w, h, d, geometry, uid);
		return new CtVolume(ArrayImgs.floats(floats, w, h, d), geometry, uid);
	}

	private static boolean sliceFitsShorts(int[] stored, double slope, double intercept) {
		if (slope == Math.rint(slope) && intercept == Math.rint(intercept) && Math.abs(slope) <= 1 << 16 && Math.abs(intercept) <= 1 << 20) {
			// The usual case (slope 1, intercept -1024): integer arithmetic, exact since |v| < 2^16.
			long a = (long) slope, b = (long) intercept;
			for (int v : stored) {
				long hu = v * a + b;
				if (hu < Short.MIN_VALUE || hu > Short.MAX_VALUE) return false;
			}
			return true;
		}
		for (int v : stored) {
			double hu = v * slope + intercept;
			if (hu != Math.rint(hu) || hu < Short.MIN_VALUE || hu > Short.MAX_VALUE) return false;
		}
		return true;
	}

	/** Reads one slice's stored pixel values (before rescaling), masked to BitsStored and sign-extended. */
	private static void readStored(Slice s, int[] out) throws IOException {
		byte[] data;
		int offset;
		if (s.deflated) {
			data = inflateDataset(s.file, s.datasetStart);
			offset = (int) s.pixelOffset;
		}
		else if (isDecodedEncapsulated(s.syntax)) {
			byte[] frame = readFrame(s);
			data = RLE_LOSSLESS.equals(s.syntax) ? decodeRle(s, frame, out.length) : decodeJpegLossless(s, frame, out.length);
			offset = 0;
		}
		else {
			try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
				if (ch.size() != s.fileSize)
					throw new DicomException(s.file, "changed while the series was being read (" + s.fileSize + " bytes, now " + ch.size() + ")");
				data = new byte[(int) Math.min(s.pixelLength, out.length * 2L)];
				ByteBuffer bb = ByteBuffer.wrap(data);
				long at = s.pixelOffset;
				while (bb.hasRemaining()) {
					int r = ch.read(bb, at);
					if (r < 0) throw new DicomException(s.file, "ends inside its PixelData (7FE0,0010) at byte " + at);
					at += r;
				}
			}
			offset = 0;
		}
		int bits = s.bitsStored < 0 ? s.bitsAllocated : s.bitsStored;
		int mask = bits >= 32 ? -1 : (1 << bits) - 1;
		int signBit = 1 << (bits - 1);
		boolean signed = s.pixelRepresentation == 1;
		for (int i = 0; i < out.length; i++) {
			int v;
			if (s.bitsAllocated == 8) v = data[offset + i] & 0xFF;
			else {
				int p = offset + 2 * i;
				v = s.bigEndian ? ((data[p] & 0xFF) << 8) | (data[p + 1] & 0xFF) : (data[p] & 0xFF) | ((data[p + 1] & 0xFF) << 8);
			}
			v &= mask;
			if (signed && (v & signBit) != 0) v -= 1 << bits;
			out[i] = v;
		}
	}

	// ---------------------------------------------------------------------------------------------
	// Compressed (encapsulated) pixel data

	/**
	 * The compressed frame of an encapsulated PixelData: the Basic Offset Table item is skipped and
	 * the fragment items up to the sequence delimiter are concatenated (one frame per file). Every
	 * length is checked against the file size before anything is allocated.
	 */
	private static byte[] readFrame(Slice s) throws IOException {
		try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
			if (ch.size() != s.fileSize)
				throw new DicomException(s.file, "changed while the series was being read (" + s.fileSize + " bytes, now " + ch.size() + ")");
			Bytes in = new Bytes(s.file, ch, s.fileSize);
			long pos = s.pixelOffset;
			in.need(pos, 8, "the Basic Offset Table item of PixelData (7FE0,0010)");
			if (itemTag(in, pos) != ITEM)
				throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) does not start with a Basic Offset Table item (FFFE,E000) at " +
					"byte " + pos + " but with " + tagName(itemTag(in, pos)));
			long tableLength = in.u32(pos + 4, false);
			if (tableLength == UNDEFINED || pos + 8 + tableLength > s.fileSize)
				throw new DicomException(s.file, "the Basic Offset Table item at byte " + pos + " declares " + tableLength + " bytes, past the end " +
					"of the file (" + s.fileSize + " bytes)");
			pos += 8 + tableLength;
			List<long[]> fragments = new ArrayList<>();
			long total = 0;
			while (true) {
				in.need(pos, 8, "the fragments of PixelData (7FE0,0010) (no sequence delimiter FFFE,E0DD)");
				int tag = itemTag(in, pos);
				if (tag == SEQUENCE_END) break;
				if (tag != ITEM)
					throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + tagName(tag) + " at byte " + pos +
						" where a fragment item (FFFE,E000) or the sequence delimiter (FFFE,E0DD) belongs");
				long length = in.u32(pos + 4, false);
				if (length == UNDEFINED || pos + 8 + length > s.fileSize)
					throw new DicomException(s.file, "the PixelData fragment at byte " + pos + " declares " + length + " bytes, past the end of " +
						"the file (" + s.fileSize + " bytes)");
				fragments.add(new long[] { pos + 8, length });
				total += length;
				// Each step moves forward by at least 8 bytes, and the file's end bounds the loop.
				pos += 8 + length;
			}
			if (total == 0) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds no compressed data (no non-empty fragment)");
			if (total > MAX_VOXELS) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + total + " bytes, too many for one frame");
			byte[] frame = new byte[(int) total];
			int at = 0;
			for (long[] f : fragments) {
				ByteBuffer bb = ByteBuffer.wrap(frame, at, (int) f[1]);
				long p = f[0];
				while (bb.hasRemaining()) {
					int r = ch.read(bb, p);
					if (r < 0) throw new DicomException(s.file, "ends inside a PixelData fragment at byte " + p);
					p += r;
				}
				at += (int) f[1];
			}
			return frame;
		}
	}

	private static int itemTag(Bytes in, long pos) throws IOException {
		return (in.u16(pos, false) << 16) | in.u16(pos + 2, false);
	}

	/**
	 * Decodes a DICOM RLE Lossless frame (PS3.5 Annex G) into little-endian native pixel bytes. The
	 * 64-byte header holds the number of segments and up to 15 segment offsets; with one sample per
	 * pixel there is one segment per byte of the sample, most significant byte first. Each segment is
	 * PackBits: a control byte n in 0..127 copies the next n + 1 bytes, -127..-1 repeats the next byte
	 * 1 - n times, -128 does nothing.
	 */
	private static byte[] decodeRle(Slice s, byte[] frame, int pixels) throws DicomException {
		int bytesPerPixel = s.bitsAllocated / 8;
		if (frame.length < 64) throw new DicomException(s.file, "RLE frame of " + frame.length + " bytes, shorter than its 64-byte header");
		long segments = u32le(frame, 0);
		if (segments != bytesPerPixel)
			throw new DicomException(s.file, "RLE header declares " + segments + " segments, but one sample of " + s.bitsAllocated + " bits needs " +
				bytesPerPixel);
		long[] offsets = new long[bytesPerPixel + 1];
		for (int i = 0; i < bytesPerPixel; i++) offsets[i] = u32le(frame, 4 + 4 * i);
		offsets[bytesPerPixel] = frame.length;
		if (offsets[0] != 64) throw new DicomException(s.file, "RLE segment 1 starts at offset " + offsets[0] + ", not right after the 64-byte header");
		for (int i = 1; i <= bytesPerPixel; i++)
			if (offsets[i] <= offsets[i - 1] || offsets[i] > frame.length)
				throw new DicomException(s.file, "RLE segment offsets " + Arrays.toString(Arrays.copyOf(offsets, bytesPerPixel)) + " are not " +
					"increasing inside the frame of " + frame.length + " bytes");
		byte[] out = new byte[pixels * bytesPerPixel];
		for (int seg = 0; seg < bytesPerPixel; seg++) {
			// Segment 0 holds the most significant bytes; native little-endian order puts them last.
			int target = bytesPerPixel - 1 - seg;
			int p = (int) offsets[seg], end = (int) offsets[seg + 1], n = 0;
			while (n < pixels) {
				if (p >= end)
					throw new DicomException(s.file, "RLE segment " + (seg + 1) + " ends after " + n + " of its " + pixels + " bytes");
				int control = frame[p++];
				if (control >= 0) {
					int count = control + 1;
					if (p + count > end || n + count > pixels)
						throw new DicomException(s.file, "RLE segment " + (seg + 1) + " has a literal run of " + count + " bytes at offset " + (p - 1) +
							" that overruns its segment or its " + pixels + " pixels");
					for (int i = 0; i < count; i++) out[(n++) * bytesPerPixel + target] = frame[p++];
				}
				else if (control != -128) {
					int count = 1 - control;
					if (p >= end || n + count > pixels)
						throw new DicomException(s.file, "RLE segment " + (seg + 1) + " has a repeat run of " + count + " bytes at offset " + (p - 1) +
							" that overruns its segment or its " + pixels + " pixels");
					byte b = frame[p++];
					for (int i = 0; i < count; i++) out[(n++) * bytesPerPixel + target] = b;
				}
			}
		}
		return out;
	}

	static long u32le(byte[] b, int at) {
		return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
	}

	/**
	 * TwelveMonkeys' JPEG reader, registered here by hand: ImageIO may list the JDK's reader first
	 * (which cannot decode lossless JPEG), and in Fiji the registry may have been filled before our
	 * jars were on the class path.
	 */
	private static ImageReaderSpi twelveMonkeysJpeg() {
		synchronized (DicomSeries.class) {
			IIORegistry registry = IIORegistry.getDefaultInstance();
			JPEGImageReaderSpi spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			if (spi == null) {
				registry.registerServiceProvider(new JPEGImageReaderSpi());
				spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			}
			return spi;
		}
	}

	/**
	 * Drops 0xFF fill bytes before the final EOI marker (T.81 B.1.1.2 allows any number; dcmtk's
	 * dcmcjpeg writes one when the last code ends on a byte boundary). TwelveMonkeys 3.13.0 takes
	 * "FF FF" for a marker while it still holds the last code's bits, and leaves the frame's last
	 * pixel 0: seen on 9 of the 133 LIDC-IDRI-0001 slices compressed with dcmcjpeg. Fill bytes carry
	 * no data, so removing them changes nothing else.
	 */
	private static byte[] dropFillBeforeEndOfImage(byte[] frame) {
		int end = frame.length;
		while (end > 0 && frame[end - 1] == 0) end--; // fragments are padded to even length
		if (end < 4 || frame[end - 2] != (byte) 0xFF || frame[end - 1] != (byte) 0xD9) return frame;
		int data = end - 2;
		while (data > 0 && frame[data - 1] == (byte) 0xFF) data--;
		if (data == end - 2) return frame;
		byte[] out = Arrays.copyOf(frame, data + 2);
		out[data] = (byte) 0xFF;
		out[data + 1] = (byte) 0xD9;
		return out;
	}

	/** Decodes a JPEG Lossless (Process 14) frame into little-endian native pixel bytes. */
	private static byte[] decodeJpegLossless(Slice s, byte[] frame, int pixels) throws IOException {
		int bytesPerPixel = s.bitsAllocated / 8;
		ImageReader reader = twelveMonkeysJpeg().createReaderInstance();
		try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(dropFillBeforeEndOfImage(frame)))) {
			reader.setInput(stream, true, true);
			// The size comes from the JPEG header; check it before the decoder allocates anything.
			int w = reader.getWidth(0), h = reader.getHeight(0);
			if (w != s.cols || h != s.rows)
				throw new DicomException(s.file, "the JPEG Lossless frame is " + w + "x" + h + " pixels, but Columns x Rows say " + s.cols + "x" + s.rows);
			Raster raster = reader.canReadRaster() ? reader.readRaster(0, null) : reader.read(0).getRaster();
			if (raster.getWidth() != w || raster.getHeight() != h || raster.getNumBands() != 1)
				throw new DicomException(s.file, "the JPEG Lossless frame decodes to " + raster.getWidth() + "x" + raster.getHeight() + " pixels with " +
					raster.getNumBands() + " components; a CT slice has one");
			byte[] out = new byte[pixels * bytesPerPixel];
			int[] row = new int[w];
			for (int y = 0; y < h; y++) {
				raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
				for (int x = 0; x < w; x++) {
					int i = y * w + x, v = row[x];
					if (bytesPerPixel == 1) out[i] = (byte) v;
					else { out[2 * i] = (byte) v; out[2 * i + 1] = (byte) (v >> 8); }
				}
			}
			return out;
		}
		catch (DicomException e) {
			throw e;
		}
		catch (IOException | RuntimeException e) {
			// A corrupt stream makes decoders fail in many ways (IIOException, index errors); name the file either way.
			throw new DicomException(s.file, "the JPEG Lossless pixel data cannot be decoded: " + e);
		}
		finally {
			reader.dispose();
		}
	}

	// ---------------------------------------------------------------------------------------------
	// Parsing one file

	/** Parses a file's header up to its pixel data (the pixels are read later, only for the chosen series). */
	private static Slice readHeader(Path file) throws IOException {
		Slice s = new Slice(file);
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
			s.fileSize = ch.size();
			Bytes in = new Bytes(file, ch, s.fileSize);
			long start;
			int mode;
			if (s.fileSize >= 132 && in.u8(128) == 'D' && in.u8(129) == 'I' && in.u8(130) == 'C' && in.u8(131) == 'M') {
				start = readMetaGroup(in, 132, s);
				mode = modeOf(s.syntax);
			}
			else if (s.fileSize >= 8 && in.u16(0, false) == 0x0002) {
				start = readMetaGroup(in, 0, s);
				mode = modeOf(s.syntax);
			}
			else {
				// A raw dataset without preamble or meta group: old files, implicit VR unless the VR letters are there.
				start = 0;
				mode = s.fileSize >= 6 && isVr(in.u8(4), in.u8(5)) ? EXPLICIT : IMPLICIT;
				s.syntax = mode == EXPLICIT ? EXPLICIT_LE : IMPLICIT_LE;
			}
			s.datasetStart = start;
			if (DEFLATED_LE.equals(s.syntax)) {
				s.deflated = true;
				byte[] inflated = inflateDataset(file, start);
				Bytes mem = new Bytes(file, inflated);
				new Parser(file, mem, s).dataset(0, -1, EXPLICIT, 0);
			}
			else {
				s.bigEndian = mode == EXPLICIT_BIG;
				new Parser(file, in, s).dataset(start, -1, mode, 0);
			}
		}
		return s;
	}

	private static final int IMPLICIT = 0, EXPLICIT = 1, EXPLICIT_BIG = 2;

	private static int modeOf(String syntax) {
		if (IMPLICIT_LE.equals(syntax)) return IMPLICIT;
		if (EXPLICIT_BE.equals(syntax)) return EXPLICIT_BIG;
		// Explicit VR little endian, and every encapsulated syntax, whose datasets are explicit VR little endian too.
		return EXPLICIT;
	}

	/** Reads the file meta information (group 0002, always explicit VR little endian); returns where the dataset starts. */
	private static long readMetaGroup(Bytes in, long pos, Slice s) throws IOException {
		while (pos + 8 <= in.size && in.u16(pos, false) == 0x0002) {
			int element = in.u16(pos + 2, false);
			int c0 = in.u8(pos + 4), c1 = in.u8(pos + 5);
			if (!isVr(c0, c1))
				throw new DicomException(in.file, String.format(Locale.ROOT, "file meta element (0002,%04X) at byte %d has no valid VR " +
					"(bytes %02X %02X); the meta information must be explicit VR little endian", element, pos, c0, c1));
			long length, value;
			if (isLongVr(c0, c1)) {
				in.need(pos, 12, "file meta element (0002," + hex(element) + ")");
				length = in.u32(pos + 8, false);
				value = pos + 12;
			}
			else {
				length = in.u16(pos + 6, false);
				value = pos + 8;
			}
			if (length == UNDEFINED || value + length > in.size)
				throw new DicomException(in.file, "file meta element (0002," + hex(element) + ") at byte " + pos + " declares " + length +
					" bytes, but only " + (in.size - value) + " remain in the file");
			if (element == 0x0010) s.syntax = in.string(value, length, "TransferSyntaxUID (0002,0010)");
			else if (element == 0x0002) s.sopClass = in.string(value, length, "MediaStorageSOPClassUID (0002,0002)");
			pos = value + length;
		}
		if (s.syntax.isEmpty()) throw new DicomException(in.file, "the file meta information has no TransferSyntaxUID (0002,0010)");
		return pos;
	}

	/** Walks a dataset's elements, keeping the top-level values a slice needs and skipping everything else. */
	private static final class Parser {
		final Path file;
		final Bytes in;
		final Slice s;

		Parser(Path file, Bytes in, Slice s) {
			this.file = file;
			this.in = in;
			this.s = s;
		}

		/**
		 * Parses elements from {@code pos} up to {@code end}, or, with {@code end < 0}, up to an item
		 * delimiter (nested items) or the end of the file (the top level). Stops at the top-level
		 * PixelData. Returns the position after what it parsed.
		 */
		long dataset(long pos, long end, int mode, int depth) throws IOException {
			if (depth > MAX_DEPTH) throw new DicomException(file, "sequences nested deeper than " + MAX_DEPTH + " levels at byte " + pos);
			boolean big = mode == EXPLICIT_BIG;
			long limit = end < 0 ? in.size : end;
			while (pos < limit) {
				in.need(pos, 8, "an element header");
				int tag = (in.u16(pos, big) << 16) | in.u16(pos + 2, big);
				if (tag == ITEM_END) {
					if (depth > 0 && end < 0) return pos + 8;
					throw new DicomException(file, "an item delimiter (FFFE,E00D) at byte " + pos + " outside any item");
				}
				if (tag == ITEM || tag == SEQUENCE_END)
					throw new DicomException(file, "an item tag " + tagName(tag) + " at byte " + pos + " outside any sequence");
				long length, value;
				String vr = null;
				if (mode == IMPLICIT) {
					length = in.u32(pos + 4, false);
					value = pos + 8;
				}
				else {
					int c0 = in.u8(pos + 4), c1 = in.u8(pos + 5);
					if (!isVr(c0, c1))
						throw new DicomException(file, String.format(Locale.ROOT, "element %s at byte %d has no valid VR (bytes %02X %02X): " +
							"the file is damaged, or not in its declared transfer syntax %s", tagName(tag), pos, c0, c1, s.syntax));
					vr = "" + (char) c0 + (char) c1;
					if (isLongVr(c0, c1)) {
						in.need(pos, 12, "element " + tagName(tag));
						length = in.u32(pos + 8, big);
						value = pos + 12;
					}
					else {
						length = in.u16(pos + 6, big);
						value = pos + 8;
					}
				}
				if (tag == PIXEL_DATA && depth == 0) {
					// Compressed pixel data has undefined length (fragments); it is refused later, naming its syntax.
					if (length != UNDEFINED && value + length > in.size)
						throw pastEnd(tag, pos, value, length);
					s.pixelOffset = value;
					s.pixelLength = length == UNDEFINED ? -1 : length;
					return in.size;
				}
				if (length == UNDEFINED) {
					// Only sequences (and UN holding one) may have undefined length; in implicit VR it always means SQ.
					if (vr != null && !"SQ".equals(vr) && !"UN".equals(vr))
						throw new DicomException(file, "element " + tagName(tag) + " at byte " + pos + " has VR " + vr +
							" with undefined length; only sequences may");
					if (tag == 0x00041220) s.directoryRecords = true;
					pos = sequence(value, "UN".equals(vr) ? IMPLICIT : mode, depth + 1, tag);
					continue;
				}
				if ((length & 1) != 0)
					throw new DicomException(file, "element " + tagName(tag) + " at byte " + pos + " has an odd length " + length +
						"; DICOM values have even lengths, so the file is damaged");
				if (value + length > limit) throw pastEnd(tag, pos, value, length);
				if (depth == 0) keep(tag, value, length, big);
				else if (tag == 0x00041220) s.directoryRecords = true;
				pos = value + length;
			}
			if (end < 0 && depth > 0)
				throw new DicomException(file, "an item of undefined length runs to the end of the file without its delimiter (FFFE,E00D)");
			return pos;
		}

		/** Skips a sequence of undefined length: items (each of defined or undefined length) up to the sequence delimiter. */
		long sequence(long pos, int mode, int depth, int owner) throws IOException {
			if (depth > MAX_DEPTH) throw new DicomException(file, "sequences nested deeper than " + MAX_DEPTH + " levels at byte " + pos);
			boolean big = mode == EXPLICIT_BIG;
			if (owner == 0x00041220) s.directoryRecords = true;
			while (true) {
				if (pos + 8 > in.size)
					throw new DicomException(file, "the sequence " + tagName(owner) + " of undefined length runs to the end of the file " +
						"without its delimiter (FFFE,E0DD)");
				int tag = (in.u16(pos, big) << 16) | in.u16(pos + 2, big);
				long length = in.u32(pos + 4, big);
				if (tag == SEQUENCE_END) return pos + 8;
				if (tag != ITEM)
					throw new DicomException(file, "the sequence " + tagName(owner) + " holds " + tagName(tag) + " at byte " + pos +
						" where an item (FFFE,E000) or the sequence delimiter (FFFE,E0DD) belongs");
				if (length == UNDEFINED) pos = dataset(pos + 8, -1, mode, depth);
				else {
					if (pos + 8 + length > in.size) throw pastEnd(tag, pos, pos + 8, length);
					pos += 8 + length;
				}
			}
		}

		private DicomException pastEnd(int tag, long pos, long value, long length) {
			String name = tag == PIXEL_DATA ? "PixelData " + tagName(tag) : "element " + tagName(tag);
			return new DicomException(file, name + " at byte " + pos + " declares " + length + " bytes, but only " +
				Math.max(0, in.size - value) + " remain in the file (" + in.size + " bytes): the file is truncated or damaged");
		}

		private void keep(int tag, long value, long length, boolean big) throws IOException {
			switch (tag) {
			case 0x00080008: s.imageType = str(value, length, "ImageType (0008,0008)"); break;
			case 0x00080016: if (s.sopClass.isEmpty()) s.sopClass = str(value, length, "SOPClassUID (0008,0016)"); break;
			case 0x00080060: s.modality = str(value, length, "Modality (0008,0060)"); break;
			case 0x0008103E: s.description = str(value, length, "SeriesDescription (0008,103E)"); break;
			case 0x0020000E: s.seriesUid = str(value, length, "SeriesInstanceUID (0020,000E)"); break;
			case 0x00180050: {
				double[] t = numbers(value, length, "SliceThickness (0018,0050)", -1);
				if (t.length > 0) s.sliceThickness = t[0];
				break;
			}
			case 0x00200032: s.position = numbers(value, length, "ImagePositionPatient (0020,0032)", 3); break;
			case 0x00200037: s.orientation = numbers(value, length, "ImageOrientationPatient (0020,0037)", 6); break;
			case 0x00280030: s.pixelSpacing = numbers(value, length, "PixelSpacing (0028,0030)", 2); break;
			case 0x00280002: s.samples = ushort(value, length, big, "SamplesPerPixel (0028,0002)"); break;
			case 0x00280004: s.photometric = str(value, length, "PhotometricInterpretation (0028,0004)"); break;
			case 0x00280008: {
				double[] f = numbers(value, length, "NumberOfFrames (0028,0008)", -1);
				if (f.length > 0) s.frames = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, f[0]));
				break;
			}
			case 0x00280010: s.rows = ushort(value, length, big, "Rows (0028,0010)"); break;
			case 0x00280011: s.cols = ushort(value, length, big, "Columns (0028,0011)"); break;
			case 0x00280100: s.bitsAllocated = ushort(value, length, big, "BitsAllocated (0028,0100)"); break;
			case 0x00280101: s.bitsStored = ushort(value, length, big, "BitsStored (0028,0101)"); break;
			case 0x00280103: s.pixelRepresentation = ushort(value, length, big, "PixelRepresentation (0028,0103)"); break;
			case 0x00281052: {
				double[] v = numbers(value, length, "RescaleIntercept (0028,1052)", -1);
				if (v.length > 0) s.intercept = v[0];
				break;
			}
			case 0x00281053: {
				double[] v = numbers(value, length, "RescaleSlope (0028,1053)", -1);
				if (v.length > 0) s.slope = v[0];
				break;
			}
			default:
			}
		}

		private String str(long value, long length, String what) throws IOException {
			return in.string(value, length, what);
		}

		private int ushort(long value, long length, boolean big, String what) throws IOException {
			if (length != 2) throw new DicomException(file, what + " has " + length + " bytes; an unsigned short has 2");
			in.need(value, 2, what);
			return in.u16(value, big);
		}

		/** A DS/IS value: numbers separated by backslashes; {@code count} of them, or any number when -1. */
		private double[] numbers(long value, long length, String what, int count) throws IOException {
			String text = in.string(value, length, what);
			if (text.isEmpty()) {
				if (count < 0) return new double[0];
				throw new DicomException(file, what + " is empty");
			}
			String[] parts = text.split("\\\\");
			if (count >= 0 && parts.length != count)
				throw new DicomException(file, what + " has " + parts.length + " value(s), \"" + text + "\"; it needs " + count);
			double[] out = new double[parts.length];
			for (int i = 0; i < parts.length; i++) {
				try {
					out[i] = Double.parseDouble(parts[i].trim());
				}
				catch (NumberFormatException e) {
					throw new DicomException(file, what + " is not a list of numbers: \"" + text + "\"");
				}
				if (!Double.isFinite(out[i])) throw new DicomException(file, what + " is not finite: \"" + text + "\"");
			}
			return out;
		}
	}

	/** Random access to a file (through a window, so headers of large files cost one small read) or to bytes in memory. */
	private static final class Bytes {
		final Path file;
		final long size;
		private final FileChannel channel;
		private byte[] window;
		private long windowStart;
		private int windowLength;

		Bytes(Path file, FileChannel channel, long size) {
			this.file = file;
			this.channel = channel;
			this.size = size;
			this.window = new byte[0];
		}

		Bytes(Path file, byte[] data) {
			this.file = file;
			this.channel = null;
			this.size = data.length;
			this.window = data;
			this.windowLength = data.length;
		}

		/** Makes bytes [pos, pos + n) readable, or fails naming what was being read. */
		void need(long pos, long n, String what) throws IOException {
			if (pos < 0 || n < 0 || pos + n > size)
				throw new DicomException(file, "ends at byte " + size + " inside " + what + " at byte " + pos + ": the file is truncated");
			if (pos >= windowStart && pos + n <= windowStart + windowLength) return;
			if (channel == null) throw new IllegalStateException("in-memory bytes are all loaded");
			int length = (int) Math.min(size - pos, Math.max(n, WINDOW));
			if (window.length < length) window = new byte[length];
			ByteBuffer bb = ByteBuffer.wrap(window, 0, length);
			long at = pos;
			while (bb.hasRemaining()) {
				int r = channel.read(bb, at);
				if (r < 0) throw new DicomException(file, "ends unexpectedly at byte " + at + " (it shrank while being read)");
				at += r;
			}
			windowStart = pos;
			windowLength = length;
		}

		int u8(long pos) throws IOException {
			need(pos, 1, "a byte");
			return window[(int) (pos - windowStart)] & 0xFF;
		}

		int u16(long pos, boolean big) throws IOException {
			need(pos, 2, "a 16-bit value");
			int i = (int) (pos - windowStart);
			int a = window[i] & 0xFF, b = window[i + 1] & 0xFF;
			return big ? (a << 8) | b : a | (b << 8);
		}

		long u32(long pos, boolean big) throws IOException {
			need(pos, 4, "a 32-bit value");
			int i = (int) (pos - windowStart);
			long a = window[i] & 0xFF, b = window[i + 1] & 0xFF, c = window[i + 2] & 0xFF, d = window[i + 3] & 0xFF;
			return big ? (a << 24) | (b << 16) | (c << 8) | d : a | (b << 8) | (c << 16) | (d << 24);
		}

		/** A text value, without the space/NUL padding DICOM adds to reach an even length. */
		String string(long pos, long length, String what) throws IOException {
			if (length > MAX_INTERPRETED_VALUE)
				throw new DicomException(file, what + " at byte " + pos + " declares " + length + " bytes, far more than such a value holds");
			need(pos, length, what);
			String text = new String(window, (int) (pos - windowStart), (int) length, StandardCharsets.ISO_8859_1);
			int end = text.length();
			while (end > 0 && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\0')) end--;
			int start = 0;
			while (start < end && text.charAt(start) == ' ') start++;
			return text.substring(start, end);
		}
	}

	/** Inflates a deflated dataset (raw deflate, no zlib header), refusing more output than one slice can need. */
	private static byte[] inflateDataset(Path file, long start) throws IOException {
		long size = Files.size(file);
		if (size - start > MAX_INFLATED) throw new DicomException(file, "a deflated dataset of " + (size - start) + " bytes is too large");
		byte[] compressed;
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
			compressed = new byte[(int) (size - start)];
			ByteBuffer bb = ByteBuffer.wrap(compressed);
			long at = start;
			while (bb.hasRemaining()) {
				int r = ch.read(bb, at);
				if (r < 0) throw new DicomException(file, "ends unexpectedly at byte " + at);
				at += r;
			}
		}
		Inflater inflater = new Inflater(true);
		try {
			inflater.setInput(compressed);
			ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, compressed.length * 4));
			byte[] chunk = new byte[64 * 1024];
			while (!inflater.finished()) {
				int n = inflater.inflate(chunk);
				if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
				out.write(chunk, 0, n);
				if (out.size() > MAX_INFLATED)
					throw new DicomException(file, "the deflated dataset inflates to more than " + (MAX_INFLATED >> 20) + " MB; a bogus or hostile file");
			}
			if (!inflater.finished())
				throw new DicomException(file, "the deflated dataset (transfer syntax " + DEFLATED_LE + ") stops before its end: the file is truncated");
			return out.toByteArray();
		}
		catch (DataFormatException e) {
			throw new DicomException(file, "the deflated dataset (transfer syntax " + DEFLATED_LE + ") is corrupt: " + e.getMessage(), e);
		}
		finally {
			inflater.end();
		}
	}

	// ---------------------------------------------------------------------------------------------
	// Small helpers

	private static boolean looksLikeRawDataset(byte[] head) {
		if (head.length < 16) return false;
		int group = (head[0] & 0xFF) | ((head[1] & 0xFF) << 8);
		int element = (head[2] & 0xFF) | ((head[3] & 0xFF) << 8);
		if (group != 0x0008 && group != 0x0002) return false;
		long length;
		int value;
		if (isVr(head[4] & 0xFF, head[5] & 0xFF)) {
			if (isLongVr(head[4] & 0xFF, head[5] & 0xFF)) return false; // a first element of group 0002/0008 is never OB/SQ/UN...
			length = (head[6] & 0xFF) | ((head[7] & 0xFF) << 8);
			value = 8;
		}
		else {
			length = (head[4] & 0xFFL) | ((head[5] & 0xFFL) << 8) | ((head[6] & 0xFFL) << 16) | ((head[7] & 0xFFL) << 24);
			value = 8;
		}
		if (length > 1024 || (length & 1) != 0 || value + length + 4 > head.length) return false;
		int nextGroup = (head[(int) (value + length)] & 0xFF) | ((head[(int) (value + length) + 1] & 0xFF) << 8);
		int nextElement = (head[(int) (value + length) + 2] & 0xFF) | ((head[(int) (value + length) + 3] & 0xFF) << 8);
		return nextGroup > group || (nextGroup == group && nextElement > element);
	}

	private static boolean isVr(int c0, int c1) {
		return c0 >= 'A' && c0 <= 'Z' && c1 >= 'A' && c1 <= 'Z' && VRS.contains("" + (char) c0 + (char) c1);
	}

	private static final Set<String> VRS = Set.of("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
		"OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV");

	/** VRs whose explicit encoding has two reserved bytes and a 32-bit length. */
	private static boolean isLongVr(int c0, int c1) {
		String vr = "" + (char) c0 + (char) c1;
		switch (vr) {
		case "OB": case "OD": case "OF": case "OL": case "OV": case "OW": case "SQ": case "SV": case "UC": case "UN": case "UR": case "UT": case "UV":
			return true;
		default:
			return false;
		}
	}

	private static String tagName(int tag) {
		return "(" + hex(tag >>> 16) + "," + hex(tag & 0xFFFF) + ")";
	}

	private static String hex(int v) {
		return String.format(Locale.ROOT, "%04X", v);
	}

	private static double dot(double[] a, double[] b) {
		return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
	}

	private static double norm(double[] a) {
		return Math.sqrt(dot(a, a));
	}

	private static double[] cross(double[] a, double[] b) {
		return new double[] { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
	}
}
