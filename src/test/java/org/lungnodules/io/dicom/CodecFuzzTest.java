package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated codestreams (random bytes overwritten, bytes cut out or repeated, header fields changed):
 * every decoder either returns a whole frame or throws an IOException naming the source, never
 * another exception, and never takes long. Seeds are fixed, so a failure repeats.
 */
class CodecFuzzTest {

	@TempDir
	Path tmp;

	interface Codec {
		int[] decode(byte[] data, int rows, int cols, int bits, boolean signed, String source) throws IOException;
	}

	static final int TRIALS = Integer.getInteger("codec.fuzz.trials", 150);

	static void fuzz(String name, byte[] frame, int rows, int cols, int bits, boolean signed, Codec codec, long seed) {
		Random r = new Random(seed);
		int refused = 0, decoded = 0;
		for (int trial = 0; trial < TRIALS; trial++) {
			byte[] bad = mutate(frame, r);
			String source = name + " trial " + trial;
			int[][] result = new int[1][];
			try {
				assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
					try {
						result[0] = codec.decode(bad, rows, cols, bits, signed, source);
					}
					catch (IOException e) {
						assertTrue(e.getMessage() != null && e.getMessage().startsWith(source), e.getMessage());
						if (Boolean.getBoolean("codec.fuzz.verbose")) System.out.println("  " + e.getMessage());
					}
				}, source + " took too long");
			}
			catch (org.opentest4j.AssertionFailedError e) {
				throw e;
			}
			catch (Throwable t) {
				throw new AssertionError(source + ": " + t, t);
			}
			if (result[0] != null) {
				assertEquals(rows * cols, result[0].length, source);
				decoded++;
			}
			else refused++;
		}
		System.out.println(name + ": " + decoded + " mutated streams decoded to a whole frame, " + refused + " refused");
	}

	static byte[] mutate(byte[] frame, Random r) {
		byte[] b = frame.clone();
		switch (r.nextInt(5)) {
			case 0 -> { // a few random bytes anywhere, often in the headers
				int n = 1 + r.nextInt(8);
				for (int i = 0; i < n; i++) b[r.nextInt(Math.min(b.length, r.nextBoolean() ? 200 : b.length))] = (byte) r.nextInt(256);
			}
			case 1 -> { // a run of garbage
				int from = r.nextInt(b.length), len = 1 + r.nextInt(500);
				for (int i = from; i < Math.min(b.length, from + len); i++) b[i] = (byte) r.nextInt(256);
			}
			case 2 -> { // bytes cut out
				int from = r.nextInt(b.length), len = 1 + r.nextInt(Math.min(2000, b.length - from));
				byte[] c = new byte[b.length - len];
				System.arraycopy(b, 0, c, 0, from);
				System.arraycopy(b, from + len, c, from, b.length - from - len);
				b = c;
			}
			case 3 -> { // a stretch repeated
				int from = r.nextInt(b.length), len = 1 + r.nextInt(Math.min(2000, b.length - from));
				byte[] c = new byte[b.length + len];
				System.arraycopy(b, 0, c, 0, from + len);
				System.arraycopy(b, from, c, from + len, b.length - from);
				b = c;
			}
			default -> { // 0xFF bytes (markers) sprinkled in
				int n = 1 + r.nextInt(4);
				for (int i = 0; i < n; i++) b[r.nextInt(b.length)] = (byte) 0xFF;
			}
		}
		return b;
	}

	@Test
	void jpeg2000() throws Exception {
		byte[] frame = Jpeg2000CodecTest.shared(Jpeg2000CodecTest.WG04 + "J2KR/CT2_J2KR").singleFrame();
		fuzz("J2KR", frame, 512, 512, 16, true, Jpeg2000Codec::decode, 1);
		byte[] lossy = Jpeg2000CodecTest.shared(Jpeg2000CodecTest.WG04 + "J2KI/CT2_J2KI").singleFrame();
		fuzz("J2KI", lossy, 512, 512, 16, true, Jpeg2000Codec::decode, 2);
	}

	@Test
	void jpegLs() throws Exception {
		byte[] frame = Jpeg2000CodecTest.shared(Jpeg2000CodecTest.WG04 + "JLSL/CT2_JLSL").singleFrame();
		fuzz("JLSL", frame, 512, 512, 16, true, JpegLsCodec::decode, 3);
		byte[] near = Jpeg2000CodecTest.shared(Jpeg2000CodecTest.WG04 + "JLSN/CT2_JLSN").singleFrame();
		fuzz("JLSN", near, 512, 512, 16, true, JpegLsCodec::decode, 4);
	}

	@Test
	void jpegLossy() throws Exception {
		ExternalTool.require("dcmcjpeg");
		int[] slice = JpegLossyCodecTest.slice12(40);
		Path raw = tmp.resolve("raw.dcm"), out = tmp.resolve("e12.dcm");
		TestDicomFile.writeMinimal(raw, 512, 512, 12, false, slice);
		ExternalTool.run(List.of("dcmcjpeg", "+ee", raw.toString(), out.toString()));
		fuzz("JPEG 12-bit", new TestDicomFile(out).singleFrame(), 512, 512, 12, false, JpegLossyCodec::decode, 5);
		int[] slice8 = JpegLossyCodecTest.slice8(41);
		Path raw8 = tmp.resolve("raw8.dcm"), out8 = tmp.resolve("b8.dcm");
		TestDicomFile.writeMinimal(raw8, 512, 512, 8, false, slice8);
		ExternalTool.run(List.of("dcmcjpeg", "+eb", raw8.toString(), out8.toString()));
		fuzz("JPEG 8-bit", new TestDicomFile(out8).singleFrame(), 512, 512, 8, false, JpegLossyCodec::decode, 6);
	}
}
