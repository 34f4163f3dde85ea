package org.lungnodules.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.Deflater;

/**
 * Writes small DICOM CT slices byte by byte for tests, independently of the reader: the file meta
 * group, then the dataset in the chosen transfer syntax, with an undefined-length sequence among
 * the elements (as real CT files have) whose items hold decoy position values that must not be
 * taken for the slice's own.
 */
final class DicomTestWriter {

	static final String CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2";

	/** Everything one slice file says; tests change fields and then write. */
	static final class Slice {
		String syntax = TransferSyntax.EXPLICIT_LE;
		boolean preamble = true;
		String sopClass = CT_IMAGE;
		String seriesUid = "1.2.826.0.1.3680043.99.1";
		String modality = "CT";
		String imageType = "ORIGINAL\\PRIMARY\\AXIAL";
		String description = "synthetic chest";
		int instanceNumber = 1;
		double[] position = { -100, -120, -300 };
		double[] orientation = { 1, 0, 0, 0, 1, 0 };
		/** PixelSpacing as DICOM orders it: row spacing (y), column spacing (x). */
		double[] pixelSpacing = { 0.8, 0.6 };
		int rows = 6, cols = 5;
		int bitsAllocated = 16, bitsStored = 16, pixelRepresentation = 1;
		String photometric = "MONOCHROME2";
		String slope = "1", intercept = "-1024";
		/** Stored values, row-major; rows x cols of them. */
		int[] stored = new int[30];
		boolean withSequence = true;
		/** Extra raw bytes appended to the dataset before the pixel data (already encoded). */
		byte[] extra = new byte[0];
		/** For an encapsulated syntax: the PixelData fragments (already compressed); null writes a stub JPEG. */
		byte[][] fragments;

		Slice copy() {
			Slice s = new Slice();
			s.syntax = syntax; s.preamble = preamble; s.sopClass = sopClass; s.seriesUid = seriesUid; s.modality = modality;
			s.imageType = imageType; s.description = description; s.instanceNumber = instanceNumber; s.position = position.clone();
			s.orientation = orientation.clone(); s.pixelSpacing = pixelSpacing.clone(); s.rows = rows; s.cols = cols;
			s.bitsAllocated = bitsAllocated; s.bitsStored = bitsStored; s.pixelRepresentation = pixelRepresentation;
			s.photometric = photometric; s.slope = slope; s.intercept = intercept; s.stored = stored.clone();
			s.withSequence = withSequence; s.extra = extra.clone(); s.fragments = fragments == null ? null : fragments.clone();
			return s;
		}
	}

	private DicomTestWriter() {}

	static void write(Path file, Slice s) throws IOException {
		Files.write(file, encode(s));
	}

	static byte[] encode(Slice s) {
		boolean implicit = TransferSyntax.IMPLICIT_LE.equals(s.syntax);
		boolean big = TransferSyntax.EXPLICIT_BE.equals(s.syntax);
		boolean deflate = TransferSyntax.DEFLATED_LE.equals(s.syntax);
		boolean encapsulated = !implicit && !big && !deflate && !TransferSyntax.EXPLICIT_LE.equals(s.syntax);
		Enc e = new Enc(implicit, big);
		e.str(0x0008, 0x0008, "CS", s.imageType);
		e.uid(0x0008, 0x0016, s.sopClass);
		e.uid(0x0008, 0x0018, "1.2.826.0.1.3680043.99.2." + s.instanceNumber);
		e.str(0x0008, 0x0060, "CS", s.modality);
		e.str(0x0008, 0x103E, "LO", s.description);
		if (s.withSequence) sequence(e, implicit, big);
		e.str(0x0018, 0x0050, "DS", "2.5");
		e.uid(0x0020, 0x000E, s.seriesUid);
		e.str(0x0020, 0x0013, "IS", Integer.toString(s.instanceNumber));
		e.str(0x0020, 0x0032, "DS", ds(s.position));
		e.str(0x0020, 0x0037, "DS", ds(s.orientation));
		e.us(0x0028, 0x0002, 1);
		e.str(0x0028, 0x0004, "CS", s.photometric);
		e.us(0x0028, 0x0010, s.rows);
		e.us(0x0028, 0x0011, s.cols);
		e.str(0x0028, 0x0030, "DS", ds(s.pixelSpacing));
		e.us(0x0028, 0x0100, s.bitsAllocated);
		e.us(0x0028, 0x0101, s.bitsStored);
		e.us(0x0028, 0x0102, s.bitsStored - 1);
		e.us(0x0028, 0x0103, s.pixelRepresentation);
		e.str(0x0028, 0x1052, "DS", s.intercept);
		e.str(0x0028, 0x1053, "DS", s.slope);
		e.out.writeBytes(s.extra);
		if (encapsulated) {
			e.header(0x7FE0, 0x0010, "OB", 0xFFFFFFFFL);
			e.header(0xFFFE, 0xE000, null, 0); // empty basic offset table
			byte[][] fragments = s.fragments != null ? s.fragments : new byte[][] { { (byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9 } };
			for (byte[] f : fragments) {
				e.header(0xFFFE, 0xE000, null, f.length);
				e.out.writeBytes(f);
			}
			e.header(0xFFFE, 0xE0DD, null, 0);
		}
		else {
			int bytes = s.bitsAllocated / 8;
			byte[] px = new byte[s.stored.length * bytes + ((s.stored.length * bytes) & 1)];
			for (int i = 0; i < s.stored.length; i++) {
				int v = s.stored[i];
				if (bytes == 1) px[i] = (byte) v;
				else if (big) { px[2 * i] = (byte) (v >> 8); px[2 * i + 1] = (byte) v; }
				else { px[2 * i] = (byte) v; px[2 * i + 1] = (byte) (v >> 8); }
			}
			e.element(0x7FE0, 0x0010, bytes == 1 ? "OB" : "OW", px);
		}
		byte[] dataset = e.out.toByteArray();
		if (deflate) {
			Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
			d.setInput(dataset);
			d.finish();
			ByteArrayOutputStream z = new ByteArrayOutputStream();
			byte[] buf = new byte[4096];
			while (!d.finished()) z.write(buf, 0, d.deflate(buf));
			d.end();
			dataset = z.toByteArray();
		}
		ByteArrayOutputStream file = new ByteArrayOutputStream();
		if (s.preamble) {
			file.writeBytes(new byte[128]);
			file.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
			Enc meta = new Enc(false, false);
			meta.element(0x0002, 0x0001, "OB", new byte[] { 0, 1 });
			meta.uid(0x0002, 0x0002, s.sopClass);
			meta.uid(0x0002, 0x0003, "1.2.826.0.1.3680043.99.2." + s.instanceNumber);
			meta.uid(0x0002, 0x0010, s.syntax);
			byte[] m = meta.out.toByteArray();
			Enc groupLength = new Enc(false, false);
			groupLength.element(0x0002, 0x0000, "UL", new byte[] { (byte) m.length, (byte) (m.length >> 8), (byte) (m.length >> 16), 0 });
			file.writeBytes(groupLength.out.toByteArray());
			file.writeBytes(m);
		}
		file.writeBytes(dataset);
		return file.toByteArray();
	}

	/**
	 * ReferencedImageSequence (0008,1140) of undefined length: an undefined-length item holding a
	 * decoy ImagePositionPatient and a nested undefined-length sequence, then a defined-length item.
	 */
	private static void sequence(Enc e, boolean implicit, boolean big) {
		e.header(0x0008, 0x1140, "SQ", 0xFFFFFFFFL);
		e.header(0xFFFE, 0xE000, null, 0xFFFFFFFFL);
		e.uid(0x0008, 0x1150, CT_IMAGE);
		e.str(0x0020, 0x0032, "DS", "999\\999\\999");
		e.header(0x0040, 0xA730, "SQ", 0xFFFFFFFFL);
		e.header(0xFFFE, 0xE000, null, 0xFFFFFFFFL);
		e.str(0x0008, 0x0060, "CS", "MR");
		e.header(0xFFFE, 0xE00D, null, 0);
		e.header(0xFFFE, 0xE0DD, null, 0);
		e.header(0xFFFE, 0xE00D, null, 0);
		Enc item = new Enc(implicit, big);
		item.uid(0x0008, 0x1155, "1.2.826.0.1.3680043.99.77");
		byte[] body = item.out.toByteArray();
		e.header(0xFFFE, 0xE000, null, body.length);
		e.out.writeBytes(body);
		e.header(0xFFFE, 0xE0DD, null, 0);
	}

	static String ds(double[] v) {
		StringBuilder sb = new StringBuilder();
		for (double d : v) {
			if (sb.length() > 0) sb.append('\\');
			String t = String.format(Locale.ROOT, "%.6f", d);
			sb.append(t.length() > 16 ? t.substring(0, 16) : t);
		}
		return sb.toString();
	}

	/** Element encoder for one transfer syntax. */
	static final class Enc {
		final boolean implicit, big;
		final ByteArrayOutputStream out = new ByteArrayOutputStream();

		Enc(boolean implicit, boolean big) {
			this.implicit = implicit;
			this.big = big;
		}

		void str(int group, int element, String vr, String value) {
			byte[] b = value.getBytes(StandardCharsets.ISO_8859_1);
			if ((b.length & 1) != 0) b = (value + " ").getBytes(StandardCharsets.ISO_8859_1);
			element(group, element, vr, b);
		}

		void uid(int group, int element, String value) {
			byte[] b = value.getBytes(StandardCharsets.US_ASCII);
			if ((b.length & 1) != 0) b = (value + "\0").getBytes(StandardCharsets.US_ASCII);
			element(group, element, "UI", b);
		}

		void us(int group, int element, int value) {
			element(group, element, "US", big ? new byte[] { (byte) (value >> 8), (byte) value } : new byte[] { (byte) value, (byte) (value >> 8) });
		}

		void element(int group, int element, String vr, byte[] value) {
			header(group, element, vr, value.length);
			out.writeBytes(value);
		}

		/** Tag, VR (unless implicit or an item tag) and length. */
		void header(int group, int element, String vr, long length) {
			u16(group);
			u16(element);
			if (implicit || vr == null) {
				u32(length);
				return;
			}
			out.write(vr.charAt(0));
			out.write(vr.charAt(1));
			if ("OB OD OF OL OV OW SQ SV UC UN UR UT UV".contains(vr)) {
				u16(0);
				u32(length);
			}
			else u16((int) length);
		}

		private void u16(int v) {
			if (big) { out.write(v >> 8); out.write(v); }
			else { out.write(v); out.write(v >> 8); }
		}

		private void u32(long v) {
			if (big) { out.write((int) (v >> 24)); out.write((int) (v >> 16)); out.write((int) (v >> 8)); out.write((int) v); }
			else { out.write((int) v); out.write((int) (v >> 8)); out.write((int) (v >> 16)); out.write((int) (v >> 24)); }
		}
	}
}
