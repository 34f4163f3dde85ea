package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.TransferSyntax.DEFLATED_LE;
import static org.lungnodules.io.dicom.TransferSyntax.EXPLICIT_BE;
import static org.lungnodules.io.dicom.TransferSyntax.EXPLICIT_LE;
import static org.lungnodules.io.dicom.TransferSyntax.IMPLICIT_LE;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Our DICOM Part 10 parser: the 128-byte preamble and "DICM", the file meta information (group 0002), and the
 * dataset in any of the four native transfer syntaxes, with sequences and items of defined or undefined length.
 * It parses a file's header up to its PixelData into a {@link DicomHeader}, keeping the top-level values a CT
 * slice needs and skipping everything else; every length is checked against the file before it is used.
 */
final class Part10 {

	static final long UNDEFINED = 0xFFFFFFFFL;
	static final int ITEM = 0xFFFEE000, ITEM_END = 0xFFFEE00D, SEQUENCE_END = 0xFFFEE0DD;
	static final int PIXEL_DATA = 0x7FE00010;
	/** SharedFunctionalGroupsSequence and PerFrameFunctionalGroupsSequence (multi-frame images). */
	static final int SHARED_GROUPS = 0x52009229, PER_FRAME_GROUPS = 0x52009230;
	/**
	 * The functional group macros whose items place a frame: PlanePosition, PlaneOrientation, PixelMeasures,
	 * PixelValueTransformation, FrameContent (stack), CT Image Frame Type.
	 */
	static final Set<Integer> GEOMETRY_MACROS = Set.of(0x00209113, 0x00209116, 0x00289110, 0x00289145, 0x00209111, 0x00189329);
	/** More frames than this in one file is a bogus count (an int[] index per frame and our volume limit). */
	static final int MAX_FRAMES = 1 << 20;
	/** Deflated datasets are inflated in memory; more than this is a bogus or hostile file, not one CT slice. */
	private static final long MAX_INFLATED = 256L << 20;
	/** Real files nest sequences a few levels deep; far deeper ones are malformed or hostile. */
	private static final int MAX_DEPTH = 32;

	private Part10() {}

	/** The patient and study attributes a derived object (SEG, SR) copies from its source, by tag. */
	private static final java.util.Map<Integer, String> PATIENT_AND_STUDY = java.util.Map.ofEntries(
		java.util.Map.entry(0x00100010, "PatientName"), java.util.Map.entry(0x00100020, "PatientID"),
		java.util.Map.entry(0x00100030, "PatientBirthDate"), java.util.Map.entry(0x00100040, "PatientSex"),
		java.util.Map.entry(0x00080020, "StudyDate"), java.util.Map.entry(0x00080030, "StudyTime"),
		java.util.Map.entry(0x00200010, "StudyID"), java.util.Map.entry(0x00080050, "AccessionNumber"),
		java.util.Map.entry(0x00080090, "ReferringPhysicianName"), java.util.Map.entry(0x00081030, "StudyDescription"));

	/**
	 * True for a DICOM Part 10 file ("DICM" after the 128-byte preamble) or a file that plausibly
	 * starts with a raw DICOM dataset (no preamble, as some old scanners wrote them): a group
	 * 0x0008 (or 0x0002) element with a sensible length, followed by a later element.
	 */
	static boolean isDicomFile(Path file) {
		if (!Files.isRegularFile(file)) return false;
		try (InputStream in = Files.newInputStream(file)) {
			byte[] head = in.readNBytes(132);
			if (head.length == 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') return true;
			return rawDatasetStart(head) >= 0;
		}
		catch (IOException e) {
			return false;
		}
	}

	/** Parses a file's header up to its pixel data (the pixels are read later, only for the chosen series). */
	static DicomHeader readHeader(Path file) throws IOException {
		DicomHeader s = new DicomHeader(file);
		try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
			s.fileSize = ch.size();
			FileBytes in = new FileBytes(file, ch, s.fileSize);
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
				// A raw dataset without preamble or meta group (old files, or datasets saved bare): little endian, explicit VR
				// when the VR letters stand after the first tag, else implicit. A few stray bytes before it are skipped.
				in.need(0, Math.min(s.fileSize, 132), "the start of the dataset");
				byte[] head = new byte[(int) Math.min(s.fileSize, 132)];
				for (int i = 0; i < head.length; i++) head[i] = (byte) in.u8(i);
				int at = rawDatasetStart(head);
				if (at < 0)
					throw new DicomException(file, "not a DICOM file: no \"DICM\" after a 128-byte preamble, no file meta information and " +
						"no DICOM dataset at its start");
				start = at;
				s.strayLeadingBytes = at;
				mode = s.fileSize >= at + 6 && isVr(in.u8(at + 4), in.u8(at + 5)) ? EXPLICIT : IMPLICIT;
				s.syntax = mode == EXPLICIT ? EXPLICIT_LE : IMPLICIT_LE;
			}
			s.datasetStart = start;
			if (DEFLATED_LE.equals(s.syntax)) {
				s.deflated = true;
				byte[] inflated = inflateDataset(file, start);
				FileBytes mem = new FileBytes(file, inflated);
				new Parser(file, mem, s).dataset(0, -1, EXPLICIT, 0);
			}
			else {
				s.bigEndian = mode == EXPLICIT_BIG;
				new Parser(file, in, s).dataset(start, -1, mode, 0);
			}
		}
		return s;
	}

	static final int IMPLICIT = 0, EXPLICIT = 1, EXPLICIT_BIG = 2;

	private static int modeOf(String syntax) {
		if (IMPLICIT_LE.equals(syntax)) return IMPLICIT;
		if (EXPLICIT_BE.equals(syntax)) return EXPLICIT_BIG;
		// Explicit VR little endian, and every encapsulated syntax, whose datasets are explicit VR little endian too.
		return EXPLICIT;
	}

	/** Reads the file meta information (group 0002, always explicit VR little endian); returns where the dataset starts. */
	private static long readMetaGroup(FileBytes in, long pos, DicomHeader s) throws IOException {
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
		final FileBytes in;
		final DicomHeader s;
		/** The functional groups item being parsed (null outside the functional groups and their geometry macros). */
		DicomHeader.Plane target;

		Parser(Path file, FileBytes in, DicomHeader s) {
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
					pos = sequence(value, -1, "UN".equals(vr) ? IMPLICIT : mode, depth + 1, tag);
					continue;
				}
				if (descends(tag, depth) && (vr == null || "SQ".equals(vr) || "UN".equals(vr))) {
					// A functional groups sequence (or one of its geometry macros) of defined length: its items are parsed.
					if (value + length > limit) throw pastEnd(tag, pos, value, length);
					sequence(value, value + length, "UN".equals(vr) ? IMPLICIT : mode, depth + 1, tag);
					pos = value + length;
					continue;
				}
				if ((length & 1) != 0)
					throw new DicomException(file, "element " + tagName(tag) + " at byte " + pos + " has an odd length " + length +
						"; DICOM values have even lengths, so the file is damaged");
				if (value + length > limit) throw pastEnd(tag, pos, value, length);
				if (depth == 0) keep(tag, value, length, big);
				else if (target != null) keepPlane(tag, value, length, big);
				else if (tag == 0x00041220) s.directoryRecords = true;
				pos = value + length;
			}
			if (end < 0 && depth > 0)
				throw new DicomException(file, "an item of undefined length runs to the end of the file without its delimiter (FFFE,E00D)");
			return pos;
		}

		/**
		 * Walks a sequence: items (each of defined or undefined length) up to the sequence delimiter ({@code end < 0})
		 * or to {@code end}. Items of the functional groups and their geometry macros are parsed into {@link #target};
		 * defined-length items of other sequences are skipped unread.
		 */
		long sequence(long pos, long end, int mode, int depth, int owner) throws IOException {
			if (depth > MAX_DEPTH) throw new DicomException(file, "sequences nested deeper than " + MAX_DEPTH + " levels at byte " + pos);
			boolean big = mode == EXPLICIT_BIG;
			if (owner == 0x00041220) s.directoryRecords = true;
			boolean descend = descends(owner, depth - 1);
			DicomHeader.Plane outer = target;
			if (!descend) target = null;
			try {
				while (true) {
					if (end >= 0 && pos >= end) return end;
					if (pos + 8 > (end >= 0 ? end : in.size))
						throw new DicomException(file, "the sequence " + tagName(owner) + (end < 0 ? " of undefined length runs to the end of the " +
							"file without its delimiter (FFFE,E0DD)" : " ends inside an item header at byte " + pos));
					int tag = (in.u16(pos, big) << 16) | in.u16(pos + 2, big);
					long length = in.u32(pos + 4, big);
					if (tag == SEQUENCE_END) return pos + 8;
					if (tag != ITEM)
						throw new DicomException(file, "the sequence " + tagName(owner) + " holds " + tagName(tag) + " at byte " + pos +
							" where an item (FFFE,E000) or the sequence delimiter (FFFE,E0DD) belongs");
					if (owner == SHARED_GROUPS && depth == 1) target = s.shared = new DicomHeader.Plane();
					else if (owner == PER_FRAME_GROUPS && depth == 1) {
						if (s.perFrame.size() >= MAX_FRAMES)
							throw new DicomException(file, "more than " + MAX_FRAMES + " per-frame functional groups items");
						s.perFrame.add(target = new DicomHeader.Plane());
					}
					if (length == UNDEFINED) pos = dataset(pos + 8, -1, mode, depth);
					else {
						long itemEnd = pos + 8 + length;
						if (itemEnd > (end >= 0 ? end : in.size)) throw pastEnd(tag, pos, pos + 8, length);
						if (descend) dataset(pos + 8, itemEnd, mode, depth);
						pos = itemEnd;
					}
				}
			}
			finally {
				target = outer;
			}
		}

		/** True for the sequences whose items are parsed: the functional groups at the top level, their geometry macros in them. */
		boolean descends(int tag, int depth) {
			if (depth == 0) return tag == SHARED_GROUPS || tag == PER_FRAME_GROUPS;
			return target != null && GEOMETRY_MACROS.contains(tag);
		}

		/** Values of a functional groups macro that place a frame and give its HU. */
		private void keepPlane(int tag, long value, long length, boolean big) throws IOException {
			DicomHeader.Plane p = target;
			switch (tag) {
			case 0x00200032: p.position = numbers(value, length, "ImagePositionPatient (0020,0032) in PlanePositionSequence", 3); break;
			case 0x00200037: p.orientation = numbers(value, length, "ImageOrientationPatient (0020,0037) in PlaneOrientationSequence", 6); break;
			case 0x00280030: p.pixelSpacing = numbers(value, length, "PixelSpacing (0028,0030) in PixelMeasuresSequence", 2); break;
			case 0x00180050: {
				double[] t = numbers(value, length, "SliceThickness (0018,0050) in PixelMeasuresSequence", -1);
				if (t.length > 0) p.sliceThickness = t[0];
				break;
			}
			case 0x00281052: {
				double[] v = numbers(value, length, "RescaleIntercept (0028,1052) in PixelValueTransformationSequence", -1);
				if (v.length > 0) p.intercept = v[0];
				break;
			}
			case 0x00281053: {
				double[] v = numbers(value, length, "RescaleSlope (0028,1053) in PixelValueTransformationSequence", -1);
				if (v.length > 0) p.slope = v[0];
				break;
			}
			case 0x00209056: p.stackId = str(value, length, "StackID (0020,9056)"); break;
			case 0x00209057:
				if (length == 4) p.inStackPosition = (int) Math.min(Integer.MAX_VALUE, in.u32(value, big));
				break;
			case 0x00089007: p.frameType = str(value, length, "FrameType (0008,9007)"); break;
			default:
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
			case 0x00080018: s.sopInstanceUid = str(value, length, "SOPInstanceUID (0008,0018)"); break;
			case 0x0020000D: s.studyUid = str(value, length, "StudyInstanceUID (0020,000D)"); break;
			case 0x00200052: s.frameOfReferenceUid = str(value, length, "FrameOfReferenceUID (0020,0052)"); break;
			case 0x00282110: s.lossyCompression = str(value, length, "LossyImageCompression (0028,2110)"); break;
			case 0x00282114: s.lossyMethod = str(value, length, "LossyImageCompressionMethod (0028,2114)"); break;
			case 0x00181120: {
				double[] t = numbers(value, length, "GantryDetectorTilt (0018,1120)", -1);
				if (t.length > 0) s.gantryTilt = t[0];
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
				String keyword = PATIENT_AND_STUDY.get(tag);
				if (keyword != null) s.patientAndStudy.put(keyword, str(value, length, keyword));
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

	/** Inflates a deflated dataset (raw deflate, no zlib header), refusing more output than one slice can need. */
	static byte[] inflateDataset(Path file, long start) throws IOException {
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

	/** At most this many stray bytes before a bare dataset are skipped (seen: one space before pydicom's no_meta.dcm). */
	private static final int MAX_STRAY_BYTES = 8;

	/**
	 * Where a bare dataset (no preamble, no file meta) starts in a file's first bytes, or -1: the first offset up to
	 * {@link #MAX_STRAY_BYTES} holding a group 0x0008 (or 0x0002) element of sensible even length, explicit or
	 * implicit VR little endian, followed by an element with a higher tag.
	 */
	static int rawDatasetStart(byte[] head) {
		for (int at = 0; at <= MAX_STRAY_BYTES; at++)
			if (looksLikeRawDataset(head, at)) return at;
		return -1;
	}

	private static boolean looksLikeRawDataset(byte[] head, int at) {
		if (head.length < at + 16) return false;
		int group = (head[at] & 0xFF) | ((head[at + 1] & 0xFF) << 8);
		int element = (head[at + 2] & 0xFF) | ((head[at + 3] & 0xFF) << 8);
		if (group != 0x0008 && group != 0x0002) return false;
		long length;
		int value = at + 8;
		if (isVr(head[at + 4] & 0xFF, head[at + 5] & 0xFF)) {
			if (isLongVr(head[at + 4] & 0xFF, head[at + 5] & 0xFF)) return false; // a first element of group 0002/0008 is never OB/SQ/UN...
			length = (head[at + 6] & 0xFF) | ((head[at + 7] & 0xFF) << 8);
		}
		else {
			length = (head[at + 4] & 0xFFL) | ((head[at + 5] & 0xFFL) << 8) | ((head[at + 6] & 0xFFL) << 16) | ((head[at + 7] & 0xFFL) << 24);
		}
		if (length > 1024 || (length & 1) != 0 || value + length + 4 > head.length) return false;
		int nextGroup = (head[(int) (value + length)] & 0xFF) | ((head[(int) (value + length) + 1] & 0xFF) << 8);
		int nextElement = (head[(int) (value + length) + 2] & 0xFF) | ((head[(int) (value + length) + 3] & 0xFF) << 8);
		return nextGroup > group || (nextGroup == group && nextElement > element);
	}

	static boolean isVr(int c0, int c1) {
		return c0 >= 'A' && c0 <= 'Z' && c1 >= 'A' && c1 <= 'Z' && VRS.contains("" + (char) c0 + (char) c1);
	}

	private static final Set<String> VRS = Set.of("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
		"OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV");

	/** VRs whose explicit encoding has two reserved bytes and a 32-bit length. */
	static boolean isLongVr(int c0, int c1) {
		String vr = "" + (char) c0 + (char) c1;
		switch (vr) {
		case "OB": case "OD": case "OF": case "OL": case "OV": case "OW": case "SQ": case "SV": case "UC": case "UN": case "UR": case "UT": case "UV":
			return true;
		default:
			return false;
		}
	}

	static String tagName(int tag) {
		return "(" + hex(tag >>> 16) + "," + hex(tag & 0xFFFF) + ")";
	}

	static String hex(int v) {
		return String.format(Locale.ROOT, "%04X", v);
	}
}
