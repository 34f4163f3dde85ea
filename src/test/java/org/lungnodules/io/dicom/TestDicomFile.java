package org.lungnodules.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test-only, minimal reader of a DICOM Part 10 file in explicit VR little endian (which every
 * encapsulated transfer syntax uses): top-level element values by tag, and the pixel data either as
 * native bytes or as encapsulated fragments. It exists so that codec tests get a frame's bytes without
 * the product's own DICOM reader; it checks little and trusts much.
 */
final class TestDicomFile {

	final Path file;
	final Map<Integer, byte[]> values = new HashMap<>();
	/** Encapsulated fragments after the Basic Offset Table, or null for native pixel data. */
	List<byte[]> fragments;
	byte[] basicOffsetTable;

	private static final Set<String> LONG_VRS = Set.of("OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV");

	private final byte[] b;

	TestDicomFile(Path file) throws IOException {
		this.file = file;
		this.b = Files.readAllBytes(file);
		if (b.length < 132 || b[128] != 'D' || b[129] != 'I' || b[130] != 'C' || b[131] != 'M')
			throw new IOException(file + ": no DICM preamble");
		int at = 132;
		while (at < b.length) at = element(at, true);
	}

	private int u16(int at) { return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8; }

	private long u32(int at) { return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24; }

	/** Reads one explicit VR LE element at {@code at}; returns the offset after it. */
	private int element(int at, boolean topLevel) throws IOException {
		int tag = u16(at) << 16 | u16(at + 2);
		if (tag == 0xFFFEE00D || tag == 0xFFFEE0DD) return at + 8; // delimiters are handled by callers
		String vr = new String(b, at + 4, 2, StandardCharsets.US_ASCII);
		long len;
		int value;
		if (LONG_VRS.contains(vr)) { len = u32(at + 8); value = at + 12; }
		else { len = u16(at + 6); value = at + 8; }
		if (len == 0xFFFFFFFFL) {
			if (tag == 0x7FE00010) return encapsulated(value);
			return skipUndefinedSequence(value);
		}
		if (value + len > b.length) throw new IOException(file + ": element " + Integer.toHexString(tag) + " runs past the end");
		if (topLevel) values.put(tag, java.util.Arrays.copyOfRange(b, value, (int) (value + len)));
		return (int) (value + len);
	}

	private int skipUndefinedSequence(int at) throws IOException {
		while (at + 8 <= b.length) {
			int tag = u16(at) << 16 | u16(at + 2);
			long len = u32(at + 4);
			if (tag == 0xFFFEE0DD) return at + 8;
			if (tag != 0xFFFEE000) throw new IOException(file + ": expected an item at " + at);
			at += 8;
			if (len != 0xFFFFFFFFL) { at += (int) len; continue; }
			while (at + 8 <= b.length && (u16(at) << 16 | u16(at + 2)) != 0xFFFEE00D) at = element(at, false);
			at += 8;
		}
		throw new IOException(file + ": unterminated sequence");
	}

	private int encapsulated(int at) throws IOException {
		fragments = new ArrayList<>();
		boolean first = true;
		while (at + 8 <= b.length) {
			int tag = u16(at) << 16 | u16(at + 2);
			int len = (int) u32(at + 4);
			if (tag == 0xFFFEE0DD) return at + 8;
			if (tag != 0xFFFEE000) throw new IOException(file + ": expected a pixel data item at " + at);
			byte[] item = java.util.Arrays.copyOfRange(b, at + 8, at + 8 + len);
			if (first) basicOffsetTable = item;
			else fragments.add(item);
			first = false;
			at += 8 + len;
		}
		throw new IOException(file + ": unterminated encapsulated pixel data");
	}

	int us(int tag) {
		byte[] v = values.get(tag);
		return (v[0] & 0xFF) | (v[1] & 0xFF) << 8;
	}

	String string(int tag) {
		byte[] v = values.get(tag);
		return v == null ? null : new String(v, StandardCharsets.US_ASCII).replace("\0", "").trim();
	}

	double ds(int tag, double otherwise) {
		String s = string(tag);
		return s == null || s.isEmpty() ? otherwise : Double.parseDouble(s);
	}

	int rows() { return us(0x00280010); }
	int columns() { return us(0x00280011); }
	int bitsStored() { return us(0x00280101); }
	boolean signed() { return us(0x00280103) == 1; }
	String transferSyntax() { return string(0x00020010); }

	/** The single frame's codestream: all fragments concatenated (PS3.5 A.4 for one frame). */
	byte[] singleFrame() {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (byte[] f : fragments) out.writeBytes(f);
		return out.toByteArray();
	}

	/** Native 16-bit little-endian pixel data as stored values, sign-interpreted per PixelRepresentation. */
	int[] nativePixels16() {
		byte[] v = values.get(0x7FE00010);
		int[] out = new int[v.length / 2];
		int bits = bitsStored();
		for (int i = 0; i < out.length; i++) {
			int raw = (v[2 * i] & 0xFF) | (v[2 * i + 1] & 0xFF) << 8;
			raw &= (1 << bits) - 1;
			out[i] = signed() ? (raw << (32 - bits)) >> (32 - bits) : raw;
		}
		return out;
	}
	/**
	 * Writes a minimal explicit VR little endian CT file holding one 16-bit slice (native pixel data),
	 * for encoders such as gdcmconv and dcmcjpls to compress.
	 */
	static void writeMinimal(Path file, int rows, int columns, int bitsStored, boolean signed, int[] stored) throws IOException {
		ByteArrayOutputStream meta = new ByteArrayOutputStream(), data = new ByteArrayOutputStream();
		String sopClass = "1.2.840.10008.5.1.4.1.1.2", sop = "1.2.826.0.1.3680043.99.7.1";
		put(meta, 0x00020001, "OB", new byte[] { 0, 1 });
		put(meta, 0x00020002, "UI", ui(sopClass));
		put(meta, 0x00020003, "UI", ui(sop));
		put(meta, 0x00020010, "UI", ui("1.2.840.10008.1.2.1"));
		put(meta, 0x00020012, "UI", ui("1.2.826.0.1.3680043.99.7"));
		put(data, 0x00080016, "UI", ui(sopClass));
		put(data, 0x00080018, "UI", ui(sop));
		put(data, 0x00080060, "CS", "CT".getBytes(StandardCharsets.US_ASCII));
		put(data, 0x0020000D, "UI", ui("1.2.826.0.1.3680043.99.7.2"));
		put(data, 0x0020000E, "UI", ui("1.2.826.0.1.3680043.99.7.3"));
		put(data, 0x00280002, "US", us16(1));
		put(data, 0x00280004, "CS", "MONOCHROME2 ".getBytes(StandardCharsets.US_ASCII));
		put(data, 0x00280010, "US", us16(rows));
		put(data, 0x00280011, "US", us16(columns));
		put(data, 0x00280100, "US", us16(16));
		put(data, 0x00280101, "US", us16(bitsStored));
		put(data, 0x00280102, "US", us16(bitsStored - 1));
		put(data, 0x00280103, "US", us16(signed ? 1 : 0));
		byte[] pixels = new byte[2 * stored.length];
		for (int i = 0; i < stored.length; i++) { pixels[2 * i] = (byte) stored[i]; pixels[2 * i + 1] = (byte) (stored[i] >> 8); }
		put(data, 0x7FE00010, "OW", pixels);
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		out.writeBytes(new byte[128]);
		out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
		ByteArrayOutputStream groupLength = new ByteArrayOutputStream();
		put(groupLength, 0x00020000, "UL", new byte[] { (byte) meta.size(), (byte) (meta.size() >> 8), (byte) (meta.size() >> 16), 0 });
		out.writeBytes(groupLength.toByteArray());
		out.writeBytes(meta.toByteArray());
		out.writeBytes(data.toByteArray());
		Files.write(file, out.toByteArray());
	}

	private static byte[] ui(String uid) {
		String s = uid.length() % 2 == 0 ? uid : uid + "\0";
		return s.getBytes(StandardCharsets.US_ASCII);
	}

	private static byte[] us16(int v) { return new byte[] { (byte) v, (byte) (v >> 8) }; }

	private static void put(ByteArrayOutputStream out, int tag, String vr, byte[] value) {
		out.write(tag >> 16 & 0xFF); out.write(tag >> 24 & 0xFF); out.write(tag & 0xFF); out.write(tag >> 8 & 0xFF);
		out.writeBytes(vr.getBytes(StandardCharsets.US_ASCII));
		int len = value.length;
		if (LONG_VRS.contains(vr)) {
			out.write(0); out.write(0);
			out.write(len); out.write(len >> 8); out.write(len >> 16); out.write(len >> 24);
		}
		else { out.write(len); out.write(len >> 8); }
		out.writeBytes(value);
	}
}
