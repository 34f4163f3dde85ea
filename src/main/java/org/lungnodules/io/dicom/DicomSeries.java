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
 * Reads a CT stored as DICOM: a series of single-frame files, or Enhanced CT / Legacy Converted Enhanced CT multi-frame
 * files (one or several per series). Finds the images of one series (or one stack of a multi-frame file), checks that
 * they form one even stack, and puts their slices together. The files are parsed by {@link Part10}, their pixels
 * decoded by {@link PixelData}; {@link CtReader} is the product's way in.
 * <p>
 * Transfer syntaxes: implicit VR little endian, explicit VR little endian, explicit VR big endian, deflated explicit VR
 * little endian, and bare datasets without preamble or file meta (explicit or implicit VR told by the bytes); of the
 * compressed ones RLE Lossless, JPEG Lossless (.57, .70), JPEG 2000 lossless (.90) and JPEG-LS lossless (.80). Lossy
 * JPEG (.50, .51), JPEG 2000 irreversible (.91) and JPEG-LS near-lossless (.81) are refused unless the lossy opt-in is
 * given, because they change HU values; every other compressed syntax is refused, naming it. Pixels: one sample of 8 or
 * 16 bits, signed or unsigned, MONOCHROME2.
 * <p>
 * Multi-frame files: each frame is placed by its Per-frame Functional Groups (PlanePosition, PlaneOrientation,
 * PixelMeasures, PixelValueTransformation), falling back to the Shared Functional Groups and then the top level.
 * Frames of several stacks (FrameContent StackID) are listed and chosen like series, as "SeriesInstanceUID#StackID".
 * <p>
 * The volume follows what LUNA16's {@code .mhd} files hold (SimpleITK's series reading): slices
 * sorted along the slice normal (the cross product of the two ImageOrientationPatient cosines) by
 * the projection of ImagePositionPatient, never by file name, InstanceNumber or SliceLocation;
 * x spacing = PixelSpacing[1] (between columns), y spacing = PixelSpacing[0] (between rows), z
 * spacing from the positions; origin = the position of the lowest slice along the normal; direction
 * columns = row cosines, column cosines, normal. World coordinates are DICOM patient (LPS) mm,
 * which is LUNA16's world. HU = stored x RescaleSlope + RescaleIntercept, kept as 16-bit integers
 * when every HU value is an integer in that range, else as floats.
 * <p>
 * A gantry-tilted stack (parallel, evenly spaced slices, each shifted in its plane by the same step) is resampled as
 * dcm2niix's tilt correction does: each slice is moved within its own plane by linear interpolation onto an orthogonal
 * grid with more rows (or columns), values rounded to integer HU, uncovered voxels the series' lowest HU; a note says so.
 * <p>
 * Anything wrong fails with a {@link DicomException} naming the file(s) and the problem before any
 * volume is returned: several series in one folder, missing slices or uneven spacing, irregular
 * shifts or non-parallel slices, mixed sizes, duplicate positions, non-CT modalities, truncated or malformed
 * files. Localizer (scout) images are left out, and non-DICOM files (DICOMDIR, notes) are skipped,
 * each with a note in {@link CtReader.ReadCt#notes()}. A file given as input reads its own series: other series'
 * files beside it, readable or not, are at most a note.
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
		return read(fileOrFolder, seriesUid, false);
	}

	/**
	 * Reads a DICOM series into a CT volume, as {@link #read(Path, String)}.
	 *
	 * @param acceptLossy decode lossy-compressed pixel data (lossy JPEG, JPEG 2000 irreversible, JPEG-LS
	 *        near-lossless) instead of refusing it; the result is then flagged lossy, with a note
	 */
	public static CtReader.ReadCt read(Path fileOrFolder, String seriesUid, boolean acceptLossy) throws IOException {
		Scan scan = scan(fileOrFolder);
		Map<String, List<Slice>> bySeries = scan.bySeries();
		String wanted = seriesUid == null ? "" : seriesUid.trim();
		String uid;
		if (scan.givenFile != null && bySeries.size() == 1) {
			uid = bySeries.keySet().iterator().next();
			if (!wanted.isEmpty() && !matches(uid, wanted))
				throw new DicomException(fileOrFolder, "series=" + wanted + " was asked for, but this file belongs to series " + uid);
		}
		else uid = pickSeries(fileOrFolder, bySeries, wanted);
		List<String> notes = new ArrayList<>(scan.notes);
		long others = scan.slices.stream().map(Slice::file).distinct().count() - bySeries.get(uid).stream().map(Slice::file).distinct().count();
		if (bySeries.size() > 1 && scan.givenFile == null)
			notes.add(scan.folder + ": left out " + others + " file(s) of " + (bySeries.size() - 1) + " other series" +
				(others == 0 ? " (stacks of the same multi-frame file)" : ""));
		boolean[] lossy = { false };
		List<Slice> used = new ArrayList<>();
		CtVolume volume = assemble(scan.folder, uid, dropCopiesOfGiven(scan.givenFile, bySeries.get(uid), notes), notes, acceptLossy, lossy, used);
		return new CtReader.ReadCt(volume, CtReader.Format.DICOM, notes, lossy[0], sourceImages(used));
	}

	/**
	 * With a file given as input: other files of its series that hold an image at the same place (the same image
	 * stored again, in another encoding) are left out with a note, so the file given is the one read.
	 */
	private static List<Slice> dropCopiesOfGiven(Path given, List<Slice> slices, List<String> notes) {
		if (given == null) return slices;
		Path g = given.toAbsolutePath().normalize();
		List<Slice> mine = new ArrayList<>();
		for (Slice s : slices)
			if (s.file().toAbsolutePath().normalize().equals(g)) mine.add(s);
		List<Slice> kept = new ArrayList<>();
		for (Slice s : slices) {
			boolean copy = false;
			if (!mine.contains(s) && s.position != null && s.orientation != null)
				for (Slice m : mine)
					if (m.position != null && m.orientation != null && samePlace(m, s)) copy = true;
			if (copy) notes.add(s.where() + ": left out: an image at the same position as the file given, " + given.getFileName() +
				" (the same image stored again?)");
			else kept.add(s);
		}
		return kept;
	}

	private static boolean samePlace(Slice a, Slice b) {
		for (int i = 0; i < 3; i++)
			if (Math.abs(a.position[i] - b.position[i]) > DUPLICATE_MM) return false;
		return sameOrientation(a.orientation, b.orientation);
	}

	/** What derived objects need of the series as read: its UIDs, patient and study, one image per volume slice. */
	private static SourceImages sourceImages(List<Slice> slices) {
		DicomHeader first = slices.get(0).header;
		List<SourceImages.Image> images = new ArrayList<>();
		for (Slice s : slices) images.add(new SourceImages.Image(s.header.sopClass, s.header.sopInstanceUid, s.frame));
		return new SourceImages(first.studyUid, nonNull(first.seriesUid), first.frameOfReferenceUid, first.patientAndStudy, images);
	}

	/**
	 * The series in a folder (or, for a file, the series of that file within its folder), in the
	 * order their first file sorts by name. Only headers are parsed, up to the pixel data.
	 */
	public static List<SeriesInfo> listSeries(Path fileOrFolder) throws IOException {
		Scan scan = scan(fileOrFolder);
		List<SeriesInfo> infos = new ArrayList<>();
		for (Map.Entry<String, List<Slice>> e : scan.bySeries().entrySet()) {
			DicomHeader first = e.getValue().get(0).header;
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
		final List<Slice> slices = new ArrayList<>();
		final List<String> notes = new ArrayList<>();

		/**
		 * The images by series; a series whose multi-frame files hold several stacks (StackID) is split into one
		 * entry per stack, keyed "SeriesInstanceUID#StackID", listed and chosen like series.
		 */
		Map<String, List<Slice>> bySeries() {
			Map<String, java.util.Set<String>> stacks = new LinkedHashMap<>();
			for (Slice s : slices) stacks.computeIfAbsent(s.header.seriesUid, k -> new java.util.LinkedHashSet<>()).add(nonNull(s.stackId));
			Map<String, List<Slice>> map = new LinkedHashMap<>();
			for (Slice s : slices) {
				String key = s.header.seriesUid;
				if (stacks.get(key).size() > 1) key += "#" + nonNull(s.stackId);
				map.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
			}
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
			noteStrayBytes(given, scan.notes);
		}
		try (Stream<Path> s = Files.list(scan.folder)) {
			files = s.filter(p -> !Files.isDirectory(p)).sorted().collect(Collectors.toList());
		}
		Path given = scan.givenFile == null ? null : scan.givenFile.toAbsolutePath().normalize();
		int foreign = 0;
		for (Path file : files) {
			String name = String.valueOf(file.getFileName());
			boolean isGiven = given != null && file.toAbsolutePath().normalize().equals(given);
			DicomHeader header;
			try {
				if (!isDicomFile(file)) {
					String lower = name.toLowerCase(Locale.ROOT);
					if (lower.endsWith(".dcm") || lower.endsWith(".dicom"))
						throw new DicomException(file, "named as a DICOM file but is not one (no \"DICM\" after a 128-byte preamble, and no " +
							"DICOM dataset at its start; " + Files.size(file) + " bytes)");
					scan.notes.add(scan.folder + ": skipped " + name + ": not a DICOM file");
					continue;
				}
				header = Part10.readHeader(file);
				if (header.pixelOffset < 0) {
					scan.notes.add(scan.folder + ": skipped " + name + ": a DICOM file without an image (" + describeNonImage(header) + ")");
					continue;
				}
				requireSeriesUid(header);
			}
			catch (IOException e) {
				// A file given as input reads its own series: another file of the folder that cannot be read is a note.
				if (scan.givenSeries == null || isGiven) throw e;
				scan.notes.add(scan.folder + ": skipped " + name + ", which cannot be read (" + e.getMessage() + ")");
				continue;
			}
			if (scan.givenSeries != null && !scan.givenSeries.equals(header.seriesUid)) {
				foreign++;
				continue;
			}
			if (scan.givenSeries == null) noteStrayBytes(header, scan.notes);
			scan.slices.addAll(slicesOf(header));
		}
		if (foreign > 0)
			scan.notes.add(scan.folder + ": left out " + foreign + " file(s) of other series (the file given reads its own series)");
		if (scan.slices.isEmpty())
			throw new DicomException(fileOrFolder, "no DICOM images here" + (scan.notes.isEmpty() ? "" : " (" + scan.notes.size() +
				" file(s) skipped as not DICOM images)"));
		return scan;
	}

	private static void noteStrayBytes(DicomHeader h, List<String> notes) {
		if (h.strayLeadingBytes > 0)
			notes.add(h.file + ": a bare dataset without preamble or file meta, after " + h.strayLeadingBytes + " stray byte(s) that were skipped");
	}

	/** One image plane of a series: a single-frame file, or one frame of a multi-frame file, with its geometry and HU rescale. */
	static final class Slice {
		final DicomHeader header;
		/** The 1-based frame of a multi-frame file; 0 for a single-frame file. */
		final int frame;
		double[] position, orientation, pixelSpacing;
		double slope, intercept, thickness;
		String imageType, stackId;
		double[] normal;
		double along;

		Slice(DicomHeader header, int frame) {
			this.header = header;
			this.frame = frame;
		}

		Path file() { return header.file; }

		/** The file's name, and the frame in a multi-frame file. */
		String name() {
			return header.name() + (frame > 0 ? " frame " + frame : "");
		}

		/** The file, and the frame in a multi-frame file, for messages. */
		String where() {
			return header.file + (frame > 0 ? " frame " + frame : "");
		}
	}

	/**
	 * The image planes of a file: itself, or, for a multi-frame file with functional groups (Enhanced CT, Legacy
	 * Converted Enhanced CT), one per frame, whose geometry and rescale come from its Per-frame Functional Groups item,
	 * else from the Shared Functional Groups, else from the top-level attributes.
	 */
	static List<Slice> slicesOf(DicomHeader h) throws DicomException {
		if (!h.hasFunctionalGroups()) {
			if (h.frames > 1)
				throw new DicomException(h.file, "a multi-frame image (NumberOfFrames " + h.frames + ") without functional groups " +
					"(no Shared or Per-frame Functional Groups Sequence, 5200,9229 / 5200,9230), so its frames cannot be placed; " +
					"this reader takes single-frame CT and Enhanced (or Legacy Converted Enhanced) CT");
			Slice s = new Slice(h, 0);
			s.position = h.position;
			s.orientation = h.orientation;
			s.pixelSpacing = h.pixelSpacing;
			s.slope = h.slope;
			s.intercept = h.intercept;
			s.thickness = h.sliceThickness;
			s.imageType = h.imageType;
			return List.of(s);
		}
		if (h.frames < 1 || h.frames > Part10.MAX_FRAMES)
			throw new DicomException(h.file, "NumberOfFrames (0028,0008) is " + h.frames);
		// A bogus frame count must not make a million slices: the pixel data has to be able to hold the frames.
		long frameBytes = (long) Math.max(0, h.rows) * Math.max(0, h.cols) * Math.max(1, h.bitsAllocated / 8);
		if (h.pixelLength >= 0 && frameBytes > 0 && frameBytes * h.frames > h.pixelLength + 1)
			throw new DicomException(h.file, "NumberOfFrames (0028,0008) is " + h.frames + ", but PixelData (7FE0,0010) holds " + h.pixelLength +
				" bytes, enough for " + (h.pixelLength / frameBytes) + " frame(s) of " + h.cols + "x" + h.rows);
		if (h.pixelLength < 0 && h.frames > (h.fileSize - h.pixelOffset) / 8)
			throw new DicomException(h.file, "NumberOfFrames (0028,0008) is " + h.frames + ", more than the file's encapsulated PixelData can hold");
		if (!h.perFrame.isEmpty() && h.perFrame.size() != h.frames)
			throw new DicomException(h.file, "the Per-frame Functional Groups Sequence (5200,9230) has " + h.perFrame.size() + " items, but " +
				"NumberOfFrames (0028,0008) is " + h.frames);
		DicomHeader.Plane shared = h.shared == null ? new DicomHeader.Plane() : h.shared;
		List<Slice> out = new ArrayList<>(h.frames);
		for (int i = 0; i < h.frames; i++) {
			DicomHeader.Plane f = h.perFrame.isEmpty() ? new DicomHeader.Plane() : h.perFrame.get(i);
			Slice s = new Slice(h, i + 1);
			s.position = first(f.position, shared.position, h.position);
			s.orientation = first(f.orientation, shared.orientation, h.orientation);
			s.pixelSpacing = first(f.pixelSpacing, shared.pixelSpacing, h.pixelSpacing);
			s.slope = firstNumber(f.slope, shared.slope, h.slope);
			s.intercept = firstNumber(f.intercept, shared.intercept, h.intercept);
			s.thickness = firstNumber(f.sliceThickness, shared.sliceThickness, h.sliceThickness);
			s.imageType = f.frameType != null ? f.frameType : shared.frameType != null ? shared.frameType : h.imageType;
			s.stackId = f.stackId != null ? f.stackId : shared.stackId;
			out.add(s);
		}
		return out;
	}

	private static double[] first(double[] a, double[] b, double[] c) {
		return a != null ? a : b != null ? b : c;
	}

	private static double firstNumber(double a, double b, double c) {
		return !Double.isNaN(a) ? a : !Double.isNaN(b) ? b : c;
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
			DicomHeader first = e.getValue().get(0).header;
			sb.append("\n  ").append(new SeriesInfo(e.getKey(), e.getValue().size(), nonNull(first.description), nonNull(first.modality)));
		}
		return sb.toString();
	}

	private static String nonNull(String s) {
		return s == null ? "" : s;
	}

	// ---------------------------------------------------------------------------------------------
	// Putting the slices of one series together

	private static CtVolume assemble(Path folder, String uid, List<Slice> frames, List<String> notes, boolean acceptLossy, boolean[] lossy,
		List<Slice> used) throws IOException
	{
		List<DicomHeader> all = headersOf(frames);
		for (DicomHeader s : all) {
			if (TransferSyntax.LOSSY.contains(s.syntax)) {
				if (!acceptLossy)
					throw new DicomException(s.file, "pixel data compressed as " + COMPRESSED.get(s.syntax) + " (transfer syntax " + s.syntax +
						"), which is lossy: its decoded values are not the scanner's HU values, so it is refused by default; use the " +
						"lossless original series, or accept lossy data with lossy=accept (every output then says the data was lossy)");
				if (!lossy[0])
					notes.add(s.file + ": LOSSY data: the pixel data is compressed as " + COMPRESSED.get(s.syntax) + " (transfer syntax " +
						s.syntax + "), read because lossy=accept was given; its HU values differ from the scanner's");
				lossy[0] = true;
			}
			else if ("01".equals(s.lossyCompression)) {
				if (!lossy[0])
					notes.add(s.file + ": LOSSY data: LossyImageCompression (0028,2110) says these pixels went through lossy compression" +
						(s.lossyMethod.isEmpty() ? "" : " (" + s.lossyMethod + ")") + " before they were stored; their HU values differ from the scanner's");
				lossy[0] = true;
			}
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
		checkSameFormat(all);
		List<Slice> slices = new ArrayList<>();
		for (Slice s : frames) {
			if (Arrays.asList(nonNull(s.imageType).toUpperCase(Locale.ROOT).split("\\\\")).contains("LOCALIZER"))
				notes.add(s.where() + ": left out: a localizer (scout) image, " + (s.frame > 0 ? "FrameType " : "ImageType ") + s.imageType);
			else slices.add(s);
		}
		if (slices.isEmpty()) throw new DicomException(folder, "series " + uid + " holds only localizer (scout) images");
		for (Slice s : slices) requireGeometry(s);
		slices = dropOtherPlanes(folder, slices, notes);
		checkSameGeometry(slices);
		Slice first = slices.get(0);
		double[] row = Arrays.copyOfRange(first.orientation, 0, 3), col = Arrays.copyOfRange(first.orientation, 3, 6);
		double[] normal = first.normal;
		slices.sort(Comparator.comparingDouble((Slice s) -> s.along).thenComparing(Slice::file).thenComparingInt(s -> s.frame));
		double zSpacing = checkStack(folder, slices, notes);
		Slice lowest = slices.get(0);
		used.addAll(slices);
		double[] direction = { row[0], col[0], normal[0], row[1], col[1], normal[1], row[2], col[2], normal[2] };
		// PixelSpacing is (row spacing, column spacing) = (y, x).
		double dx = lowest.pixelSpacing[1], dy = lowest.pixelSpacing[0];
		Shear shear = shearOf(folder, slices, dx, dy, lowest.header.gantryTilt, notes);
		double[] origin = lowest.position.clone();
		if (shear != null)
			for (int i = 0; i < 3; i++) origin[i] += shear.x0 * dx * row[i] + shear.y0 * dy * col[i];
		Geometry geometry = new Geometry(origin, new double[] { dx, dy, zSpacing }, direction);
		return readPixels(slices, geometry, lowest.header.seriesUid, shear);
	}


	private static void requireGeometry(Slice s) throws DicomException {
		if (s.position == null) throw missing(s, "ImagePositionPatient (0020,0032)");
		if (s.orientation == null) throw missing(s, "ImageOrientationPatient (0020,0037)");
		if (s.pixelSpacing == null) throw missing(s, "PixelSpacing (0028,0030)");
		if (!(s.pixelSpacing[0] > 0) || !(s.pixelSpacing[1] > 0))
			throw new DicomException(s.file(), (s.frame > 0 ? "frame " + s.frame + ": " : "") + "PixelSpacing (0028,0030) must be positive, but is " + Arrays.toString(s.pixelSpacing));
		double[] r = Arrays.copyOfRange(s.orientation, 0, 3), c = Arrays.copyOfRange(s.orientation, 3, 6);
		double lr = norm(r), lc = norm(c), dot = dot(r, c);
		if (Math.abs(lr - 1) > 1e-3 || Math.abs(lc - 1) > 1e-3 || Math.abs(dot) > 1e-3)
			throw new DicomException(s.file(), (s.frame > 0 ? "frame " + s.frame + ": " : "") + "ImageOrientationPatient (0020,0037) " +
				Arrays.toString(s.orientation) +
				" is not two orthogonal unit vectors (lengths " + lr + ", " + lc + "; dot product " + dot + ")");
		double[] n = cross(r, c);
		double ln = norm(n);
		s.normal = new double[] { n[0] / ln, n[1] / ln, n[2] / ln };
		s.along = dot(s.position, s.normal);
	}

	private static DicomException missing(Slice s, String what) {
		if (s.frame > 0)
			return new DicomException(s.file(), "frame " + s.frame + " of this multi-frame image has no " + what + ", neither in its " +
				"Per-frame nor in the Shared Functional Groups nor at the top level, so it cannot be placed in a volume");
		return new DicomException(s.file(), "an image without " + what + ", so it cannot be placed in a volume");
	}

	private static DicomException missing(DicomHeader s, String what) {
		return new DicomException(s.file, "an image without " + what + ", so it cannot be placed in a volume");
	}

	private static List<DicomHeader> headersOf(List<Slice> slices) {
		List<DicomHeader> out = new ArrayList<>();
		DicomHeader last = null;
		java.util.Set<DicomHeader> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
		for (Slice s : slices)
			if (s.header != last && seen.add(s.header)) out.add(last = s.header);
		return out;
	}

	/** Frames of one stack share their size (checked per file) and their pixel spacing. */
	private static void checkSameGeometry(List<Slice> slices) throws DicomException {
		Slice f = slices.get(0);
		for (Slice s : slices) {
			if (s.header.rows != f.header.rows || s.header.cols != f.header.cols)
				throw new DicomException(s.file(), "mixed image sizes in one series: this slice is " + s.header.cols + "x" + s.header.rows +
					" (columns x rows), " + f.name() + " is " + f.header.cols + "x" + f.header.rows);
			if (Math.abs(s.pixelSpacing[0] - f.pixelSpacing[0]) > 1e-6 || Math.abs(s.pixelSpacing[1] - f.pixelSpacing[1]) > 1e-6)
				throw new DicomException(s.file(), "mixed pixel spacings in one series: PixelSpacing " + Arrays.toString(s.pixelSpacing) +
					(s.frame > 0 ? " in frame " + s.frame : "") + " here, " + Arrays.toString(f.pixelSpacing) + " in " + f.name());
			if (!Double.isFinite(s.slope) || !Double.isFinite(s.intercept) || s.slope == 0)
				throw new DicomException(s.file(), (s.frame > 0 ? "frame " + s.frame + ": " : "") + "RescaleSlope " + s.slope +
					" / RescaleIntercept " + s.intercept + " do not give HU values");
		}
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
					throw new DicomException(s.file(), String.format(Locale.ROOT, "slices are not parallel: this slice's ImageOrientationPatient " +
						"%s is turned by %.2f degrees against the other %d slices' %s (e.g. %s); a tilted or reformatted slice cannot be stacked",
						Arrays.toString(s.orientation), angle, major.size(), Arrays.toString(major.get(0).orientation), major.get(0).name()));
				notes.add(s.where() + String.format(Locale.ROOT, ": left out: an image in another plane (ImageOrientationPatient %s, %.0f degrees " +
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
			if (s.rows < 0) throw missing(s, "Rows (0028,0010)");
			if (s.cols < 0) throw missing(s, "Columns (0028,0011)");
			if (s.bitsAllocated < 0) throw missing(s, "BitsAllocated (0028,0100)");
			if (s.rows == 0 || s.cols == 0) throw new DicomException(s.file, "an empty image: Rows " + s.rows + ", Columns " + s.cols);
			if (s.samples != 1)
				throw new DicomException(s.file, "SamplesPerPixel (0028,0002) is " + s.samples + "; a CT slice has one sample (grey values) per pixel");
			String pi = s.photometric.trim();
			if ("MONOCHROME1".equals(pi))
				throw new DicomException(s.file, "PhotometricInterpretation MONOCHROME1 (white = low values) is not supported; CT " +
					"slices are MONOCHROME2");
			if (!pi.isEmpty() && !"MONOCHROME2".equals(pi))
				throw new DicomException(s.file, "PhotometricInterpretation " + pi + " is not supported; CT slices are MONOCHROME2");
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
			long expected = (long) s.rows * s.cols * (s.bitsAllocated / 8) * Math.max(1, s.frames);
			long padded = expected + (expected & 1);
			if (!encapsulated && s.pixelLength != expected && s.pixelLength != padded)
				throw new DicomException(s.file, "PixelData (7FE0,0010) holds " + s.pixelLength + " bytes, but " + s.rows + " rows x " + s.cols +
					" columns x " + (s.bitsAllocated / 8) + " bytes" + (s.frames > 1 ? " x " + s.frames + " frames" : "") + " need " + expected);
		}
	}

	/**
	 * Checks that the sorted slices form one even stack along their normal and returns the slice
	 * spacing. The spacing is the mean step, rounded to 1e-6 mm: positions are decimal strings, and
	 * their differences in binary carry noise around 1e-14 that would make 2.5 mm into 2.4999999999.
	 */
	private static double checkStack(Path folder, List<Slice> slices, List<String> notes) throws DicomException {
		Slice first = slices.get(0);
		if (slices.size() == 1) {
			double z = first.thickness > 0 ? first.thickness : 1;
			notes.add(first.where() + ": a series of one slice; its z spacing is " + (first.thickness > 0 ? "its SliceThickness, " : "taken as ") + z + " mm");
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


	/** Largest in-plane shift per slice, against the step along the normal, that is still read as a gantry tilt. */
	private static final double MAX_TILT_DEG = 45;

	/**
	 * A gantry-tilted (sheared) stack: the slices are parallel and evenly spaced along their normal, but each is shifted
	 * in its plane against the previous one. {@code ox[k]}, {@code oy[k]} are slice k's shifts in pixels along the
	 * columns (x) and rows (y); the resampled grid spans columns {@code x0 .. x0 + width - 1} and rows
	 * {@code y0 .. y0 + height - 1} of the lowest slice's pixel grid.
	 */
	private record Shear(double[] ox, double[] oy, int x0, int y0, int width, int height) {}

	/**
	 * The shear of a stack whose slices are not stacked straight along their normal, or null when they are. Only a
	 * regular shear (each slice shifted by the same in-plane step) is a gantry tilt; anything else is refused.
	 */
	private static Shear shearOf(Path folder, List<Slice> slices, double dx, double dy, double headerTilt, List<String> notes)
		throws DicomException
	{
		Slice first = slices.get(0), last = slices.get(slices.size() - 1);
		double[] n = first.normal, r = Arrays.copyOfRange(first.orientation, 0, 3), c = Arrays.copyOfRange(first.orientation, 3, 6);
		int count = slices.size();
		double maxDrift = 0;
		for (Slice s : slices) maxDrift = Math.max(maxDrift, inPlane(s, first, n));
		if (maxDrift <= IN_PLANE_TOLERANCE_MM) return null;
		double[] dLast = minus(last.position, first.position);
		double[] stepInPlane = new double[3];
		double a = dot(dLast, n);
		for (int i = 0; i < 3; i++) stepInPlane[i] = (dLast[i] - a * n[i]) / (count - 1);
		double stepAlong = a / (count - 1);
		double angle = Math.toDegrees(Math.atan2(norm(stepInPlane), stepAlong));
		double tolerance = Math.max(2 * IN_PLANE_TOLERANCE_MM, 0.01 * norm(stepInPlane));
		for (int k = 0; k < count; k++) {
			Slice s = slices.get(k);
			double[] d = minus(s.position, first.position);
			double along = dot(d, n);
			double off = 0;
			for (int i = 0; i < 3; i++) off += Math.pow(d[i] - along * n[i] - k * stepInPlane[i], 2);
			if (Math.sqrt(off) > tolerance || angle > MAX_TILT_DEG)
				throw new DicomException(folder, String.format(Locale.ROOT, "slices are not stacked along their normal %s: %s at %s is shifted " +
					"by %.3f mm sideways from %s at %s, and the shifts are not %s. A gantry tilt shifts every slice by the same step (of at " +
					"most %.0f degrees); this is a broken or mixed series", Arrays.toString(n), s.name(), Arrays.toString(s.position),
					inPlane(s, first, n), first.name(), Arrays.toString(first.position),
					angle > MAX_TILT_DEG ? String.format(Locale.ROOT, "a tilt (%.1f degrees)", angle) : "regular", MAX_TILT_DEG));
		}
		double[] ox = new double[count], oy = new double[count];
		double minX = 0, maxX = 0, minY = 0, maxY = 0;
		for (int k = 0; k < count; k++) {
			double[] d = minus(slices.get(k).position, first.position);
			ox[k] = dot(d, r) / dx;
			oy[k] = dot(d, c) / dy;
			minX = Math.min(minX, ox[k]);
			maxX = Math.max(maxX, ox[k]);
			minY = Math.min(minY, oy[k]);
			maxY = Math.max(maxY, oy[k]);
		}
		int x0 = (int) Math.floor(minX + 1e-6), y0 = (int) Math.floor(minY + 1e-6);
		int x1 = first.header.cols - 1 + (int) Math.ceil(maxX - 1e-6), y1 = first.header.rows - 1 + (int) Math.ceil(maxY - 1e-6);
		Shear shear = new Shear(ox, oy, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
		notes.add(String.format(Locale.ROOT, "%s: gantry tilt of %.2f degrees (%s): each slice is shifted by %.3f mm in its plane; " +
			"resampled as dcm2niix's tilt correction does, each slice moved in its own plane by linear interpolation onto an " +
			"orthogonal grid of %dx%d pixels (was %dx%d), the planes kept; voxels the scan did not cover hold the series' lowest HU",
			folder, angle, Double.isNaN(headerTilt) ? "from the slice positions" : "GantryDetectorTilt " + headerTilt, norm(stepInPlane),
			shear.width, shear.height, first.header.cols, first.header.rows));
		return shear;
	}

	private static double inPlane(Slice s, Slice first, double[] n) {
		double[] d = minus(s.position, first.position);
		double a = dot(d, n);
		return norm(new double[] { d[0] - a * n[0], d[1] - a * n[1], d[2] - a * n[2] });
	}

	private static double[] minus(double[] a, double[] b) {
		return new double[] { a[0] - b[0], a[1] - b[1], a[2] - b[2] };
	}

	/** A sheared stack resampled: each slice moved in its own plane by bilinear interpolation, rounded to integer HU. */
	private static CtVolume readSheared(List<Slice> slices, Geometry geometry, String uid, Shear shear) throws IOException {
		Slice f = slices.get(0);
		int w = f.header.cols, h = f.header.rows, d = slices.size(), W = shear.width, H = shear.height;
		long plane = (long) W * H;
		if (plane * d > PixelData.MAX_VOXELS)
			throw new DicomException(f.file(), "the tilt-corrected series has " + W + "x" + H + "x" + d + " voxels, more than one image can hold (2^31)");
		float[] out = new float[(int) (plane * d)];
		java.util.BitSet outside = new java.util.BitSet(out.length);
		int[] stored = new int[w * h];
		double[] hu = new double[w * h];
		double lowest = Double.POSITIVE_INFINITY;
		PixelData.Reader reader = new PixelData.Reader();
		for (int z = 0; z < d; z++) {
			Slice s = slices.get(z);
			reader.readStored(s.header, Math.max(0, s.frame - 1), stored);
			for (int i = 0; i < hu.length; i++) {
				hu[i] = stored[i] * s.slope + s.intercept;
				lowest = Math.min(lowest, hu[i]);
			}
			int base = (int) (z * plane);
			for (int Y = 0; Y < H; Y++) {
				double sy = Y + shear.y0 - shear.oy[z];
				if (sy < -0.5 || sy > h - 0.5) {
					outside.set(base + Y * W, base + (Y + 1) * W);
					continue;
				}
				sy = Math.max(0, Math.min(h - 1, sy));
				int y0 = Math.min((int) Math.floor(sy), h - 2 < 0 ? 0 : h - 2);
				double wy = h == 1 ? 0 : sy - y0;
				for (int X = 0; X < W; X++) {
					double sx = X + shear.x0 - shear.ox[z];
					int at = base + Y * W + X;
					if (sx < -0.5 || sx > w - 0.5) {
						outside.set(at);
						continue;
					}
					sx = Math.max(0, Math.min(w - 1, sx));
					int x0 = Math.min((int) Math.floor(sx), w - 2 < 0 ? 0 : w - 2);
					double wx = w == 1 ? 0 : sx - x0;
					int x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
					double top = hu[y0 * w + x0] * (1 - wx) + hu[y0 * w + x1] * wx;
					double bottom = hu[y1 * w + x0] * (1 - wx) + hu[y1 * w + x1] * wx;
					out[at] = (float) Math.rint(top * (1 - wy) + bottom * wy);
				}
			}
		}
		float fill = (float) Math.rint(lowest);
		for (int i = outside.nextSetBit(0); i >= 0; i = outside.nextSetBit(i + 1)) out[i] = fill;
		boolean shorts = true;
		for (float v : out)
			if (v < Short.MIN_VALUE || v > Short.MAX_VALUE) { shorts = false; break; }
		if (!shorts) return new CtVolume(ArrayImgs.floats(out, W, H, d), geometry, uid);
		short[] s16 = new short[out.length];
		for (int i = 0; i < out.length; i++) s16[i] = (short) out[i];
		return CtVolume.ofShorts(s16, W, H, d, geometry, uid);
	}

	private static CtVolume readPixels(List<Slice> slices, Geometry geometry, String uid, Shear shear) throws IOException {
		if (shear != null) return readSheared(slices, geometry, uid, shear);
		return readPixels(slices, geometry, uid);
	}

	private static CtVolume readPixels(List<Slice> slices, Geometry geometry, String uid) throws IOException {
		Slice f = slices.get(0);
		int w = f.header.cols, h = f.header.rows, d = slices.size();
		long plane = (long) w * h;
		if (plane * d > PixelData.MAX_VOXELS)
			throw new DicomException(f.file(), "the series has " + w + "x" + h + "x" + d + " voxels, more than one image can hold (2^31)");
		short[] shorts = new short[(int) (plane * d)];
		float[] floats = null;
		int[] stored = new int[(int) plane];
		PixelData.Reader reader = new PixelData.Reader();
		for (int z = 0; z < d; z++) {
			Slice s = slices.get(z);
			reader.readStored(s.header, Math.max(0, s.frame - 1), stored);
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
