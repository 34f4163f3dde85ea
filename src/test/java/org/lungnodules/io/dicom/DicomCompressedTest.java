package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;

/**
 * Compressed (encapsulated) DICOM pixel data. RLE Lossless: slices encoded here by a small
 * PackBits encoder of our own, and by dcmtk's dcmcrle. JPEG Lossless (Process 14, SV1 and any
 * predictor): files made by dcmtk's dcmcjpeg from a synthetic series (see
 * {@code compressed/make_synthetic.py}); their truth is the uncompressed originals and the
 * generator's formula, computed again here.
 */
class DicomCompressedTest {

	@TempDir
	Path dir;

	private static Path resource(String name) throws URISyntaxException {
		return Path.of(DicomCompressedTest.class.getResource("compressed/" + name).toURI());
	}

	/** The generator's HU formula (make_synthetic.py: stored = HU + 1024, RescaleIntercept -1024). */
	private static int syntheticHu(int k, int y, int x) {
		int v = Math.floorMod(x * 37 + y * 91 + k * 53, 700) - 1000;
		if (x >= 20 && x < 40 && y >= 20 && y < 40) v = 40 + x * y % 97;
		if (x >= 56) v = 2100 + y * 31 + k * 7;
		if (y >= 60) v = -3024 + x;
		return v;
	}

	private static double hu(CtVolume v, int x, int y, int z) {
		return DicomSeriesSyntheticTest.hu(v, x, y, z);
	}

	@ParameterizedTest
	@ValueSource(strings = { "sv1", "p14", "rle", "raw" })
	void dcmtkCompressedSeriesEqualsTheSyntheticSlices(String folder) throws Exception {
		CtReader.ReadCt ct = DicomSeries.read(resource(folder), null);
		CtVolume v = ct.volume();
		assertArrayEquals(new int[] { 3, 64, 64 }, v.shapeIrc());
		int negative = 0, above2000 = 0;
		for (int z = 0; z < 3; z++)
			for (int y = 0; y < 64; y++)
				for (int x = 0; x < 64; x++) {
					int expected = syntheticHu(z, y, x);
					assertEquals(expected, hu(v, x, y, z), folder + " voxel x=" + x + " y=" + y + " z=" + z);
					if (expected < 0) negative++;
					if (expected > 2000) above2000++;
				}
		// The slice exercises signed values and values above 2000 HU.
		assertTrue(negative > 1000 && above2000 > 500, negative + " / " + above2000);
		assertEquals(-3024 + 5, hu(v, 5, 62, 1));
		assertEquals(2100 + 10 * 31 + 2 * 7, hu(v, 60, 10, 2));
	}

	@Test
	void compressedAndUncompressedGiveTheSameGeometry() throws Exception {
		CtVolume raw = DicomSeries.read(resource("raw"), null).volume();
		for (String folder : List.of("sv1", "p14", "rle")) {
			CtVolume c = DicomSeries.read(resource(folder), null).volume();
			assertArrayEquals(raw.geometry().origin(), c.geometry().origin(), folder);
			assertArrayEquals(raw.geometry().spacing(), c.geometry().spacing(), folder);
			assertArrayEquals(raw.geometry().direction(), c.geometry().direction(), folder);
		}
	}

	// ------------------------------------------------------------ RLE, encoded here

	/** PackBits as DICOM RLE wants it: repeat runs for 3+ equal bytes, literal runs otherwise, at most 128 each. */
	static byte[] packBits(byte[] in) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		int i = 0;
		while (i < in.length) {
			int run = 1;
			while (i + run < in.length && run < 128 && in[i + run] == in[i]) run++;
			if (run >= 3) {
				out.write(1 - run);
				out.write(in[i]);
				i += run;
				continue;
			}
			int start = i, n = 0;
			while (i < in.length && n < 128) {
				if (i + 2 < in.length && in[i] == in[i + 1] && in[i] == in[i + 2]) break;
				i++;
				n++;
			}
			out.write(n - 1);
			out.write(in, start, n);
		}
		return out.toByteArray();
	}

	/** An RLE frame: header, then one segment per byte of the sample, most significant byte first. */
	static byte[] rleFrame(int[] stored, int bytesPerPixel) {
		List<byte[]> segments = new ArrayList<>();
		for (int b = bytesPerPixel - 1; b >= 0; b--) {
			byte[] plane = new byte[stored.length];
			for (int i = 0; i < stored.length; i++) plane[i] = (byte) (stored[i] >> (8 * b));
			segments.add(packBits(plane));
		}
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		byte[] header = new byte[64];
		putU32(header, 0, segments.size());
		int offset = 64;
		for (int s = 0; s < segments.size(); s++) {
			putU32(header, 4 + 4 * s, offset);
			offset += segments.get(s).length;
		}
		out.writeBytes(header);
		for (byte[] s : segments) out.writeBytes(s);
		if (out.size() % 2 == 1) out.write(0); // fragments have even length
		return out.toByteArray();
	}

	static void putU32(byte[] b, int at, long v) {
		for (int i = 0; i < 4; i++) b[at + i] = (byte) (v >> (8 * i));
	}

	/** A 16 x 12 slice with long runs (air), short runs and noise, negative and large values. */
	private static DicomTestWriter.Slice rleSlice(int k) {
		DicomTestWriter.Slice s = DicomSeriesSyntheticTest.slice(k);
		s.rows = 12;
		s.cols = 16;
		s.stored = new int[12 * 16];
		for (int y = 0; y < 12; y++)
			for (int x = 0; x < 16; x++)
				s.stored[y * 16 + x] = y < 3 ? -1000 : y < 6 ? (x * 7919 + y * 104729 + k) % 4000 - 1500 : x < 8 ? 3000 + k : -32768 + x;
		s.syntax = TransferSyntax.RLE_LOSSLESS;
		s.intercept = "0";
		return s;
	}

	/** Splits a frame into two fragments (of even length), which the reader must join again. */
	private static byte[][] twoFragments(byte[] frame) {
		int cut = (frame.length / 4) * 2;
		return new byte[][] { Arrays.copyOfRange(frame, 0, cut), Arrays.copyOfRange(frame, cut, frame.length) };
	}

	@Test
	void ownRleEncodingReadsBackVoxelByVoxel() throws IOException {
		List<DicomTestWriter.Slice> slices = new ArrayList<>();
		for (int k = 0; k < 3; k++) {
			DicomTestWriter.Slice s = rleSlice(k);
			s.fragments = twoFragments(rleFrame(s.stored, 2));
			slices.add(s);
		}
		DicomSeriesSyntheticTest.writeSeries(dir, slices);
		CtVolume v = DicomSeries.read(dir, null).volume();
		assertArrayEquals(new int[] { 3, 12, 16 }, v.shapeIrc());
		for (int z = 0; z < 3; z++)
			for (int y = 0; y < 12; y++)
				for (int x = 0; x < 16; x++)
					assertEquals(slices.get(z).stored[y * 16 + x], hu(v, x, y, z), "x=" + x + " y=" + y + " z=" + z);
	}

	@Test
	void eightBitRleHasOneSegment() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		s.bitsAllocated = 8;
		s.bitsStored = 8;
		s.pixelRepresentation = 0;
		for (int i = 0; i < s.stored.length; i++) s.stored[i] = (i * 13) % 7 == 0 ? 255 : i % 256;
		s.fragments = new byte[][] { rleFrame(s.stored, 1) };
		DicomSeriesSyntheticTest.writeSeries(dir, List.of(s));
		CtVolume v = DicomSeries.read(dir, null).volume();
		for (int y = 0; y < 12; y++)
			for (int x = 0; x < 16; x++) assertEquals(s.stored[y * 16 + x], hu(v, x, y, 0));
	}

	// ------------------------------------------------------------ hostile RLE and fragments

	private DicomException readFails(DicomTestWriter.Slice s) throws IOException {
		Path file = dir.resolve("bad.dcm");
		DicomTestWriter.write(file, s);
		DicomException e = assertThrows(DicomException.class, () -> DicomSeries.read(dir, null));
		assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
		return e;
	}

	private static void assertMentions(Exception e, String... parts) {
		for (String p : parts) assertTrue(e.getMessage().contains(p), "\"" + p + "\" not in: " + e.getMessage());
	}

	@Test
	void rleWithWrongSegmentCountFails() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		byte[] frame = rleFrame(s.stored, 2);
		putU32(frame, 0, 3);
		s.fragments = new byte[][] { frame };
		assertMentions(readFails(s), "RLE header declares 3 segments");
	}

	@Test
	void rleOffsetsOutsideTheFrameFail() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		byte[] frame = rleFrame(s.stored, 2);
		putU32(frame, 8, 0xFFFFFFF0L);
		s.fragments = new byte[][] { frame };
		assertMentions(readFails(s), "RLE segment offsets", "not increasing inside the frame");
		frame = rleFrame(s.stored, 2);
		putU32(frame, 4, 0);
		s.fragments = new byte[][] { frame };
		assertMentions(readFails(s), "RLE segment 1 starts at offset 0");
	}

	@Test
	void rleSegmentTooShortFails() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		byte[] frame = rleFrame(s.stored, 2);
		// Cuts the low-byte segment (the last one) short.
		s.fragments = new byte[][] { Arrays.copyOf(frame, frame.length - 12) };
		DicomException e = readFails(s);
		assertTrue(e.getMessage().contains("RLE segment 2"), e.getMessage());
	}

	@Test
	void rleRunPastThePixelsFails() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		int pixels = s.stored.length;
		// Segment 1: one repeat run of 128 zeros, twice: 256 bytes for 192 pixels.
		byte[] frame = new byte[64 + 4 + 4];
		putU32(frame, 0, 2);
		putU32(frame, 4, 64);
		putU32(frame, 8, 68);
		frame[64] = (byte) -127; frame[65] = 0; frame[66] = (byte) -127; frame[67] = 0;
		frame[68] = (byte) -127; frame[69] = 0; frame[70] = (byte) -127; frame[71] = 0;
		s.fragments = new byte[][] { frame };
		assertMentions(readFails(s), "RLE segment 1", "repeat run of 128", "its " + pixels + " pixels");
		// A literal run that claims more bytes than its segment holds.
		frame[64] = 127;
		assertMentions(readFails(s), "RLE segment 1", "literal run of 128");
	}

	@Test
	void fragmentPastTheEndOfTheFileFails() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		s.fragments = new byte[][] { rleFrame(s.stored, 2) };
		byte[] bytes = DicomTestWriter.encode(s);
		// The fragment's length field sits 4 bytes before its data (which starts with the RLE header "02 00 00 00 40 00").
		int at = indexOf(bytes, new byte[] { 2, 0, 0, 0, 64, 0, 0, 0 });
		putU32(bytes, at - 4, 0x7FFFFFF0L);
		Path file = dir.resolve("bad.dcm");
		Files.write(file, bytes);
		DicomException e = assertThrows(DicomException.class, () -> DicomSeries.read(dir, null));
		assertMentions(e, file.toString(), "fragment", "past the end of the file");
		// No sequence delimiter: the file ends after the fragment.
		putU32(bytes, at - 4, bytes.length - at - 8);
		Files.write(file, Arrays.copyOf(bytes, bytes.length - 8));
		e = assertThrows(DicomException.class, () -> DicomSeries.read(dir, null));
		assertMentions(e, file.toString(), "no sequence delimiter");
	}

	@Test
	void emptyEncapsulatedPixelDataFails() throws IOException {
		DicomTestWriter.Slice s = rleSlice(0);
		s.fragments = new byte[0][];
		assertMentions(readFails(s), "holds no compressed data");
	}

	private static int indexOf(byte[] hay, byte[] needle) {
		outer:
		for (int i = 0; i + needle.length <= hay.length; i++) {
			for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
			return i;
		}
		throw new AssertionError("pattern not found");
	}

	// ------------------------------------------------------------ JPEG: broken streams and refusals

	@Test
	void brokenJpegLosslessStreamFailsNamingTheFile() throws IOException {
		DicomTestWriter.Slice s = DicomSeriesSyntheticTest.slice(0);
		s.syntax = TransferSyntax.JPEG_LOSSLESS_SV1; // the writer's stub fragment: SOI, EOI, no frame
		assertMentions(readFails(s), "JPEG Lossless", "cannot be decoded");
	}

	@Test
	void jpegOfAnotherSizeFails() throws Exception {
		byte[] bytes = Files.readAllBytes(resource("sv1/slice0.dcm"));
		// Columns (0028,0011) US 64 -> 32: the JPEG frame is still 64 x 64.
		int at = indexOf(bytes, new byte[] { 0x28, 0, 0x11, 0, 'U', 'S', 2, 0, 64, 0 });
		bytes[at + 8] = 32;
		Path file = dir.resolve("bad.dcm");
		Files.write(file, bytes);
		DicomException e = assertThrows(DicomException.class, () -> DicomSeries.read(dir, null));
		assertMentions(e, file.toString(), "64x64", "32x64");
	}

	/**
	 * 0xFF fill bytes before EOI are legal (T.81 B.1.1.2); dcmcjpeg writes one when the entropy data
	 * ends on a byte boundary (as on 9 of the 133 slices of LIDC-IDRI-0001), and TwelveMonkeys 3.13.0
	 * alone then leaves the last pixel 0. compressed/fill/slice0.dcm is such a frame (made by
	 * {@code make_synthetic.py OUT --fill N} and dcmcjpeg +e1): air (-3024 HU) fills its last rows.
	 */
	@Test
	void fillByteBeforeTheEndOfImageKeepsTheLastPixel() throws Exception {
		byte[] bytes = Files.readAllBytes(resource("fill/slice0.dcm"));
		int eoi = indexOf(bytes, new byte[] { (byte) 0xFF, (byte) 0xFF, (byte) 0xD9, (byte) 0xFE, (byte) 0xFF, (byte) 0xDD, (byte) 0xE0 });
		assertTrue(bytes[eoi - 1] != (byte) 0xFF, "exactly one fill byte");
		CtVolume v = DicomSeries.read(resource("fill"), null).volume();
		for (int y = 0; y < 64; y++)
			for (int x = 0; x < 64; x++)
				assertEquals(y >= 60 ? -3024 : syntheticHu(0, y, x), hu(v, x, y, 0), "x=" + x + " y=" + y);
	}

	@ParameterizedTest
	@ValueSource(strings = { "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51" })
	void lossyJpegIsRefusedBecauseItChangesHu(String syntax) throws IOException {
		DicomTestWriter.Slice s = DicomSeriesSyntheticTest.slice(0);
		s.syntax = syntax;
		assertMentions(readFails(s), syntax, "lossy", "HU");
	}

	@ParameterizedTest
	@ValueSource(strings = { "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.201" })
	void otherCompressedSyntaxesAreRefusedByName(String syntax) throws IOException {
		DicomTestWriter.Slice s = DicomSeriesSyntheticTest.slice(0);
		s.syntax = syntax;
		assertMentions(readFails(s), syntax, "does not decode");
	}

	/** JPEG-LS and JPEG 2000 are decoded now: a frame that is not what its syntax says fails naming the syntax and the problem. */
	@ParameterizedTest
	@ValueSource(strings = { "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90" })
	void aBrokenJpegLsOrJpeg2000FrameFailsNamingTheSyntax(String syntax) throws IOException {
		DicomTestWriter.Slice s = DicomSeriesSyntheticTest.slice(0);
		s.syntax = syntax;
		assertMentions(readFails(s), syntax, "cannot be decoded");
	}
}
