package org.lungnodules.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.UUID;

import org.lungnodules.io.AtomicFiles;

/**
 * DICOM Part 10 files (PS3.10 §7.1): a 128-byte preamble, {@code DICM}, the file meta information
 * (group 0002 with its group length) and the data set, all in explicit VR little endian; plus the
 * value formats the writers need (UIDs, DA, TM, DT, DS, IS).
 */
public final class Part10Writer {

	public static final String EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
	/** This implementation's class UID: 2.25 form of a name-based UUID of {@code org.lungnodules}. */
	public static final String IMPLEMENTATION_CLASS_UID = uidOf(UUID.nameUUIDFromBytes("org.lungnodules.io.dicom".getBytes(StandardCharsets.US_ASCII)));
	public static final String IMPLEMENTATION_VERSION_NAME = "LUNGNODULES1";

	private static final int SOP_CLASS_UID = DicomDataSet.tag(0x0008, 0x0016), SOP_INSTANCE_UID = DicomDataSet.tag(0x0008, 0x0018);

	private Part10Writer() {}

	/** A new UID in the 2.25 form: a random UUID as an unsigned decimal integer (PS3.5 §B.2). */
	public static String newUid() {
		return uidOf(UUID.randomUUID());
	}

	static String uidOf(UUID u) {
		BigInteger hi = BigInteger.valueOf(u.getMostSignificantBits()).and(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
		BigInteger lo = BigInteger.valueOf(u.getLeastSignificantBits()).and(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
		return "2.25." + hi.shiftLeft(64).or(lo).toString();
	}

	/** DA: YYYYMMDD. */
	public static String da(ZonedDateTime t) {
		return t.format(DateTimeFormatter.ofPattern("yyyyMMdd", Locale.ROOT));
	}

	/** TM: HHMMSS.FFFFFF. */
	public static String tm(ZonedDateTime t) {
		return t.format(DateTimeFormatter.ofPattern("HHmmss.SSSSSS", Locale.ROOT));
	}

	/** DT: YYYYMMDDHHMMSS.FFFFFF&amp;ZZXX, with the UTC offset. */
	public static String dt(ZonedDateTime t) {
		return t.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss.SSSSSSxx", Locale.ROOT));
	}

	/** DS: a decimal string of at most 16 characters, as many significant digits as fit. */
	public static String ds(double v) {
		if (!Double.isFinite(v)) throw new IllegalArgumentException("DS value must be finite: " + v);
		if (Math.abs(v) < 1e-9) return "0";
		BigDecimal b = new BigDecimal(v);
		for (int p = 15; p >= 1; p--) {
			String s = b.round(new MathContext(p)).stripTrailingZeros().toPlainString();
			if (s.length() <= 16) return s;
		}
		throw new IllegalArgumentException("DS value does not fit in 16 characters: " + v);
	}

	/** DS values joined by backslashes. */
	public static String ds(double... v) {
		StringBuilder s = new StringBuilder();
		for (int i = 0; i < v.length; i++) s.append(i == 0 ? "" : "\\").append(ds(v[i]));
		return s.toString();
	}

	/** Encodes a whole Part 10 file: preamble, DICM, file meta, data set. */
	public static byte[] encode(DicomDataSet dataSet) {
		if (!dataSet.contains(SOP_CLASS_UID) || !dataSet.contains(SOP_INSTANCE_UID))
			throw new IllegalArgumentException("A Part 10 data set needs a SOP Class UID and a SOP Instance UID");
		byte[] body = dataSet.encode();
		ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 512);
		try {
			writeFile(out, dataSet, body);
		}
		catch (IOException e) {
			throw new AssertionError(e);
		}
		return out.toByteArray();
	}

	/** Writes the file atomically (temp file + rename). */
	public static void write(Path file, DicomDataSet dataSet) throws IOException {
		byte[] bytes = encode(dataSet);
		AtomicFiles.write(file, bytes);
	}

	private static void writeFile(OutputStream out, DicomDataSet dataSet, byte[] body) throws IOException {
		String sopClass = valueOf(dataSet, SOP_CLASS_UID), sopInstance = valueOf(dataSet, SOP_INSTANCE_UID);
		DicomDataSet meta = new DicomDataSet()
			.binary(DicomDataSet.tag(0x0002, 0x0001), "OB", new byte[] { 0, 1 })
			.string(DicomDataSet.tag(0x0002, 0x0002), "UI", sopClass)
			.string(DicomDataSet.tag(0x0002, 0x0003), "UI", sopInstance)
			.string(DicomDataSet.tag(0x0002, 0x0010), "UI", EXPLICIT_VR_LITTLE_ENDIAN)
			.string(DicomDataSet.tag(0x0002, 0x0012), "UI", IMPLEMENTATION_CLASS_UID)
			.string(DicomDataSet.tag(0x0002, 0x0013), "SH", IMPLEMENTATION_VERSION_NAME);
		byte[] metaBytes = meta.encode();
		out.write(new byte[128]);
		out.write("DICM".getBytes(StandardCharsets.US_ASCII));
		ByteBuffer gl = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
		gl.putShort((short) 0x0002).putShort((short) 0x0000).put("UL".getBytes(StandardCharsets.US_ASCII)).putShort((short) 4)
			.putInt(metaBytes.length);
		out.write(gl.array());
		out.write(metaBytes);
		out.write(body);
	}

	private static String valueOf(DicomDataSet ds, int tag) {
		return ds.stringValue(tag);
	}
}
