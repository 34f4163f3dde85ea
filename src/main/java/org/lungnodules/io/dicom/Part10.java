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
	/** Deflated datasets are inflated in memory; more than this is a bogus or hostile file, not one CT slice. */
	private static final long MAX_INFLATED = 256L << 20;
	/** Real files nest sequences a few levels deep; far deeper ones are malformed or hostile. */
	private static final int MAX_DEPTH = 32;

	private Part10() {}

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
			return looksLikeRawDataset(head);
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
				// A raw dataset without preamble or meta group: old files, implicit VR unless the VR letters are there.
				start = 0;
				mode = s.fileSize >= 6 && isVr(in.u8(4), in.u8(5)) ? EXPLICIT : IMPLICIT;
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
