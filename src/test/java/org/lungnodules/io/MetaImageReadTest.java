package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.Deflater;
import java.util.zip.InflaterInputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.type.numeric.IntegerType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ByteType;
import net.imglib2.type.numeric.integer.IntType;
import net.imglib2.type.numeric.integer.LongType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.integer.UnsignedByteType;
import net.imglib2.type.numeric.integer.UnsignedIntType;
import net.imglib2.type.numeric.integer.UnsignedLongType;
import net.imglib2.type.numeric.integer.UnsignedShortType;
import net.imglib2.type.numeric.real.DoubleType;
import net.imglib2.type.numeric.real.FloatType;

/** Reading MetaImage files written by other tools or by hand here (never by our writer). */
class MetaImageReadTest {

	@TempDir
	Path dir;

	// ------------------------------------------------------------ shared reference files

	@Test
	void phantomVoxelsMatchRawBytesAndGeometry() throws IOException {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		MetaImage m = MetaImage.read(mhd);
		assertArrayEquals(new long[] { 256, 256, 96 }, m.dimensions());
		assertEquals("MET_SHORT", m.elementType());
		assertInstanceOf(ShortType.class, m.image().firstElement());
		assertInstanceOf(ArrayImg.class, m.image());
		assertArrayEquals(new double[] { 0.7, 0.7, 1.25 }, m.spacing());
		assertArrayEquals(new double[] { -90, -120, -300 }, m.origin());
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, m.direction());
		assertEquals("RAI", m.anatomicalOrientation());
		assertEquals("phantom-a.raw", m.header().get("ElementDataFile"));

		Path raw = mhd.resolveSibling("phantom-a.raw");
		int[][] xyz = { { 0, 0, 0 }, { 255, 255, 95 }, { 61, 147, 37 }, { 200, 68, 38 }, { 128, 128, 48 }, { 10, 200, 3 } };
		try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "r")) {
			RandomAccess<? extends RealType<?>> ra = m.image().randomAccess();
			for (int[] p : xyz) {
				f.seek(2L * (p[0] + 256L * (p[1] + 256L * p[2])));
				int lo = f.read(), hi = f.read();
				short expected = (short) ((hi << 8) | lo);
				ra.setPosition(new long[] { p[0], p[1], p[2] });
				assertEquals(expected, ra.get().getRealDouble(), "voxel " + java.util.Arrays.toString(p));
			}
		}
		// A nodule centre (summary.json) is solid tissue, far above lung air.
		RandomAccess<? extends RealType<?>> ra = m.image().randomAccess();
		ra.setPosition(new long[] { 61, 147, 37 });
		assertTrue(ra.get().getRealDouble() > -300, "nodule centre should be dense");

		CtVolume v = MetaImage.readVolume(mhd);
		assertEquals("phantom-a", v.seriesUid());
		double[] w = v.geometry().voxelToWorld(37, 147, 61);
		assertArrayEquals(new double[] { -90 + 61 * 0.7, -120 + 147 * 0.7, -300 + 37 * 1.25 }, w, 1e-9);
	}

	@Test
	void compressedProbabilityMapMatchesIndependentInflate() throws IOException {
		Path mhd = SharedData.require("reference/phantom-a/seg-probability.mhd");
		MetaImage m = MetaImage.read(mhd);
		assertArrayEquals(new long[] { 256, 256, 96 }, m.dimensions());
		assertInstanceOf(FloatType.class, m.image().firstElement());
		float[] expected = new float[256 * 256 * 96];
		try (InputStream in = new InflaterInputStream(Files.newInputStream(mhd.resolveSibling("seg-probability.zraw")))) {
			byte[] all = in.readAllBytes();
			assertEquals(expected.length * 4, all.length);
			ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
		}
		Cursor<? extends RealType<?>> c = m.image().cursor();
		int i = 0;
		float max = 0;
		while (c.hasNext()) {
			float v = c.next().getRealFloat();
			assertTrue(v >= 0 && v <= 1, "probability out of [0,1]: " + v);
			assertEquals(expected[i++], v);
			max = Math.max(max, v);
		}
		assertTrue(max > 0.5f, "the map should find the nodules");
	}

	@ParameterizedTest
	@ValueSource(strings = { "cls-inputs", "seg-inputs", "seg-expected" })
	void unitFilesMatchRawFloats(String name) throws IOException {
		Path mhd = SharedData.require("reference/unit/" + name + ".mhd");
		MetaImage m = MetaImage.read(mhd);
		byte[] raw = Files.readAllBytes(mhd.resolveSibling(name + ".raw"));
		float[] expected = new float[raw.length / 4];
		ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
		long n = 1;
		for (long d : m.dimensions())
			n *= d;
		assertEquals(expected.length, n);
		Cursor<? extends RealType<?>> c = m.image().cursor();
		for (int i = 0; c.hasNext(); i++)
			assertEquals(expected[i], c.next().getRealFloat());
	}

	// ------------------------------------------------------------ layouts

	private static final String HEAD3 = "ObjectType = Image\nNDims = 3\nDimSize = 3 2 2\nElementType = MET_SHORT\n";
	private static final short[] VALUES12 = { -1024, -1000, 0, 1, 2, 3, 32767, -32768, 400, 500, 600, 700 };

	private static byte[] shortsLE(short[] v) {
		ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
		for (short s : v)
			b.putShort(s);
		return b.array();
	}

	private static byte[] concat(byte[]... parts) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (byte[] p : parts)
			out.writeBytes(p);
		return out.toByteArray();
	}

	private static byte[] ascii(String s) {
		return s.getBytes(StandardCharsets.ISO_8859_1);
	}

	private static byte[] zlib(byte[] data) {
		Deflater d = new Deflater();
		d.setInput(data);
		d.finish();
		byte[] buf = new byte[data.length * 2 + 64];
		int n = d.deflate(buf);
		d.end();
		return java.util.Arrays.copyOf(buf, n);
	}

	private static void assertShorts(short[] expected, Img<? extends RealType<?>> img) {
		assertInstanceOf(ShortType.class, img.firstElement());
		Cursor<? extends RealType<?>> c = img.cursor();
		for (short s : expected)
			assertEquals(s, c.next().getRealDouble());
		assertTrue(!c.hasNext());
	}

	private Path write(String name, byte[] content) throws IOException {
		Path p = dir.resolve(name);
		Files.createDirectories(p.getParent());
		Files.write(p, content);
		return p;
	}

	@Test
	void mhdWithRaw() throws IOException {
		write("a.raw", shortsLE(VALUES12));
		MetaImage m = MetaImage.read(write("a.mhd", ascii(HEAD3 + "ElementDataFile = a.raw\n")));
		assertShorts(VALUES12, m.image());
		assertArrayEquals(new double[] { 1, 1, 1 }, m.spacing());
		assertArrayEquals(new double[3], m.origin());
	}

	@Test
	void mhaLocalWithCrLfAndOddSpacing() throws IOException {
		String head = ("  objecttype=Image \r\n ndims =3\r\nDIMSIZE =  3   2 2 \r\nelementtype = met_short\r\n" +
			"ElementSize = 0.5 0.25 2\r\nPosition = 1 2 3\r\nElementDataFile = LOCAL\r\n");
		MetaImage m = MetaImage.read(write("a.mha", concat(ascii(head), shortsLE(VALUES12))));
		assertShorts(VALUES12, m.image());
		assertArrayEquals(new double[] { 0.5, 0.25, 2 }, m.spacing());
		assertArrayEquals(new double[] { 1, 2, 3 }, m.origin());
	}

	@Test
	void elementSpacingWinsOverElementSize() throws IOException {
		write("a.raw", shortsLE(VALUES12));
		MetaImage m = MetaImage.read(write("a.mhd",
			ascii(HEAD3 + "ElementSize = 9 9 9\nElementSpacing = 0.7 0.7 1.25\nOrigin = -5 6 -7\nElementDataFile = a.raw\n")));
		assertArrayEquals(new double[] { 0.7, 0.7, 1.25 }, m.spacing());
		assertArrayEquals(new double[] { -5, 6, -7 }, m.origin());
	}

	@ParameterizedTest
	@ValueSource(strings = { "TransformMatrix", "Rotation", "Orientation" })
	void directionIsTransposeOfFileMatrix(String key) throws IOException {
		write("a.raw", shortsLE(VALUES12));
		// Axis 0 points along +y, axis 1 along -x, axis 2 along +z (file lists axis directions in turn).
		MetaImage m = MetaImage.read(write("a.mhd", ascii(HEAD3 + key + " = 0 1 0 -1 0 0 0 0 1\nAnatomicalOrientation = ARI\n" +
			"Offset = 10 20 30\nElementSpacing = 2 3 4\nElementDataFile = a.raw\n")));
		// SimpleITK form: column c = direction of axis c.
		assertArrayEquals(new double[] { 0, -1, 0, 1, 0, 0, 0, 0, 1 }, m.direction());
		assertEquals("ARI", m.anatomicalOrientation());
		Geometry g = m.geometry();
		// Voxel (col 1, row 0, index 0) lies one x-step (2 mm) along axis 0 = +y.
		assertArrayEquals(new double[] { 10, 22, 30 }, g.voxelToWorld(0, 0, 1), 1e-12);
		assertArrayEquals(new double[] { 7, 20, 30 }, g.voxelToWorld(0, 1, 0), 1e-12);
	}

	@Test
	void zrawWithAndWithoutCompressedDataSize() throws IOException {
		byte[] z = zlib(shortsLE(VALUES12));
		write("c.zraw", z);
		MetaImage m = MetaImage.read(write("c.mhd",
			ascii(HEAD3 + "CompressedData = True\nCompressedDataSize = " + z.length + "\nElementDataFile = c.zraw\n")));
		assertShorts(VALUES12, m.image());
		m = MetaImage.read(write("d.mhd", ascii(HEAD3 + "CompressedData = True\nElementDataFile = c.zraw\n")));
		assertShorts(VALUES12, m.image());
		// Compressed .mha
		m = MetaImage.read(write("e.mha", concat(ascii(HEAD3 + "CompressedData = True\nCompressedDataSize = " + z.length +
			"\nElementDataFile = LOCAL\n"), z)));
		assertShorts(VALUES12, m.image());
	}

	@Test
	void zlibThatInflatesToTooFewOrTooManyBytesIsRejected() throws IOException {
		write("short.zraw", zlib(shortsLE(java.util.Arrays.copyOf(VALUES12, 11))));
		MetaImageException e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("s.mhd", ascii(HEAD3 + "CompressedData = True\nElementDataFile = short.zraw\n"))));
		assertTrue(e.getMessage().contains("short.zraw") && e.getMessage().contains("22"), e.getMessage());
		write("long.zraw", zlib(shortsLE(java.util.Arrays.copyOf(VALUES12, 13))));
		e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("l.mhd", ascii(HEAD3 + "CompressedData = True\nElementDataFile = long.zraw\n"))));
		assertTrue(e.getMessage().contains("more than the 24"), e.getMessage());
		byte[] corrupt = zlib(shortsLE(VALUES12));
		for (int i = 2; i < corrupt.length; i++)
			corrupt[i] ^= 0x5a;
		write("bad.zraw", corrupt);
		e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("b.mhd", ascii(HEAD3 + "CompressedData = True\nElementDataFile = bad.zraw\n"))));
		assertTrue(e.getMessage().contains("bad.zraw"), e.getMessage());
		byte[] cut = java.util.Arrays.copyOf(zlib(shortsLE(VALUES12)), 6);
		write("cut.zraw", cut);
		e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("t.mhd", ascii(HEAD3 + "CompressedData = True\nElementDataFile = cut.zraw\n"))));
		assertTrue(e.getMessage().contains("cut.zraw"), e.getMessage());
	}

	@Test
	void listOfSliceFiles() throws IOException {
		for (int z = 0; z < 2; z++)
			write("s" + z + ".raw", shortsLE(java.util.Arrays.copyOfRange(VALUES12, 6 * z, 6 * z + 6)));
		assertShorts(VALUES12, MetaImage.read(write("l.mhd", ascii(HEAD3 + "ElementDataFile = LIST\ns0.raw\ns1.raw\n"))).image());
		assertShorts(VALUES12, MetaImage.read(write("l2.mhd", ascii(HEAD3 + "ElementDataFile = LIST 2D\n\n s0.raw \ns1.raw"))).image());
		// MetaIO's numbered form
		assertShorts(VALUES12, MetaImage.read(write("p.mhd", ascii(HEAD3 + "ElementDataFile = s%d.raw 0 1 1\n"))).image());
		MetaImageException e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("l3.mhd", ascii(HEAD3 + "ElementDataFile = LIST\ns0.raw\n"))));
		assertTrue(e.getMessage().contains("l3.mhd") && e.getMessage().contains("2 file names"), e.getMessage());
	}

	@Test
	void listOf3dFilesIn4d() throws IOException {
		String head = "NDims = 4\nDimSize = 3 2 1 2\nElementType = MET_SHORT\n";
		for (int t = 0; t < 2; t++)
			write("sub/t" + t + ".raw", shortsLE(java.util.Arrays.copyOfRange(VALUES12, 6 * t, 6 * t + 6)));
		MetaImage m = MetaImage.read(write("f.mhd", ascii(head + "ElementDataFile = LIST 3D\nsub/t0.raw\nsub/t1.raw\n")));
		assertArrayEquals(new long[] { 3, 2, 1, 2 }, m.dimensions());
		assertShorts(VALUES12, m.image());
		assertEquals(16, m.direction().length);
	}

	@Test
	void headerSizeSkipsBytesAndMinusOneMeansLastBytes() throws IOException {
		byte[] junk = ascii("JUNK-HEADER!");
		write("h.raw", concat(junk, shortsLE(VALUES12)));
		assertShorts(VALUES12, MetaImage.read(write("h.mhd", ascii(HEAD3 + "HeaderSize = 12\nElementDataFile = h.raw\n"))).image());
		assertShorts(VALUES12, MetaImage.read(write("m.mhd", ascii(HEAD3 + "HeaderSize = -1\nElementDataFile = h.raw\n"))).image());
		// In a .mha, HeaderSize counts from the end of the header.
		assertShorts(VALUES12, MetaImage.read(write("h.mha", concat(ascii(HEAD3 + "HeaderSize = 12\nElementDataFile = LOCAL\n"), junk,
			shortsLE(VALUES12)))).image());
		byte[] z = zlib(shortsLE(VALUES12));
		write("hz.zraw", concat(junk, z));
		assertShorts(VALUES12, MetaImage.read(write("hz.mhd", ascii(HEAD3 + "HeaderSize = -1\nCompressedData = True\n" +
			"CompressedDataSize = " + z.length + "\nElementDataFile = hz.zraw\n"))).image());
	}

	@Test
	void twoDimensional() throws IOException {
		write("p.raw", shortsLE(VALUES12));
		MetaImage m = MetaImage.read(write("p.mhd", ascii("NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n" +
			"ElementSpacing = 0.5 0.5\nOffset = 1 -1\nTransformMatrix = 1 0 0 1\nElementDataFile = p.raw\n")));
		assertArrayEquals(new long[] { 4, 3 }, m.dimensions());
		assertShorts(VALUES12, m.image());
		assertArrayEquals(new double[] { 1, -1 }, m.origin());
		assertThrows(IllegalStateException.class, m::geometry);
	}

	// ------------------------------------------------------------ every element type, both byte orders

	/** Per type: the values written (as longs or doubles), its byte size and the ImgLib2 class it must come back as. */
	private static Object[] typeCase(String type) {
		switch (type) {
			case "MET_CHAR": return new Object[] { 1, ByteType.class, new long[] { -128, -1, 0, 127 } };
			case "MET_UCHAR": return new Object[] { 1, UnsignedByteType.class, new long[] { 0, 1, 200, 255 } };
			case "MET_SHORT": return new Object[] { 2, ShortType.class, new long[] { -32768, -1000, 0, 32767 } };
			case "MET_USHORT": return new Object[] { 2, UnsignedShortType.class, new long[] { 0, 1000, 40000, 65535 } };
			case "MET_INT": case "MET_LONG":
				return new Object[] { 4, IntType.class, new long[] { Integer.MIN_VALUE, -5, 70000, Integer.MAX_VALUE } };
			case "MET_UINT": case "MET_ULONG":
				return new Object[] { 4, UnsignedIntType.class, new long[] { 0, 5, 3_000_000_000L, 4_294_967_295L } };
			case "MET_LONG_LONG": return new Object[] { 8, LongType.class, new long[] { Long.MIN_VALUE, -3, 1L << 40, Long.MAX_VALUE } };
			case "MET_ULONG_LONG": return new Object[] { 8, UnsignedLongType.class, new long[] { 0, 7, 1L << 62, -1L /* 2^64-1 */ } };
			case "MET_FLOAT": return new Object[] { 4, FloatType.class, new double[] { -1.5, 0, 3.25e-7, Float.MAX_VALUE } };
			default: return new Object[] { 8, DoubleType.class, new double[] { -1.5, 0, Math.PI, -Double.MAX_VALUE } };
		}
	}

	static final String[] ALL_TYPES = { "MET_CHAR", "MET_UCHAR", "MET_SHORT", "MET_USHORT", "MET_INT", "MET_UINT", "MET_LONG",
		"MET_ULONG", "MET_LONG_LONG", "MET_ULONG_LONG", "MET_FLOAT", "MET_DOUBLE" };

	@ParameterizedTest
	@ValueSource(strings = { "MET_CHAR", "MET_UCHAR", "MET_SHORT", "MET_USHORT", "MET_INT", "MET_UINT", "MET_LONG", "MET_ULONG",
		"MET_LONG_LONG", "MET_ULONG_LONG", "MET_FLOAT", "MET_DOUBLE" })
	void everyTypeInBothByteOrders(String type) throws IOException {
		Object[] tc = typeCase(type);
		int size = (Integer) tc[0];
		for (String orderKey : new String[] { "BinaryDataByteOrderMSB = False", "BinaryDataByteOrderMSB = True",
			"ElementByteOrderMSB = True", "" })
		{
			ByteOrder order = orderKey.endsWith("True") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
			ByteBuffer b = ByteBuffer.allocate(4 * size).order(order);
			for (int i = 0; i < 4; i++) {
				if (tc[2] instanceof long[]) {
					long v = ((long[]) tc[2])[i];
					if (size == 1) b.put((byte) v);
					else if (size == 2) b.putShort((short) v);
					else if (size == 4) b.putInt((int) v);
					else b.putLong(v);
				}
				else {
					double v = ((double[]) tc[2])[i];
					if (size == 4) b.putFloat((float) v);
					else b.putDouble(v);
				}
			}
			String name = type + (orderKey.isEmpty() ? "" : orderKey.substring(0, 3) + orderKey.endsWith("True"));
			write(name + ".raw", b.array());
			MetaImage m = MetaImage.read(write(name + ".mhd", ascii("NDims = 2\nDimSize = 2 2\nElementType = " + type + "\n" +
				orderKey + "\nElementDataFile = " + name + ".raw\n")));
			assertEquals(type, m.elementType());
			assertInstanceOf((Class<?>) tc[1], m.image().firstElement(), type);
			Cursor<? extends RealType<?>> c = m.image().cursor();
			for (int i = 0; i < 4; i++) {
				RealType<?> v = c.next();
				if (tc[2] instanceof long[]) {
					long expected = ((long[]) tc[2])[i];
					if (v instanceof UnsignedLongType) assertEquals(expected, ((UnsignedLongType) v).get(), type + " " + orderKey);
					else assertEquals(expected, ((IntegerType<?>) v).getIntegerLong(), type + " " + orderKey);
				}
				else {
					double expected = ((double[]) tc[2])[i];
					assertEquals(size == 4 ? (float) expected : expected, v.getRealDouble(), type + " " + orderKey);
				}
			}
		}
	}

	// ------------------------------------------------------------ bad input

	private MetaImageException bad(String headerName, String header) throws IOException {
		Path p = write(headerName, ascii(header));
		MetaImageException e = assertThrows(MetaImageException.class, () -> MetaImage.read(p));
		assertTrue(e.getMessage().contains(headerName), "message should name the file: " + e.getMessage());
		return e;
	}

	private static void assertMentions(MetaImageException e, String... parts) {
		for (String part : parts)
			assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
	}

	@Test
	void truncatedAndOversizedAndMissingDataFiles() throws IOException {
		write("t.raw", java.util.Arrays.copyOf(shortsLE(VALUES12), 23));
		MetaImageException e = assertThrows(MetaImageException.class,
			() -> MetaImage.read(write("t.mhd", ascii(HEAD3 + "ElementDataFile = t.raw\n"))));
		assertMentions(e, "t.raw", "truncated", "24");
		write("o.raw", concat(shortsLE(VALUES12), new byte[2]));
		e = assertThrows(MetaImageException.class, () -> MetaImage.read(write("o.mhd", ascii(HEAD3 + "ElementDataFile = o.raw\n"))));
		assertMentions(e, "o.raw", "26", "24", "DimSize");
		assertMentions(bad("n.mhd", HEAD3 + "ElementDataFile = nothere.raw\n"), "ElementDataFile", "nothere.raw", "does not exist");
		// .mha whose data stop early
		e = assertThrows(MetaImageException.class, () -> MetaImage.read(write("t.mha",
			concat(ascii(HEAD3 + "ElementDataFile = LOCAL\n"), java.util.Arrays.copyOf(shortsLE(VALUES12), 20)))));
		assertMentions(e, "t.mha", "truncated");
	}

	@Test
	void sizesThatOverflowOrCannotFitAreRejectedBeforeAllocating() throws IOException {
		write("x.raw", new byte[16]);
		assertMentions(bad("ov.mhd", "NDims = 3\nDimSize = 4294967296 4294967296 4294967296\nElementType = MET_SHORT\n" +
			"ElementDataFile = x.raw\n"), "DimSize", "overflow");
		// No overflow, but far larger than the file: must fail on the file length, not run out of memory.
		assertMentions(bad("big.mhd", "NDims = 3\nDimSize = 100000 100000 10000\nElementType = MET_DOUBLE\nElementDataFile = x.raw\n"),
			"x.raw", "truncated");
		assertMentions(bad("bigz.mhd", "NDims = 3\nDimSize = 100000 100000 10000\nElementType = MET_DOUBLE\nCompressedData = True\n" +
			"ElementDataFile = x.raw\n"), "x.raw", "cannot inflate");
		// A (sparse) data file large enough for the header, but the voxels exceed the whole heap.
		long heap = Runtime.getRuntime().maxMemory();
		long slices = heap / (1 << 20) + 16;
		Path sparse = dir.resolve("sparse.raw");
		try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
			f.setLength(slices << 20);
		}
		assertMentions(bad("heap.mhd", "NDims = 3\nDimSize = 1024 1024 " + slices + "\nElementType = MET_UCHAR\n" +
			"ElementDataFile = sparse.raw\n"), "heap");
	}

	@Test
	void unknownTypeJunkNumbersAndMissingKeys() throws IOException {
		write("x.raw", shortsLE(VALUES12));
		assertMentions(bad("u.mhd", "NDims = 3\nDimSize = 3 2 2\nElementType = MET_FANCY\nElementDataFile = x.raw\n"),
			"ElementType", "MET_FANCY");
		assertMentions(bad("j.mhd", "NDims = 3\nDimSize = 12 x 4\nElementType = MET_SHORT\nElementDataFile = x.raw\n"),
			"DimSize", "'x'");
		assertMentions(bad("j2.mhd", "NDims = 3\nDimSize = 3 2\nElementType = MET_SHORT\nElementDataFile = x.raw\n"),
			"DimSize", "3");
		assertMentions(bad("j3.mhd", HEAD3 + "ElementSpacing = 1 1 abc\nElementDataFile = x.raw\n"), "ElementSpacing", "abc");
		assertMentions(bad("j4.mhd", HEAD3 + "ElementSpacing = 1 0 1\nElementDataFile = x.raw\n"), "ElementSpacing", "positive");
		assertMentions(bad("j5.mhd", HEAD3 + "BinaryDataByteOrderMSB = maybe\nElementDataFile = x.raw\n"), "BinaryDataByteOrderMSB");
		assertMentions(bad("k1.mhd", "DimSize = 3 2 2\nElementType = MET_SHORT\nElementDataFile = x.raw\n"), "NDims", "missing");
		assertMentions(bad("k2.mhd", "NDims = 3\nElementType = MET_SHORT\nElementDataFile = x.raw\n"), "DimSize", "missing");
		assertMentions(bad("k3.mhd", "NDims = 3\nDimSize = 3 2 2\nElementDataFile = x.raw\n"), "ElementType", "missing");
		assertMentions(bad("k4.mhd", HEAD3), "ElementDataFile", "missing");
		assertMentions(bad("nd.mhd", "NDims = 5\nDimSize = 1 1 1 1 1\nElementType = MET_SHORT\nElementDataFile = x.raw\n"), "NDims", "5");
		assertMentions(bad("ob.mhd", HEAD3.replace("Image", "Tube") + "ElementDataFile = x.raw\n"), "ObjectType", "Tube");
		assertMentions(bad("ch.mhd", HEAD3 + "ElementNumberOfChannels = 3\nElementDataFile = x.raw\n"), "ElementNumberOfChannels",
			"not supported");
		assertMentions(bad("asc.mhd", HEAD3 + "BinaryData = False\nElementDataFile = x.raw\n"), "ASCII");
		assertMentions(bad("line.mhd", HEAD3 + "this line has no equals sign\nElementDataFile = x.raw\n"), "line 5");
	}

	@Test
	void dataFilesOutsideTheFolderAreRefused() throws IOException {
		Path outside = dir.resolve("outside.raw");
		Files.write(outside, shortsLE(VALUES12));
		Path sub = dir.resolve("inner");
		Files.createDirectories(sub);
		Path h1 = sub.resolve("up.mhd");
		Files.write(h1, ascii(HEAD3 + "ElementDataFile = ../outside.raw\n"));
		MetaImageException e = assertThrows(MetaImageException.class, () -> MetaImage.read(h1));
		assertMentions(e, "up.mhd", "ElementDataFile", "outside");
		Path h2 = sub.resolve("abs.mhd");
		Files.write(h2, ascii(HEAD3 + "ElementDataFile = " + outside.toAbsolutePath() + "\n"));
		e = assertThrows(MetaImageException.class, () -> MetaImage.read(h2));
		assertMentions(e, "abs.mhd", "outside");
		Path h3 = sub.resolve("list.mhd");
		Files.write(h3, ascii(HEAD3 + "ElementDataFile = LIST\n../outside.raw\n../outside.raw\n"));
		assertMentions(assertThrows(MetaImageException.class, () -> MetaImage.read(h3)), "list.mhd", "outside");
		// An absolute path that stays inside the folder is fine.
		Files.write(sub.resolve("in.raw"), shortsLE(VALUES12));
		Path h4 = sub.resolve("absin.mhd");
		Files.write(h4, ascii(HEAD3 + "ElementDataFile = " + sub.resolve("in.raw").toAbsolutePath() + "\n"));
		assertShorts(VALUES12, MetaImage.read(h4).image());
	}

	@Test
	void hugeOrBinaryHeadersAreRejectedQuickly() throws IOException {
		StringBuilder sb = new StringBuilder(HEAD3);
		while (sb.length() < MetaImageHeader.MAX_HEADER_BYTES + 100)
			sb.append("Comment = ").append("x".repeat(100)).append('\n');
		sb.append("ElementDataFile = x.raw\n");
		assertMentions(bad("huge.mhd", sb.toString()), "ElementDataFile", "1048576");
		byte[] binary = new byte[4096];
		new java.util.Random(1).nextBytes(binary);
		binary[0] = 'N';
		Path p = write("bin.mha", binary);
		MetaImageException e = assertThrows(MetaImageException.class, () -> MetaImage.read(p));
		assertMentions(e, "bin.mha", "byte offset");
		// A single endless line without newline.
		Path q = write("oneline.mhd", ascii("Comment = " + "y".repeat(MetaImageHeader.MAX_HEADER_BYTES + 10)));
		assertMentions(assertThrows(MetaImageException.class, () -> MetaImage.read(q)), "oneline.mhd");
	}

	@Test
	void headerOnlyNeedsNoData() throws IOException {
		MetaImage m = MetaImage.readHeaderOnly(write("h.mhd", ascii(HEAD3 + "ElementSpacing = 1 2 3\nElementDataFile = absent.raw\n")));
		assertArrayEquals(new long[] { 3, 2, 2 }, m.dimensions());
		assertArrayEquals(new double[] { 1, 2, 3 }, m.spacing());
		assertEquals("MET_SHORT", m.elementType());
		assertEquals(java.util.List.of("ObjectType", "NDims", "DimSize", "ElementType", "ElementSpacing", "ElementDataFile"),
			java.util.List.copyOf(m.header().keySet()));
		assertThrows(IllegalStateException.class, m::image);
	}
}
