package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lossy JPEG frames (Baseline .50, Extended .51, 8- and 12-bit) made here by dcmtk's dcmcjpeg from
 * synthetic slices, decoded by {@link JpegLossyCodec} and compared with GDCM's decoding of the same
 * files (pydicom's GDCM handler, at test time) and with the originals.
 */
class JpegLossyCodecTest {

	@TempDir
	Path tmp;

	static int[] slice12(long seed) {
		int[] s = Jpeg2000CodecTest.syntheticSlice(seed);
		for (int i = 0; i < s.length; i++) s[i] = Math.max(0, Math.min(4095, s[i] + 1024));
		return s;
	}

	Path compress(int[] slice, int bitsStored, String option, String name) throws Exception {
		ExternalTool.require("dcmcjpeg");
		Path raw = tmp.resolve(name + "-raw.dcm"), out = tmp.resolve(name + ".dcm");
		TestDicomFile.writeMinimal(raw, 512, 512, bitsStored, false, slice);
		ExternalTool.run(List.of("dcmcjpeg", option, raw.toString(), out.toString()));
		return out;
	}

	static int[] decode(TestDicomFile f) throws IOException {
		return JpegLossyCodec.decode(f.singleFrame(), f.rows(), f.columns(), f.bitsStored(), f.signed(), f.file.toString());
	}

	@Test
	void extended12BitAgreesWithGdcm() throws Exception {
		int[] original = slice12(31);
		Path file = compress(original, 12, "+ee", "e12");
		TestDicomFile f = new TestDicomFile(file);
		assertEquals("1.2.840.10008.1.2.4.51", f.transferSyntax());
		int[] ours = decode(f), gdcm = new Jpeg2000CodecTest().gdcmIn(tmp, file);
		// T.81 leaves the IDCT's last bit open: a float IDCT and libjpeg's integer one differ by a unit at times.
		int diff = Jpeg2000CodecTest.maxAbsDiff(ours, gdcm);
		System.out.printf("12-bit extended: ours vs GDCM max %d mean %.4f; vs original: ours max %d, GDCM max %d%n", diff,
			Jpeg2000CodecTest.meanAbsDiff(ours, gdcm), Jpeg2000CodecTest.maxAbsDiff(ours, original), Jpeg2000CodecTest.maxAbsDiff(gdcm, original));
		assertTrue(diff <= 2, "ours vs GDCM: max " + diff);
		assertTrue(Jpeg2000CodecTest.meanAbsDiff(ours, gdcm) < 0.2, "ours vs GDCM: mean " + Jpeg2000CodecTest.meanAbsDiff(ours, gdcm));
		int ourError = Jpeg2000CodecTest.maxAbsDiff(ours, original), gdcmError = Jpeg2000CodecTest.maxAbsDiff(gdcm, original);
		assertTrue(ourError <= gdcmError + 2, "ours " + ourError + ", GDCM's " + gdcmError);
		assertTrue(Jpeg2000CodecTest.meanAbsDiff(ours, original) < 30, "mean error " + Jpeg2000CodecTest.meanAbsDiff(ours, original));
	}

	static int[] slice8(long seed) {
		int[] s = slice12(seed);
		for (int i = 0; i < s.length; i++) s[i] >>= 4;
		return s;
	}

	@Test
	void baseline8BitEqualsGdcmAndOurDctDecoderIsWithinAUnit() throws Exception {
		int[] original = slice8(32);
		Path file = compress(original, 8, "+eb", "b8");
		TestDicomFile f = new TestDicomFile(file);
		assertEquals("1.2.840.10008.1.2.4.50", f.transferSyntax());
		int[] jdk = decode(f), gdcm = new Jpeg2000CodecTest().gdcmIn(tmp, file);
		assertTrue(Jpeg2000CodecTest.maxAbsDiff(jdk, gdcm) <= 1, "JDK vs GDCM: max " + Jpeg2000CodecTest.maxAbsDiff(jdk, gdcm));
		assertTrue(Jpeg2000CodecTest.meanAbsDiff(jdk, original) < 3, "mean error " + Jpeg2000CodecTest.meanAbsDiff(jdk, original));
		// The 12-bit path's own DCT decoder, run on the 8-bit frame, against the JDK's.
		int[] ours = JpegLossyCodec.decodeDct(f.singleFrame(), "b8");
		System.out.printf("8-bit baseline: JDK vs GDCM max %d; our DCT vs JDK max %d mean %.4f%n", Jpeg2000CodecTest.maxAbsDiff(jdk, gdcm),
			Jpeg2000CodecTest.maxAbsDiff(ours, jdk), Jpeg2000CodecTest.meanAbsDiff(ours, jdk));
		assertTrue(Jpeg2000CodecTest.maxAbsDiff(ours, jdk) <= 2, "our DCT vs JDK: max " + Jpeg2000CodecTest.maxAbsDiff(ours, jdk));
		assertTrue(Jpeg2000CodecTest.meanAbsDiff(ours, jdk) < 0.2, "our DCT vs JDK: mean " + Jpeg2000CodecTest.meanAbsDiff(ours, jdk));
	}

	/**
	 * Restart intervals: after RSTm the DC predictions start again at 0, so bands of whole block rows
	 * compressed on their own and joined with RST markers under one header (full height, DRI of a
	 * band's MCUs) decode to the bands' own decodings. Baseline 8-bit with dcmcjpeg's -ho (the standard Huffman
	 * tables of T.81 Annex K, the same for every band; for 12-bit it can only optimise them per image). Checked for
	 * both the JDK's decoder (the 8-bit path) and our own DCT decoder (the 12-bit path).
	 */
	@Test
	void restartIntervalsDecodeLikeIndependentBands() throws Exception {
		int[] original = slice8(33);
		int band = 64, bands = 512 / band;
		ByteArrayOutputStream joined = new ByteArrayOutputStream();
		int[] expectedJdk = new int[512 * 512], expectedOurs = new int[512 * 512];
		byte[] firstHeader = null;
		for (int k = 0; k < bands; k++) {
			int[] part = Arrays.copyOfRange(original, k * band * 512, (k + 1) * band * 512);
			Path raw = tmp.resolve("band" + k + "-raw.dcm"), out = tmp.resolve("band" + k + ".dcm");
			ExternalTool.require("dcmcjpeg");
			TestDicomFile.writeMinimal(raw, band, 512, 8, false, part);
			ExternalTool.run(List.of("dcmcjpeg", "+eb", "-ho", raw.toString(), out.toString()));
			byte[] frame = new TestDicomFile(out).singleFrame();
			System.arraycopy(JpegLossyCodec.decode(frame, band, 512, 8, false, "band"), 0, expectedJdk, k * band * 512, band * 512);
			System.arraycopy(JpegLossyCodec.decodeDct(frame, "band"), 0, expectedOurs, k * band * 512, band * 512);
			int sos = JpegLsCodecTest.indexOf(frame, 0xDA) - 1;
			int ls = (frame[sos + 2] & 0xFF) << 8 | (frame[sos + 3] & 0xFF);
			int dataStart = sos + 2 + ls, eoi = frame.length;
			while (!((frame[eoi - 2] & 0xFF) == 0xFF && (frame[eoi - 1] & 0xFF) == 0xD9)) eoi--;
			byte[] header = Arrays.copyOfRange(frame, 0, dataStart);
			int sof = JpegLsCodecTest.indexOf(header, 0xC0); // SOF0: Lf (2), P, Y (2)
			if (k == 0) {
				firstHeader = header.clone();
				header[sof + 4] = (byte) (512 >> 8);
				header[sof + 5] = (byte) 512;
				joined.write(header, 0, sos);
				int mcus = band / 8 * 512 / 8;
				joined.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xDD, 0, 4, (byte) (mcus >> 8), (byte) mcus });
				joined.write(header, sos, dataStart - sos);
			}
			else {
				assertArrayEquals(firstHeader, header, "band " + k + " header: the same tables in every band");
				joined.writeBytes(new byte[] { (byte) 0xFF, (byte) (0xD0 + (k - 1) % 8) });
			}
			joined.write(frame, dataStart, eoi - 2 - dataStart);
		}
		joined.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xD9 });
		byte[] stream = joined.toByteArray();
		assertArrayEquals(expectedJdk, JpegLossyCodec.decode(stream, 512, 512, 8, false, "restarts"));
		assertArrayEquals(expectedOurs, JpegLossyCodec.decodeDct(stream, "restarts"));
		assertTrue(Jpeg2000CodecTest.meanAbsDiff(expectedOurs, original) < 3);
	}

	// ------------------------------------------------------------ hostile input

	@Test
	void badInputIsRefusedNamingTheSource() throws Exception {
		byte[] frame = new TestDicomFile(compress(slice12(34), 12, "+ee", "h")).singleFrame();
		for (int keep : new int[] { 0, 1, 2, 10, 100, 400, frame.length / 2, frame.length - 200 }) {
			byte[] cut = Arrays.copyOf(frame, keep);
			IOException e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(cut, 512, 512, 12, false, "bad.dcm"), "kept " + keep);
			assertTrue(e.getMessage().startsWith("bad.dcm"), e.getMessage());
		}
		IOException e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(Arrays.copyOf(frame, frame.length / 2), 512, 512, 12, false, "bad.dcm"));
		assertTrue(e.getMessage().contains("truncated"), e.getMessage());
		byte[] junk = new byte[4000];
		new Random(5).nextBytes(junk);
		e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(junk, 512, 512, 12, false, "bad.dcm"));
		assertTrue(e.getMessage().contains("not a JPEG"), e.getMessage());
		e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(frame, 512, 500, 12, false, "bad.dcm"));
		assertTrue(e.getMessage().contains("Columns x Rows"), e.getMessage());
		// Garbage in the entropy-coded data: refused, or a whole frame.
		Random r = new Random(6);
		for (int trial = 0; trial < 10; trial++) {
			byte[] bad = frame.clone();
			int from = 700 + r.nextInt(bad.length - 800);
			for (int i = from; i < from + 50; i++) bad[i] = (byte) r.nextInt(256);
			try {
				assertEquals(512 * 512, JpegLossyCodec.decode(bad, 512, 512, 12, false, "bad.dcm").length);
			}
			catch (IOException x) {
				assertTrue(x.getMessage().startsWith("bad.dcm"), x.getMessage());
			}
		}
		// A huge frame in a small stream.
		byte[] huge = frame.clone();
		int sof = JpegLsCodecTest.indexOf(huge, 0xC1);
		huge[sof + 4] = 0x3F; huge[sof + 5] = (byte) 0xFF; huge[sof + 6] = 0x3F; huge[sof + 7] = (byte) 0xFF;
		e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(huge, 16383, 16383, 12, false, "bad.dcm"));
		assertTrue(e.getMessage().contains("can hold"), e.getMessage());
	}

	@Test
	void truncated8BitFramesAreRefusedThoughTheJdkOnlyWarns() throws Exception {
		byte[] frame = new TestDicomFile(compress(slice8(37), 8, "+eb", "t8")).singleFrame();
		for (int keep : new int[] { frame.length / 3, frame.length / 2, frame.length - 100 }) {
			byte[] cut = Arrays.copyOf(frame, keep);
			IOException e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(cut, 512, 512, 8, false, "bad.dcm"), "kept " + keep);
			assertTrue(e.getMessage().startsWith("bad.dcm"), e.getMessage());
		}
	}

	@Test
	void progressiveAndLosslessFramesAreRefusedByName() throws Exception {
		Path file = compress(slice8(35), 8, "+es", "progressive");
		byte[] frame = new TestDicomFile(file).singleFrame();
		IOException e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(frame, 512, 512, 8, false, "p.dcm"));
		assertTrue(e.getMessage().startsWith("p.dcm") && e.getMessage().contains("progressive"), e.getMessage());
		Path lossless = compress(slice12(36), 12, "+el", "lossless");
		byte[] ll = new TestDicomFile(lossless).singleFrame();
		e = assertThrows(IOException.class, () -> JpegLossyCodec.decode(ll, 512, 512, 12, false, "l.dcm"));
		assertTrue(e.getMessage().contains("lossless"), e.getMessage());
	}
}
