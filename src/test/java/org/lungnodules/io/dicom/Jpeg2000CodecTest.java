package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.SharedData;

/**
 * JPEG 2000 frames decoded by {@link Jpeg2000Codec} against independent truths: NEMA WG04's
 * uncompressed originals (J2KR must equal them exactly), pydicom's truth JSON (computed with pydicom
 * and GDCM), GDCM decoding the same lossy file at test time, and slices compressed here by gdcmconv.
 */
class Jpeg2000CodecTest {

	@TempDir
	Path tmp;

	static final String WG04 = "dicom-corpus/nema_wg04_ct/";

	static TestDicomFile shared(String relative) throws IOException {
		return new TestDicomFile(SharedData.require(relative));
	}

	static int[] decode(TestDicomFile f) throws IOException {
		return Jpeg2000Codec.decode(f.singleFrame(), f.rows(), f.columns(), f.bitsStored(), f.signed(), f.file.toString());
	}

	@ParameterizedTest
	@ValueSource(strings = { "CT1", "CT2" })
	void wg04LosslessEqualsTheUncompressedOriginal(String ct) throws Exception {
		TestDicomFile j2k = shared(WG04 + "J2KR/" + ct + "_J2KR"), ref = shared(WG04 + "REF/" + ct + "_UNC.dcm");
		assertEquals("1.2.840.10008.1.2.4.90", j2k.transferSyntax());
		int[] expected = ref.nativePixels16(), got = decode(j2k);
		assertEquals(512 * 512, expected.length);
		assertArrayEquals(expected, got);
		// Signed data with negative values (CT1 pads with -2000): the sign survived.
		assertTrue(Arrays.stream(expected).min().getAsInt() < -1000);
	}

	/** GDCM's decoding of the same file (pydicom's GDCM handler, at test time). */
	int[] gdcm(Path dicom) throws Exception {
		return gdcmIn(tmp, dicom);
	}

	int[] gdcmIn(Path tmp, Path dicom) throws Exception {
		ExternalTool.requirePydicomWithGdcm();
		Path script = Path.of(Jpeg2000CodecTest.class.getResource("gdcm_decode.py").toURI());
		Path out = tmp.resolve(dicom.getFileName() + ".raw");
		ExternalTool.run(List.of(ExternalTool.PYTHON, script.toString(), dicom.toString(), out.toString()));
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
		int[] v = new int[b.remaining() / 4];
		b.asIntBuffer().get(v);
		return v;
	}

	static int maxAbsDiff(int[] a, int[] b) {
		assertEquals(a.length, b.length);
		int m = 0;
		for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
		return m;
	}

	static double meanAbsDiff(int[] a, int[] b) {
		double s = 0;
		for (int i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
		return s / a.length;
	}

	@ParameterizedTest
	@ValueSource(strings = { "CT1", "CT2" })
	void wg04IrreversibleIsCloseToTheOriginalAndToGdcm(String ct) throws Exception {
		Path file = SharedData.require(WG04 + "J2KI/" + ct + "_J2KI");
		TestDicomFile j2k = new TestDicomFile(file), ref = shared(WG04 + "REF/" + ct + "_UNC.dcm");
		assertEquals("1.2.840.10008.1.2.4.91", j2k.transferSyntax());
		int[] original = ref.nativePixels16(), ours = decode(j2k), theirs = gdcm(file);
		// Two decoders of the same irreversible (9/7 wavelet, floating point) stream may round a few
		// samples differently, never by more than a unit or two.
		assertTrue(maxAbsDiff(ours, theirs) <= 2, "ours vs GDCM: max " + maxAbsDiff(ours, theirs));
		assertTrue(meanAbsDiff(ours, theirs) < 0.05, "ours vs GDCM: mean " + meanAbsDiff(ours, theirs));
		// So our error against the original is GDCM's, give or take that rounding.
		int gdcmError = maxAbsDiff(theirs, original), ourError = maxAbsDiff(ours, original);
		System.out.printf("%s J2KI: ours vs GDCM max %d mean %.4f; vs original: ours max %d mean %.2f, GDCM max %d%n", ct,
			maxAbsDiff(ours, theirs), meanAbsDiff(ours, theirs), ourError, meanAbsDiff(ours, original), gdcmError);
		assertTrue(ourError <= gdcmError + 2, "ours " + ourError + " vs GDCM's " + gdcmError);
		// And the loss is what a lossy CT codec does: small on average, not a different image.
		double mean = meanAbsDiff(ours, original);
		assertTrue(mean > 0 && mean < 60, "mean error against the original: " + mean);
	}

	static String huSha256(int[] stored, double slope, double intercept) throws Exception {
		ByteBuffer b = ByteBuffer.allocate(2 * stored.length).order(ByteOrder.LITTLE_ENDIAN);
		for (int v : stored) b.putShort((short) Math.round(v * slope + intercept));
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
	}

	static String truthField(String json, String field) {
		Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*\"?([-0-9a-f.]+)\"?").matcher(json);
		assertTrue(m.find(), field);
		return m.group(1);
	}

	@ParameterizedTest
	@ValueSource(strings = { "693_J2KR", "J2K_pixelrep_mismatch" })
	void pydicomFilesGiveTheirTruth(String name) throws Exception {
		TestDicomFile f = shared("dicom-corpus/pydicom_ct/single/" + name + ".dcm");
		String truth = Files.readString(SharedData.require("dicom-corpus/truth/pydicom-" + name + ".json"));
		int[] stored = decode(f);
		double slope = f.ds(0x00281053, 1), intercept = f.ds(0x00281052, 0);
		assertEquals(truthField(truth, "hu_sha256"), huSha256(stored, slope, intercept));
		int min = Arrays.stream(stored).min().getAsInt(), max = Arrays.stream(stored).max().getAsInt();
		assertEquals(Double.parseDouble(truthField(truth, "hu_min")), min * slope + intercept);
		assertEquals(Double.parseDouble(truthField(truth, "hu_max")), max * slope + intercept);
	}

	@Test
	void codestreamSignednessDisagreeingWithTheHeaderFollowsTheHeader() throws Exception {
		// J2K_pixelrep_mismatch: the codestream's SIZ says unsigned 13-bit, the header signed 13 bits.
		TestDicomFile f = shared("dicom-corpus/pydicom_ct/single/J2K_pixelrep_mismatch.dcm");
		Jpeg2000Codec.Siz siz = Jpeg2000Codec.readSiz(f.singleFrame(), "x");
		assertEquals(false, siz.signed());
		assertEquals(13, siz.precision());
		assertEquals(13, f.bitsStored());
		assertTrue(f.signed());
		int[] asHeader = decode(f);
		int[] asCodestream = Jpeg2000Codec.decode(f.singleFrame(), 512, 512, 13, false, "x");
		for (int i = 0; i < asHeader.length; i++) {
			assertTrue(asCodestream[i] >= 0 && asCodestream[i] < 8192);
			// Two's complement in 13 bits, by hand.
			assertEquals(asCodestream[i] >= 4096 ? asCodestream[i] - 8192 : asCodestream[i], asHeader[i]);
		}
	}

	/**
	 * As in Fiji: our classes and the plugin jars in a class loader of their own, and a thread context
	 * class loader that cannot see them (so ImageIO's service scanning would not find the plugin).
	 * The codec instantiates the reader's service provider itself, so it still decodes.
	 */
	@Test
	void decodesInAnIsolatedClassLoaderAsInFiji() throws Exception {
		TestDicomFile j2k = shared(WG04 + "J2KR/CT2_J2KR");
		int[] expected = shared(WG04 + "REF/CT2_UNC.dcm").nativePixels16();
		java.net.URL[] urls = {
			Path.of(Jpeg2000Codec.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toURL(),
			Path.of(com.github.jaiimageio.jpeg2000.impl.J2KImageReaderSpi.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toURL(),
			Path.of(com.github.jaiimageio.impl.common.ImageUtil.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toURL() };
		Thread thread = Thread.currentThread();
		ClassLoader saved = thread.getContextClassLoader();
		try (java.net.URLClassLoader plugin = new java.net.URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
			thread.setContextClassLoader(ClassLoader.getPlatformClassLoader());
			Class<?> codec = plugin.loadClass(Jpeg2000Codec.class.getName());
			assertTrue(codec != Jpeg2000Codec.class, "loaded apart from the test's class path");
			Object got = codec.getMethod("decode", byte[].class, int.class, int.class, int.class, boolean.class, String.class)
				.invoke(null, j2k.singleFrame(), 512, 512, 16, true, "isolated");
			assertArrayEquals(expected, (int[]) got);
		}
		finally {
			thread.setContextClassLoader(saved);
		}
	}

	// ------------------------------------------------------------ our own fixtures, compressed by gdcmconv

	/** A synthetic 512x512 int16 CT slice: air, a body, bone above 2000 HU, noise, as stored values (HU). */
	static int[] syntheticSlice(long seed) {
		Random r = new Random(seed);
		int[] v = new int[512 * 512];
		for (int y = 0; y < 512; y++)
			for (int x = 0; x < 512; x++) {
				double dx = (x - 256) / 200.0, dy = (y - 256) / 160.0;
				int hu = dx * dx + dy * dy < 1 ? 40 + (int) (r.nextGaussian() * 30) : -1000 + r.nextInt(20);
				if (Math.abs(x - 256) < 20 && Math.abs(y - 380) < 25) hu = 1500 + r.nextInt(1500);
				if (y < 4) hu = -3024;
				if (y == 511) hu = 32767 - x; // the extremes of int16
				if (y == 510) hu = -32768 + x;
				v[y * 512 + x] = hu;
			}
		return v;
	}

	@Test
	void gdcmconvLosslessRoundTripIsExact() throws Exception {
		ExternalTool.require("gdcmconv");
		int[] slice = syntheticSlice(21);
		Path raw = tmp.resolve("raw.dcm"), j2k = tmp.resolve("j2k.dcm");
		TestDicomFile.writeMinimal(raw, 512, 512, 16, true, slice);
		assertArrayEquals(slice, new TestDicomFile(raw).nativePixels16(), "the fixture itself");
		ExternalTool.run(List.of("gdcmconv", "--j2k", raw.toString(), j2k.toString()));
		TestDicomFile f = new TestDicomFile(j2k);
		assertEquals("1.2.840.10008.1.2.4.90", f.transferSyntax());
		assertArrayEquals(slice, decode(f));
	}

	@Test
	void gdcmconvUnsigned12BitRoundTripIsExact() throws Exception {
		ExternalTool.require("gdcmconv");
		int[] slice = syntheticSlice(5);
		for (int i = 0; i < slice.length; i++) slice[i] = Math.max(0, Math.min(4095, slice[i] + 1024));
		Path raw = tmp.resolve("raw12.dcm"), j2k = tmp.resolve("j2k12.dcm");
		TestDicomFile.writeMinimal(raw, 512, 512, 12, false, slice);
		ExternalTool.run(List.of("gdcmconv", "--j2k", raw.toString(), j2k.toString()));
		TestDicomFile f = new TestDicomFile(j2k);
		assertArrayEquals(slice, decode(f));
	}

	/** A JP2 file (15444-1 Annex I) around a codestream: signature, file type, header (ihdr, colr), jp2c. */
	static byte[] jp2(byte[] codestream, int rows, int cols, int precision, boolean signed) {
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
		java.util.function.BiConsumer<String, byte[]> box = (type, content) -> {
			ByteBuffer b = ByteBuffer.allocate(8 + content.length);
			b.putInt(8 + content.length).put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(content);
			out.writeBytes(b.array());
		};
		box.accept("jP  ", new byte[] { 0x0D, 0x0A, (byte) 0x87, 0x0A });
		box.accept("ftyp", ByteBuffer.allocate(12).put("jp2 ".getBytes()).putInt(0).put("jp2 ".getBytes()).array());
		ByteBuffer ihdr = ByteBuffer.allocate(8 + 14).putInt(22).put("ihdr".getBytes()).putInt(rows).putInt(cols).putShort((short) 1)
			.put((byte) ((precision - 1) | (signed ? 0x80 : 0))).put((byte) 7).put((byte) 0).put((byte) 0);
		ByteBuffer colr = ByteBuffer.allocate(8 + 7).putInt(15).put("colr".getBytes()).put((byte) 1).put((byte) 0).put((byte) 0).putInt(17);
		byte[] header = new byte[22 + 15];
		System.arraycopy(ihdr.array(), 0, header, 0, 22);
		System.arraycopy(colr.array(), 0, header, 22, 15);
		box.accept("jp2h", header);
		box.accept("jp2c", codestream);
		return out.toByteArray();
	}

	@Test
	void aJp2FileInsteadOfARawCodestreamIsReadToo() throws Exception {
		TestDicomFile j2k = shared(WG04 + "J2KR/CT1_J2KR");
		byte[] frame = j2k.singleFrame();
		byte[] wrapped = jp2(Arrays.copyOf(frame, frame.length - 1), 512, 512, 16, true); // without the DICOM pad byte
		assertEquals(0x6A502020, ByteBuffer.wrap(wrapped, 4, 4).getInt());
		assertArrayEquals(shared(WG04 + "REF/CT1_UNC.dcm").nativePixels16(), Jpeg2000Codec.decode(wrapped, 512, 512, 16, true, "jp2"));
		// A JP2 file with no codestream box.
		byte[] empty = Arrays.copyOf(wrapped, wrapped.length - frame.length + 1 - 8);
		IOException e = assertThrows(IOException.class, () -> Jpeg2000Codec.decode(empty, 512, 512, 16, true, "jp2"));
		assertTrue(e.getMessage().contains("no JPEG 2000 codestream"), e.getMessage());
	}

	/**
	 * A tiled codestream (16 tiles of 128 x 128, with SOP/EPH markers), written by jai-imageio's own
	 * JPEG 2000 encoder in lossless mode: our SIZ and tile-part checks walk every tile-part, and the
	 * frame decodes to the 12-bit slice it was made from.
	 */
	@Test
	void tiledCodestreamsRoundTrip() throws Exception {
		int[] slice = syntheticSlice(22);
		for (int i = 0; i < slice.length; i++) slice[i] = Math.max(0, Math.min(4095, slice[i] + 1024));
		java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(512, 512, java.awt.image.BufferedImage.TYPE_USHORT_GRAY);
		image.getRaster().setSamples(0, 0, 512, 512, 0, slice);
		javax.imageio.ImageWriter writer = new com.github.jaiimageio.jpeg2000.impl.J2KImageWriterSpi().createWriterInstance();
		com.github.jaiimageio.jpeg2000.J2KImageWriteParam param = new com.github.jaiimageio.jpeg2000.J2KImageWriteParam();
		param.setWriteCodeStreamOnly(true);
		param.setLossless(true);
		param.setFilter(com.github.jaiimageio.jpeg2000.J2KImageWriteParam.FILTER_53);
		param.setTilingMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
		param.setTiling(128, 128, 0, 0);
		param.setSOP(true);
		param.setEPH(true);
		java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
		try (javax.imageio.stream.ImageOutputStream out = javax.imageio.ImageIO.createImageOutputStream(bytes)) {
			writer.setOutput(out);
			writer.write(null, new javax.imageio.IIOImage(image, null, null), param);
		}
		finally {
			writer.dispose();
		}
		byte[] codestream = bytes.toByteArray();
		int tileParts = 0;
		for (int i = 0; i + 1 < codestream.length; i++)
			if ((codestream[i] & 0xFF) == 0xFF && (codestream[i + 1] & 0xFF) == 0x90) tileParts++;
		assertTrue(tileParts >= 16, "tile-parts: " + tileParts);
		assertArrayEquals(slice, Jpeg2000Codec.decode(codestream, 512, 512, 12, false, "tiled"));
		// Cut inside the 10th tile-part: refused as truncated.
		assertThrows(IOException.class, () -> Jpeg2000Codec.decode(Arrays.copyOf(codestream, codestream.length * 10 / 16), 512, 512, 12, false, "tiled"));
	}

	// ------------------------------------------------------------ hostile input

	static byte[] wg04Frame() throws IOException {
		return shared(WG04 + "J2KR/CT1_J2KR").singleFrame();
	}

	static void assertRefused(byte[] data, int rows, int cols, String expectedPart) {
		IOException e = assertThrows(IOException.class, () -> Jpeg2000Codec.decode(data, rows, cols, 16, true, "bad.dcm frame 1"));
		assertTrue(e.getMessage().startsWith("bad.dcm frame 1"), e.getMessage());
		if (expectedPart != null) assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
	}

	@Test
	void truncatedCodestreamsAreRefusedNamingTheSource() throws Exception {
		byte[] frame = wg04Frame();
		for (int keep : new int[] { 0, 1, 2, 10, 40, 44, 200, 1000, frame.length / 2, frame.length - 4 }) {
			// JJ2000 alone would decode many of these to a coarser image: never accepted here.
			assertRefused(Arrays.copyOf(frame, keep), 512, 512, null);
		}
		assertRefused(Arrays.copyOf(frame, frame.length / 2), 512, 512, "truncated");
		// Only the final EOC marker (and the pad byte) missing: every tile-part is whole, so the
		// frame decodes, to the original's voxels.
		int eoc = frame.length - 3;
		assertEquals(0xFF, frame[eoc] & 0xFF);
		assertEquals(0xD9, frame[eoc + 1] & 0xFF);
		assertArrayEquals(shared(WG04 + "REF/CT1_UNC.dcm").nativePixels16(),
			Jpeg2000Codec.decode(Arrays.copyOf(frame, eoc), 512, 512, 16, true, "x"));
		assertRefused(Arrays.copyOf(frame, 30), 512, 512, "SIZ");
	}

	@Test
	void garbageIsRefused() throws Exception {
		byte[] junk = new byte[5000];
		new Random(1).nextBytes(junk);
		assertRefused(junk, 512, 512, "not a JPEG 2000 codestream");
		assertRefused(new byte[0], 512, 512, null);
		assertRefused(null, 512, 512, null);
		// A valid header followed by garbage.
		byte[] frame = wg04Frame();
		Random r = new Random(2);
		for (int trial = 0; trial < 6; trial++) {
			byte[] bad = frame.clone();
			for (int i = 300 + trial * 50; i < bad.length; i += 1 + r.nextInt(40)) bad[i] = (byte) r.nextInt(256);
			try {
				assertEquals(512 * 512, Jpeg2000Codec.decode(bad, 512, 512, 16, true, "bad.dcm frame 1").length);
			}
			catch (IOException e) {
				assertTrue(e.getMessage().startsWith("bad.dcm frame 1"), e.getMessage());
			}
		}
	}

	static void putInt(byte[] b, int at, long v) {
		b[at] = (byte) (v >> 24); b[at + 1] = (byte) (v >> 16); b[at + 2] = (byte) (v >> 8); b[at + 3] = (byte) v;
	}

	@Test
	void sizesThatDisagreeOrAreHugeAreRefusedBeforeDecoding() throws Exception {
		byte[] frame = wg04Frame();
		// The header disagrees with the codestream.
		assertRefused(frame, 512, 511, "Columns x Rows");
		assertRefused(frame, 256, 512, "Columns x Rows");
		// A codestream claiming 2^32-1 square pixels (SIZ Xsiz/Ysiz at offsets 8 and 12).
		byte[] huge = frame.clone();
		putInt(huge, 8, 0xFFFFFFFFL);
		putInt(huge, 12, 0xFFFFFFFFL);
		assertRefused(huge, 512, 512, null);
		// Huge, and the header says so too: refused on its size, not by running out of memory.
		IOException e = assertThrows(IOException.class, () -> Jpeg2000Codec.decode(huge, 65535, 65535, 16, true, "bad.dcm"));
		assertTrue(e.getMessage().startsWith("bad.dcm"), e.getMessage());
		// One-pixel tiles: millions of tiles.
		byte[] tiles = frame.clone();
		putInt(tiles, 24, 1);
		putInt(tiles, 28, 1);
		assertRefused(tiles, 512, 512, "tiles");
		// Three components.
		byte[] rgb = frame.clone();
		rgb[40] = 0; rgb[41] = 3;
		assertRefused(rgb, 512, 512, null);
		// Bad DICOM header values.
		assertThrows(IOException.class, () -> Jpeg2000Codec.decode(frame, 512, 512, 0, true, "bad.dcm"));
		assertThrows(IOException.class, () -> Jpeg2000Codec.decode(frame, -1, 512, 16, true, "bad.dcm"));
	}
}
