package org.lungnodules.io.dicom;

import java.util.Arrays;

/** DICOM RLE Lossless (transfer syntax 1.2.840.10008.1.2.5), decoded here. */
final class RleCodec {

	private RleCodec() {}


	/**
	 * Decodes a DICOM RLE Lossless frame (PS3.5 Annex G) into little-endian native pixel bytes. The
	 * 64-byte header holds the number of segments and up to 15 segment offsets; with one sample per
	 * pixel there is one segment per byte of the sample, most significant byte first. Each segment is
	 * PackBits: a control byte n in 0..127 copies the next n + 1 bytes, -127..-1 repeats the next byte
	 * 1 - n times, -128 does nothing.
	 */
	static byte[] decode(DicomHeader s, byte[] frame, int pixels) throws DicomException {
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
}
