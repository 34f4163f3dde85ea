package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.SharedData;

/**
 * JPEG-LS frames decoded by our T.87 decoder against independent truths: NEMA WG04's uncompressed
 * originals (JLSL exactly; JLSN within the NEAR its scan header states, and equal to GDCM/CharLS's
 * decoding of the same file at test time), dicomParser's fragmented variants, and slices compressed
 * here by dcmtk's dcmcjpls (lossless, near-lossless, preset thresholds) and gdcmconv.
 */
class JpegLsCodecTest {

	@TempDir
	Path tmp;

	static final String WG04 = Jpeg2000CodecTest.WG04;

	static int[] decode(TestDicomFile f) throws IOException {
		return JpegLsCodec.decode(f.singleFrame(), f.rows(), f.columns(), f.bitsStored(), f.signed(), f.file.toString());
	}

	/** NEAR from the scan header (SOS: Ls, Ns, Cs, Tm, NEAR, ...), read here by hand. */
	static int nearOf(byte[] frame) {
		for (int i = 0; i + 8 < frame.length; i++)
			if ((frame[i] & 0xFF) == 0xFF && (frame[i + 1] & 0xFF) == 0xDA) return frame[i + 7] & 0xFF;
		throw new AssertionError("no SOS");
	}

	@ParameterizedTest
	@ValueSource(strings = { "CT1", "CT2" })
	void wg04LosslessEqualsTheUncompressedOriginal(String ct) throws Exception {
		TestDicomFile jls = Jpeg2000CodecTest.shared(WG04 + "JLSL/" + ct + "_JLSL"), ref = Jpeg2000CodecTest.shared(WG04 + "REF/" + ct + "_UNC.dcm");
		assertEquals("1.2.840.10008.1.2.4.80", jls.transferSyntax());
		assertEquals(0, nearOf(jls.singleFrame()));
		int[] expected = ref.nativePixels16();
		assertArrayEquals(expected, decode(jls));
		assertTrue(Arrays.stream(expected).min().getAsInt() < -1000);
	}

	@ParameterizedTest
	@ValueSource(strings = { "CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", "CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm" })
	void fragmentedFramesEqualTheOriginal(String name) throws Exception {
		TestDicomFile jls = Jpeg2000CodecTest.shared(WG04 + "dicomParser_variants/" + name);
		if (name.contains("fragmented_bot")) assertTrue(jls.fragments.size() > 1, "fragmented: " + jls.fragments.size());
		assertArrayEquals(Jpeg2000CodecTest.shared(WG04 + "REF/CT1_UNC.dcm").nativePixels16(), decode(jls));
	}

	@ParameterizedTest
	@ValueSource(strings = { "CT1", "CT2" })
	void wg04NearLosslessIsWithinNearAndEqualsCharLs(String ct) throws Exception {
		Path file = SharedData.require(WG04 + "JLSN/" + ct + "_JLSN");
		TestDicomFile jls = new TestDicomFile(file), ref = Jpeg2000CodecTest.shared(WG04 + "REF/" + ct + "_UNC.dcm");
		assertEquals("1.2.840.10008.1.2.4.81", jls.transferSyntax());
		int near = nearOf(jls.singleFrame());
		assertTrue(near > 0, "a near-lossless scan: NEAR " + near);
		int[] original = ref.nativePixels16(), ours = decode(jls);
		assertTrue(Jpeg2000CodecTest.maxAbsDiff(ours, original) <= near, "max error " + Jpeg2000CodecTest.maxAbsDiff(ours, original) + " > NEAR " + near);
		assertTrue(Jpeg2000CodecTest.maxAbsDiff(ours, original) > 0, "lossy after all");
		// JPEG-LS decoding is exact integer arithmetic: GDCM (CharLS) must give the same samples.
		assertArrayEquals(new Jpeg2000CodecTest().gdcmIn(tmp, file), ours);
	}

	// ------------------------------------------------------------ our own fixtures

	int[] roundTrip(int[] slice, int bitsStored, boolean signed, List<String> encoder, String name) throws Exception {
		Path raw = tmp.resolve(name + "-raw.dcm"), out = tmp.resolve(name + ".dcm");
		TestDicomFile.writeMinimal(raw, 512, 512, bitsStored, signed, slice);
		List<String> command = new java.util.ArrayList<>(encoder);
		command.add(raw.toString());
		command.add(out.toString());
		ExternalTool.run(command);
		TestDicomFile f = new TestDicomFile(out);
		assertTrue(f.transferSyntax().startsWith("1.2.840.10008.1.2.4.8"), f.transferSyntax());
		return decode(f);
	}

	@Test
	void dcmcjplsLosslessRoundTripIsExact() throws Exception {
		ExternalTool.require("dcmcjpls");
		int[] slice = Jpeg2000CodecTest.syntheticSlice(11);
		assertArrayEquals(slice, roundTrip(slice, 16, true, List.of("dcmcjpls"), "lossless"));
	}

	@Test
	void dcmcjplsUnsigned12BitWithPresetThresholdsRoundTripIsExact() throws Exception {
		ExternalTool.require("dcmcjpls");
		int[] slice = Jpeg2000CodecTest.syntheticSlice(12);
		for (int i = 0; i < slice.length; i++) slice[i] = Math.max(0, Math.min(4095, slice[i] + 1024));
		// Non-default T1, T2, T3 and RESET: written in an LSE preset parameters segment.
		assertArrayEquals(slice, roundTrip(slice, 12, false,
			List.of("dcmcjpls", "+t1", "5", "+t2", "40", "+t3", "200", "+rs", "32"), "preset"));
	}

	@Test
	void dcmcjplsNearLosslessIsWithinNear() throws Exception {
		ExternalTool.require("dcmcjpls");
		// dcmcjpls encodes near-lossless for unsigned data only: 12-bit unsigned, stored = HU + 1024.
		int[] slice = Jpeg2000CodecTest.syntheticSlice(13);
		for (int i = 0; i < slice.length; i++) slice[i] = Math.max(0, Math.min(4095, slice[i] + 1024));
		for (int near : new int[] { 1, 3, 10 }) {
			int[] got = roundTrip(slice, 12, false, List.of("dcmcjpls", "+en", "+md", String.valueOf(near)), "near" + near);
			int err = Jpeg2000CodecTest.maxAbsDiff(slice, got);
			assertTrue(err <= near && err > 0, "NEAR " + near + ": max error " + err);
		}
	}

	@Test
	void gdcmconvLosslessRoundTripIsExact() throws Exception {
		ExternalTool.require("gdcmconv");
		int[] slice = Jpeg2000CodecTest.syntheticSlice(14);
		assertArrayEquals(slice, roundTrip(slice, 16, true, List.of("gdcmconv", "--jpegls"), "gdcm"));
	}

	@Test
	void smallBitDepthsRoundTrip() throws Exception {
		ExternalTool.require("dcmcjpls");
		Random r = new Random(3);
		for (int bits : new int[] { 8, 10 }) {
			int[] slice = new int[512 * 512];
			for (int i = 0; i < slice.length; i++) slice[i] = (i / 512 < 100) ? 7 : r.nextInt(1 << bits) / (1 + (i % 512) / 64);
			assertArrayEquals(slice, roundTrip(slice, bits, false, List.of("dcmcjpls"), "bits" + bits), bits + " bits");
		}
	}

	/**
	 * Restart markers. After RSTm a JPEG-LS scan starts over as at the top of an image (contexts and
	 * run index reset, the line above taken as 0), so a restart interval of R lines codes each band
	 * of R lines exactly as a separate image of that band would be coded. dcmcjpls writes no restart
	 * markers, so the stream is built from its output: each 32-line band compressed on its own, the
	 * scan data joined with RST0..RST7 (wrapping) under one header with the full height and a DRI.
	 */
	@Test
	void restartIntervalsDecodeLikeIndependentBands() throws Exception {
		ExternalTool.require("dcmcjpls");
		int[] slice = Jpeg2000CodecTest.syntheticSlice(15);
		for (int i = 0; i < slice.length; i++) slice[i] = Math.max(0, Math.min(4095, slice[i] + 1024));
		int band = 32, bands = 512 / band;
		java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
		for (int k = 0; k < bands; k++) {
			int[] part = Arrays.copyOfRange(slice, k * band * 512, (k + 1) * band * 512);
			Path raw = tmp.resolve("band" + k + "-raw.dcm"), out = tmp.resolve("band" + k + ".dcm");
			TestDicomFile.writeMinimal(raw, band, 512, 12, false, part);
			ExternalTool.run(List.of("dcmcjpls", raw.toString(), out.toString()));
			byte[] f = new TestDicomFile(out).singleFrame();
			int sos = indexOf(f, 0xDA) - 1; // at the FF of SOS
			int ls = (f[sos + 2] & 0xFF) << 8 | (f[sos + 3] & 0xFF);
			int dataStart = sos + 2 + ls, eoi = f.length;
			while (!((f[eoi - 2] & 0xFF) == 0xFF && (f[eoi - 1] & 0xFF) == 0xD9)) eoi--;
			if (k == 0) {
				byte[] header = Arrays.copyOfRange(f, 0, sos);
				int sof = indexOf(header, 0xF7); // Y is at sof + 4
				header[sof + 4] = (byte) (512 >> 8);
				header[sof + 5] = (byte) 512;
				stream.writeBytes(header);
				stream.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xDD, 0, 4, 0, (byte) band }); // DRI: R = 32 lines
				stream.writeBytes(Arrays.copyOfRange(f, sos, dataStart));
			}
			else stream.writeBytes(new byte[] { (byte) 0xFF, (byte) (0xD0 + (k - 1) % 8) });
			stream.writeBytes(Arrays.copyOfRange(f, dataStart, eoi - 2));
		}
		stream.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xD9 });
		byte[] joined = stream.toByteArray();
		assertArrayEquals(slice, JpegLsCodec.decode(joined, 512, 512, 12, false, "restarts"));
		// A restart marker out of sequence is refused.
		byte[] wrong = joined.clone();
		for (int i = 0; i + 1 < wrong.length; i++)
			if ((wrong[i] & 0xFF) == 0xFF && (wrong[i + 1] & 0xFF) == 0xD3) { wrong[i + 1] = (byte) 0xD4; break; }
		IOException e = assertThrows(IOException.class, () -> JpegLsCodec.decode(wrong, 512, 512, 12, false, "restarts"));
		assertTrue(e.getMessage().contains("restart marker FFD3"), e.getMessage());
	}

	/**
	 * The frame size given by an LSE "oversize image dimension" segment (T.87 C.2.4.1.4: ID 4, Wxy,
	 * then Y and X in Wxy bytes each) with 0 in the frame header, as writers of very large images do.
	 */
	@Test
	void frameSizeFromAnOversizeDimensionSegment() throws Exception {
		byte[] frame = wg04Frame();
		int sof = indexOf(frame, 0xF7) - 1; // at FF
		int lf = (frame[sof + 2] & 0xFF) << 8 | (frame[sof + 3] & 0xFF);
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
		byte[] head = Arrays.copyOfRange(frame, 0, sof + 2 + lf);
		head[sof + 5] = head[sof + 6] = head[sof + 7] = head[sof + 8] = 0; // Y = X = 0
		out.writeBytes(head);
		out.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xF8, 0, 10, 4, 3, 0, 2, 0, 0, 2, 0 }); // Wxy 3: Y = X = 512
		out.write(frame, sof + 2 + lf, frame.length - sof - 2 - lf);
		byte[] oversize = out.toByteArray();
		assertArrayEquals(Jpeg2000CodecTest.shared(WG04 + "REF/CT1_UNC.dcm").nativePixels16(),
			JpegLsCodec.decode(oversize, 512, 512, 16, true, "oversize"));
		// Without the LSE segment the frame gives no size.
		java.io.ByteArrayOutputStream noLse = new java.io.ByteArrayOutputStream();
		noLse.writeBytes(head);
		noLse.write(frame, sof + 2 + lf, frame.length - sof - 2 - lf);
		IOException e = assertThrows(IOException.class, () -> JpegLsCodec.decode(noLse.toByteArray(), 512, 512, 16, true, "nosize"));
		assertTrue(e.getMessage().startsWith("nosize") && e.getMessage().contains("does not give its size"), e.getMessage());
		byte[] noSize = oversize.clone();
		noSize[head.length + 5] = 1; // Wxy 1: malformed
		assertThrows(IOException.class, () -> JpegLsCodec.decode(noSize, 512, 512, 16, true, "bad"));
	}

	// ------------------------------------------------------------ hostile input

	static byte[] wg04Frame() throws IOException {
		return Jpeg2000CodecTest.shared(WG04 + "JLSL/CT1_JLSL").singleFrame();
	}

	static void assertRefused(byte[] data, int rows, int cols, String expectedPart) {
		IOException e = assertThrows(IOException.class, () -> JpegLsCodec.decode(data, rows, cols, 16, true, "bad.dcm frame 1"));
		assertTrue(e.getMessage().startsWith("bad.dcm frame 1"), e.getMessage());
		if (expectedPart != null) assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
	}

	@Test
	void truncatedCodestreamsAreRefused() throws Exception {
		byte[] frame = wg04Frame();
		for (int keep : new int[] { 0, 1, 2, 5, 12, 20, 30, 100, 1000, frame.length / 2, frame.length - 100 })
			assertRefused(Arrays.copyOf(frame, keep), 512, 512, null);
		assertRefused(Arrays.copyOf(frame, frame.length / 2), 512, 512, "truncated");
		// Without EOI but with all the scan data: complete, decodes to the original.
		int eoi = frame.length;
		while ((frame[eoi - 1] & 0xFF) != 0xD9) eoi--;
		assertArrayEquals(Jpeg2000CodecTest.shared(WG04 + "REF/CT1_UNC.dcm").nativePixels16(),
			JpegLsCodec.decode(Arrays.copyOf(frame, eoi - 2), 512, 512, 16, true, "x"));
	}

	@Test
	void garbageIsRefusedOrDecodedToAWholeFrame() throws Exception {
		byte[] junk = new byte[5000];
		new Random(1).nextBytes(junk);
		assertRefused(junk, 512, 512, "not a JPEG-LS codestream");
		assertRefused(new byte[0], 512, 512, null);
		assertRefused(null, 512, 512, null);
		byte[] frame = wg04Frame();
		Random r = new Random(2);
		for (int trial = 0; trial < 20; trial++) {
			byte[] bad = frame.clone();
			int from = 40 + r.nextInt(bad.length - 40);
			for (int i = from; i < Math.min(bad.length, from + 1 + r.nextInt(200)); i++) bad[i] = (byte) r.nextInt(256);
			try {
				assertEquals(512 * 512, JpegLsCodec.decode(bad, 512, 512, 16, true, "bad.dcm frame 1").length);
			}
			catch (IOException e) {
				assertTrue(e.getMessage().startsWith("bad.dcm frame 1"), e.getMessage());
			}
		}
		// A JPEG (T.81) stream is not JPEG-LS.
		byte[] jpeg = frame.clone();
		int sof = indexOf(jpeg, 0xF7);
		jpeg[sof] = (byte) 0xC3;
		assertRefused(jpeg, 512, 512, "T.81");
	}

	static int indexOf(byte[] b, int marker) {
		for (int i = 0; i + 1 < b.length; i++) if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == marker) return i + 1;
		throw new AssertionError("no marker " + marker);
	}

	@Test
	void sizesThatDisagreeOrAreHugeAreRefused() throws Exception {
		byte[] frame = wg04Frame();
		assertRefused(frame, 512, 511, "Columns x Rows");
		assertRefused(frame, 511, 512, "Columns x Rows");
		// SOF55: FF F7, Lf (2), P, Y (2), X (2).
		int sof = indexOf(frame, 0xF7);
		byte[] huge = frame.clone();
		huge[sof + 4] = (byte) 0xFF; huge[sof + 5] = (byte) 0xFF; huge[sof + 6] = (byte) 0xFF; huge[sof + 7] = (byte) 0xFF;
		assertRefused(huge, 512, 512, "Columns x Rows");
		// Huge, and the header says so too: refused on what the bytes can hold, before allocating.
		IOException e = assertThrows(IOException.class, () -> JpegLsCodec.decode(huge, 65535, 65535, 16, true, "bad.dcm"));
		assertTrue(e.getMessage().startsWith("bad.dcm"), e.getMessage());
		byte[] big = frame.clone(); // 30000 x 30000 = 0x7530
		big[sof + 4] = 0x75; big[sof + 5] = 0x30; big[sof + 6] = 0x75; big[sof + 7] = 0x30;
		e = assertThrows(IOException.class, () -> JpegLsCodec.decode(big, 30000, 30000, 16, true, "bad.dcm"));
		assertTrue(e.getMessage().contains("larger than"), e.getMessage());
		// 8000 x 8000 (0x1F40) in a codestream cut just after its scan header: more than its bytes can hold.
		int sos = indexOf(frame, 0xDA);
		byte[] small = Arrays.copyOf(frame, sos + 12);
		small[sof + 4] = 0x1F; small[sof + 5] = 0x40; small[sof + 6] = 0x1F; small[sof + 7] = 0x40;
		e = assertThrows(IOException.class, () -> JpegLsCodec.decode(small, 8000, 8000, 16, true, "bad.dcm"));
		assertTrue(e.getMessage().contains("can hold"), e.getMessage());
		// Precision 17 and three components.
		byte[] p17 = frame.clone();
		p17[sof + 3] = 17;
		assertRefused(p17, 512, 512, "17-bit");
		byte[] rgb = frame.clone();
		rgb[sof + 8] = 3;
		assertRefused(rgb, 512, 512, null);
	}
}
