package org.lungnodules.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A DICOM data set being built for writing: attributes kept in tag order, each with its VR, encoded
 * in explicit VR little endian. Values are padded to even length as PS3.5 §6.2 prescribes for each
 * VR (UI and OB with a NUL byte, text with a space). Sequences hold nested data sets and are written
 * with explicit lengths.
 */
public final class DicomDataSet {

	/** VRs with a 4-byte length (and 2 reserved bytes) in explicit VR encoding (PS3.5 §7.1.2). */
	private static final Set<String> LONG_VRS = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV");
	/** VRs padded with a NUL byte; every other string VR pads with a space. */
	private static final Set<String> NUL_PADDED = Set.of("UI", "OB", "UN");

	/** One attribute: either bytes of a value or the items of a sequence. */
	private record Element(int tag, String vr, byte[] value, List<DicomDataSet> items) {}

	private final TreeMap<Integer, Element> elements = new TreeMap<>(Integer::compareUnsigned);

	public static int tag(int group, int element) {
		return (group << 16) | (element & 0xFFFF);
	}

	/** A string-valued attribute (AE, AS, CS, DA, DS, DT, IS, LO, LT, PN, SH, ST, TM, UC, UI, UR, UT). */
	public DicomDataSet string(int tag, String vr, String value) {
		if (value == null) value = "";
		checkLength(tag, vr, value);
		put(new Element(tag, vr, value.getBytes(isAscii(vr) ? StandardCharsets.US_ASCII : StandardCharsets.UTF_8), null));
		return this;
	}

	/** A multi-valued string attribute; values joined by backslashes. */
	public DicomDataSet strings(int tag, String vr, List<String> values) {
		return string(tag, vr, String.join("\\", values));
	}

	/** An attribute present with no value (type 2). */
	public DicomDataSet empty(int tag, String vr) {
		put(new Element(tag, vr, new byte[0], "SQ".equals(vr) ? List.of() : null));
		return this;
	}

	/** Refuses values longer than their VR allows (PS3.5 Table 6.2-1), and UIDs that are not UIDs. */
	private static void checkLength(int tag, String vr, String value) {
		int max = switch (vr) {
			case "AE", "CS", "SH", "DS" -> 16;
			case "IS" -> 12;
			case "DA" -> 8;
			case "TM" -> 14;
			case "DT" -> 26;
			case "AS" -> 4;
			case "LO", "UI" -> 64;
			case "ST" -> 1024;
			case "LT" -> 10240;
			default -> Integer.MAX_VALUE;
		};
		for (String v : value.split("\\\\", -1)) {
			if (v.codePointCount(0, v.length()) > max)
				throw new IllegalArgumentException("(" + hex(tag) + ") " + vr + " value longer than " + max + " characters: " + v);
			if (vr.equals("UI") && !v.matches("[0-9.]*"))
				throw new IllegalArgumentException("(" + hex(tag) + ") not a UID: " + v);
		}
	}

	/** At most {@code max} characters of the text, for descriptions built from names. */
	static String cut(String text, int max) {
		return text.codePointCount(0, text.length()) <= max ? text : text.substring(0, text.offsetByCodePoints(0, max));
	}

	/** US values. */
	public DicomDataSet us(int tag, int... values) {
		ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
		for (int v : values) {
			if (v < 0 || v > 0xFFFF) throw new IllegalArgumentException("US value out of range: " + v);
			b.putShort((short) v);
		}
		return binary(tag, "US", b.array());
	}

	/** UL values. */
	public DicomDataSet ul(int tag, long... values) {
		ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
		for (long v : values) {
			if (v < 0 || v > 0xFFFFFFFFL) throw new IllegalArgumentException("UL value out of range: " + v);
			b.putInt((int) v);
		}
		return binary(tag, "UL", b.array());
	}

	/** FD values. */
	public DicomDataSet fd(int tag, double... values) {
		ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
		for (double v : values) b.putDouble(v);
		return binary(tag, "FD", b.array());
	}

	/** FL values. */
	public DicomDataSet fl(int tag, float... values) {
		ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
		for (float v : values) b.putFloat(v);
		return binary(tag, "FL", b.array());
	}

	/** Attribute tags (AT): each a (group, element) pair written as two US. */
	public DicomDataSet at(int tag, int... tags) {
		ByteBuffer b = ByteBuffer.allocate(4 * tags.length).order(ByteOrder.LITTLE_ENDIAN);
		for (int t : tags) {
			b.putShort((short) (t >>> 16));
			b.putShort((short) t);
		}
		return binary(tag, "AT", b.array());
	}

	/** Raw bytes with a binary VR (OB, OW, US, ...), padded to even length with a NUL when odd. */
	public DicomDataSet binary(int tag, String vr, byte[] value) {
		put(new Element(tag, vr, value.clone(), null));
		return this;
	}

	/** A sequence of the given items (none gives an empty sequence). */
	public DicomDataSet sequence(int tag, List<DicomDataSet> items) {
		put(new Element(tag, "SQ", null, List.copyOf(items)));
		return this;
	}

	public DicomDataSet sequence(int tag, DicomDataSet... items) {
		return sequence(tag, List.of(items));
	}

	public boolean contains(int tag) {
		return elements.containsKey(tag);
	}

	/** The tags present, in order. */
	public List<Integer> tags() {
		return Collections.unmodifiableList(new ArrayList<>(elements.keySet()));
	}

	private void put(Element e) {
		if (e.vr().length() != 2) throw new IllegalArgumentException("VR must be two letters: " + e.vr());
		elements.put(e.tag(), e);
	}

	/** Whether any string value needs a character set beyond the default repertoire. */
	boolean needsUtf8() {
		for (Element e : elements.values()) {
			if (e.items() != null) {
				for (DicomDataSet item : e.items())
					if (item.needsUtf8()) return true;
			}
			else if (!isAscii(e.vr()) && e.value() != null)
				for (byte b : e.value())
					if (b < 0) return true;
		}
		return false;
	}

	/** Whether every text value, now UTF-8, can be written in the given character set. */
	boolean fits(java.nio.charset.Charset cs) {
		java.nio.charset.CharsetEncoder enc = cs.newEncoder();
		for (Element e : elements.values()) {
			if (e.items() != null) {
				for (DicomDataSet item : e.items())
					if (!item.fits(cs)) return false;
			}
			else if (!isAscii(e.vr()) && e.value() != null && !enc.canEncode(new String(e.value(), StandardCharsets.UTF_8)))
				return false;
		}
		return true;
	}

	/** Re-encodes every text value, now UTF-8, in the given character set. */
	void recode(java.nio.charset.Charset cs) {
		for (Map.Entry<Integer, Element> me : elements.entrySet()) {
			Element e = me.getValue();
			if (e.items() != null) e.items().forEach(item -> item.recode(cs));
			else if (!isAscii(e.vr()) && e.value() != null)
				me.setValue(new Element(e.tag(), e.vr(), new String(e.value(), StandardCharsets.UTF_8).getBytes(cs), null));
		}
	}

	/** VRs whose character repertoire is fixed to ASCII (PS3.5 §6.1.2.2). */
	private static boolean isAscii(String vr) {
		return switch (vr) {
			case "LO", "LT", "PN", "SH", "ST", "UC", "UT" -> false;
			default -> true;
		};
	}

	/** Encodes the data set in explicit VR little endian. */
	public byte[] encode() {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try {
			writeTo(out);
		}
		catch (IOException e) {
			throw new AssertionError(e);
		}
		return out.toByteArray();
	}

	void writeTo(OutputStream out) throws IOException {
		for (Element e : elements.values()) {
			if (e.items() != null) {
				ByteArrayOutputStream body = new ByteArrayOutputStream();
				for (DicomDataSet item : e.items()) {
					byte[] content = item.encode();
					header(body, 0xFFFEE000, null, content.length);
					body.write(content);
				}
				header(out, e.tag(), "SQ", body.size());
				body.writeTo(out);
			}
			else {
				byte[] v = padded(e.vr(), e.value());
				header(out, e.tag(), e.vr(), v.length);
				out.write(v);
			}
		}
	}

	/** The value padded to even length with the VR's padding byte. */
	static byte[] padded(String vr, byte[] value) {
		if (value.length % 2 == 0) return value;
		byte[] p = java.util.Arrays.copyOf(value, value.length + 1);
		p[value.length] = (byte) (NUL_PADDED.contains(vr) || isBinary(vr) ? 0 : ' ');
		return p;
	}

	private static boolean isBinary(String vr) {
		return switch (vr) {
			case "OB", "OD", "OF", "OL", "OV", "OW", "US", "SS", "UL", "SL", "FL", "FD", "AT", "SV", "UV" -> true;
			default -> false;
		};
	}

	/** Tag, VR and length; an item tag (FFFE,E000) has no VR. */
	private static void header(OutputStream out, int tag, String vr, long length) throws IOException {
		if (length > 0xFFFFFFFEL) throw new IOException("DICOM value too long: " + length + " bytes");
		ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
		b.putShort((short) (tag >>> 16)).putShort((short) tag);
		if (vr == null) {
			b.putInt((int) length);
		}
		else {
			b.put(vr.getBytes(StandardCharsets.US_ASCII));
			if (LONG_VRS.contains(vr)) {
				b.putShort((short) 0).putInt((int) length);
			}
			else {
				if (length > 0xFFFF) throw new IOException("Value of (" + hex(tag) + ") with VR " + vr + " is longer than 65534 bytes");
				b.putShort((short) length);
			}
		}
		out.write(b.array(), 0, b.position());
	}

	static String hex(int tag) {
		return String.format(Locale.ROOT, "%04X,%04X", tag >>> 16, tag & 0xFFFF);
	}

	/** A code sequence item (Code Value, Coding Scheme Designator, Code Meaning). */
	public static DicomDataSet code(String value, String scheme, String meaning) {
		return new DicomDataSet().string(tag(0x0008, 0x0100), "SH", value).string(tag(0x0008, 0x0102), "SH", scheme)
			.string(tag(0x0008, 0x0104), "LO", meaning);
	}

	/** The string value of an attribute, without padding; null when absent or not a string. */
	public String stringValue(int tag) {
		Element e = elements.get(tag);
		if (e == null || e.value() == null || isBinary(e.vr())) return null;
		return new String(e.value(), StandardCharsets.UTF_8);
	}
}
