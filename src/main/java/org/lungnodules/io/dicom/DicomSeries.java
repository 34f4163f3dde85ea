package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.TransferSyntax.COMPRESSED;
import static org.lungnodules.io.dicom.TransferSyntax.LOSSY_JPEG;
import static org.lungnodules.io.dicom.TransferSyntax.isDecodedEncapsulated;
import static org.lungnodules.io.dicom.TransferSyntax.isNative;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;

import net.imglib2.img.array.ArrayImgs;

/**
 * Reads a CT stored as a DICOM series (one slice per file): finds the files of one series, checks that they form
 * one even stack, and puts their slices together. The files are parsed by {@link Part10}, their pixels decoded by
 * {@link PixelData}; {@link CtReader} is the product's way in.
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
	/** The Media Storage Directory SOP class: a DICOMDIR, an index of files rather than an image. */
	private static final String DICOMDIR_CLASS = "1.2.840.10008.1.3.10";

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
		Map<String, List<DicomHeader>> bySeries = scan.bySeries();
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
		for (Map.Entry<String, List<DicomHeader>> e : scan.bySeries().entrySet()) {
			DicomHeader first = e.getValue().get(0);
			infos.add(new SeriesInfo(e.getKey(), e.getValue().size(), nonNull(first.description), nonNull(first.modality)));
		}
		return infos;
	}

	/**
	 * True for a DICOM Part 10 file ("DICM" after the 128-byte preamble) or a file that plausibly
	 * starts with a raw DICOM dataset (no preamble, as some old scanners wrote them).
	 */
	public static boolean isDicomFile(Path file) {
		return Part10.isDicomFile(file);
	}

	// ---------------------------------------------------------------------------------------------
	// Finding the files of a series

	/** The DICOM image files of a folder, grouped by series, and what was skipped. */
	private static final class Scan {
		Path folder;
		Path givenFile;
		String givenSeries;
		final List<DicomHeader> slices = new ArrayList<>();
		final List<String> notes = new ArrayList<>();

		Map<String, List<DicomHeader>> bySeries() {
			Map<String, List<DicomHeader>> map = new LinkedHashMap<>();
			for (DicomHeader s : slices) map.computeIfAbsent(s.seriesUid, k -> new ArrayList<>()).add(s);
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
			DicomHeader given = Part10.readHeader(fileOrFolder);
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
			DicomHeader slice = Part10.readHeader(file);
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

	private static String describeNonImage(DicomHeader s) {
		if (DICOMDIR_CLASS.equals(s.sopClass) || s.directoryRecords) return "a DICOMDIR, an index of files";
		return "no PixelData (7FE0,0010)" + (s.sopClass.isEmpty() ? "" : "; SOP class " + s.sopClass);
	}

	private static String requireSeriesUid(DicomHeader s) throws DicomException {
		if (s.seriesUid == null || s.seriesUid.isEmpty())
			throw new DicomException(s.file, "an image without a SeriesInstanceUID (0020,000E), so its series cannot be told");
		return s.seriesUid;
	}

	private static boolean matches(String uid, String wanted) {
		return uid.equals(wanted) || uid.startsWith(wanted) || uid.endsWith(wanted);
	}

	private static String pickSeries(Path folder, Map<String, List<DicomHeader>> bySeries, String wanted) throws DicomException {
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

	private static String listing(Map<String, List<DicomHeader>> bySeries) {
		StringBuilder sb = new StringBuilder();
		for (Map.Entry<String, List<DicomHeader>> e : bySeries.entrySet()) {
			DicomHeader first = e.getValue().get(0);
			sb.append("\n  ").append(new SeriesInfo(e.getKey(), e.getValue().size(), nonNull(first.description), nonNull(first.modality)));
		}
		return sb.toString();
	}

	private static String nonNull(String s) {
		return s == null ? "" : s;
	}

	// ---------------------------------------------------------------------------------------------
	// Putting the slices of one series together

	private static CtVolume assemble(Path folder, String uid, List<DicomHeader> all, List<String> notes) throws IOException {
		for (DicomHeader s : all) {
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
		List<DicomHeader> slices = new ArrayList<>();
		for (DicomHeader s : all) {
			if (Arrays.asList(s.imageType.toUpperCase(Locale.ROOT).split("\\\\")).contains("LOCALIZER"))
				notes.add(s.file + ": left out: a localizer (scout) image, ImageType " + s.imageType);
			else slices.add(s);
		}
		if (slices.isEmpty()) throw new DicomException(folder, "series " + uid + " holds only localizer (scout) images");
		for (DicomHeader s : slices) requireGeometry(s);
		slices = dropOtherPlanes(folder, slices, notes);
		checkSameFormat(slices);
		DicomHeader first = slices.get(0);
		double[] row = Arrays.copyOfRange(first.orientation, 0, 3), col = Arrays.copyOfRange(first.orientation, 3, 6);
		double[] normal = first.normal;
		slices.sort(Comparator.comparingDouble((DicomHeader s) -> s.along).thenComparing(s -> s.file));
		double zSpacing = checkStack(folder, slices, notes);
		DicomHeader lowest = slices.get(0);
		double[] direction = { row[0], col[0], normal[0], row[1], col[1], normal[1], row[2], col[2], normal[2] };
		// PixelSpacing is (row spacing, column spacing) = (y, x).
		Geometry geometry = new Geometry(lowest.position.clone(), new double[] { lowest.pixelSpacing[1], lowest.pixelSpacing[0], zSpacing },
			direction);
		return readPixels(slices, geometry, uid);
	}


	private static void requireGeometry(DicomHeader s) throws DicomException {
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

	private static DicomException missing(DicomHeader s, String what) {
		return new DicomException(s.file, "an image without " + what + ", so it cannot be placed in a volume");
	}

	/**
	 * Keeps the slices of the majority orientation. Images in a clearly different plane (a coronal
	 * or sagittal scout among axial slices) are left out with a note; slices only slightly turned
	 * against the others are an error, because they mean a broken or tilted stack rather than an
	 * extra image.
	 */
	private static List<DicomHeader> dropOtherPlanes(Path folder, List<DicomHeader> slices, List<String> notes) throws DicomException {
		List<List<DicomHeader>> groups = new ArrayList<>();
		for (DicomHeader s : slices) {
			List<DicomHeader> home = null;
			for (List<DicomHeader> g : groups)
				if (sameOrientation(g.get(0).orientation, s.orientation)) home = g;
			if (home == null) groups.add(home = new ArrayList<>());
			home.add(s);
		}
		if (groups.size() == 1) return slices;
		groups.sort(Comparator.comparingInt((List<DicomHeader> g) -> -g.size()));
		List<DicomHeader> major = groups.get(0);
		if (major.size() == groups.get(1).size())
			throw new DicomException(folder, "slices are not parallel: " + major.size() + " slices have ImageOrientationPatient " +
				Arrays.toString(major.get(0).orientation) + " (e.g. " + major.get(0).name() + ") and as many have " +
				Arrays.toString(groups.get(1).get(0).orientation) + " (e.g. " + groups.get(1).get(0).name() + ")");
		double cosLimit = Math.cos(Math.toRadians(SCOUT_MIN_ANGLE_DEG));
		for (List<DicomHeader> g : groups.subList(1, groups.size())) {
			for (DicomHeader s : g) {
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

	private static void checkSameFormat(List<DicomHeader> slices) throws DicomException {
		DicomHeader f = slices.get(0);
		for (DicomHeader s : slices) {
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
	private static double checkStack(Path folder, List<DicomHeader> slices, List<String> notes) throws DicomException {
		DicomHeader first = slices.get(0);
		double[] n = first.normal;
		for (DicomHeader s : slices) {
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
			DicomHeader a = slices.get(i - 1), b = slices.get(i);
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
			DicomHeader a = slices.get(i), b = slices.get(i + 1);
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

	private static CtVolume readPixels(List<DicomHeader> slices, Geometry geometry, String uid) throws IOException {
		DicomHeader f = slices.get(0);
		int w = f.cols, h = f.rows, d = slices.size();
		long plane = (long) w * h;
		if (plane * d > PixelData.MAX_VOXELS)
			throw new DicomException(f.file, "the series has " + w + "x" + h + "x" + d + " voxels, more than one image can hold (2^31)");
		short[] shorts = new short[(int) (plane * d)];
		float[] floats = null;
		int[] stored = new int[(int) plane];
		for (int z = 0; z < d; z++) {
			DicomHeader s = slices.get(z);
			PixelData.readStored(s, stored);
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
