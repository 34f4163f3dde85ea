package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

import net.imglib2.Cursor;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.planar.PlanarImgs;
import net.imglib2.type.NativeType;
import net.imglib2.type.numeric.IntegerType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.integer.UnsignedLongType;
import net.imglib2.view.Views;

/** Write, then read back: values, type and geometry must survive exactly. */
class MetaImageWriteTest {

	@TempDir
	Path dir;

	static Stream<Arguments> cases() {
		List<Arguments> out = new java.util.ArrayList<>();
		for (String t : MetaImageReadTest.ALL_TYPES)
			for (boolean compress : new boolean[] { false, true })
				for (String ext : new String[] { ".mhd", ".mha" })
					out.add(Arguments.of(t, compress, ext));
		return out.stream();
	}

	/** A small image of the given MET type filled with pseudo-random bit patterns (every bit used). */
	@SuppressWarnings({ "unchecked", "rawtypes" })
	private static Img<? extends RealType<?>> randomImage(MetType type, long... dims) {
		Img img = new net.imglib2.img.array.ArrayImgFactory((NativeType) type.type()).create(dims);
		Random r = new Random(type.ordinal() * 31 + dims.length);
		Cursor<? extends RealType<?>> c = img.cursor();
		while (c.hasNext()) {
			RealType<?> v = c.next();
			if (v instanceof UnsignedLongType) ((UnsignedLongType) v).set(r.nextLong());
			else if (v instanceof IntegerType) ((IntegerType<?>) v).setInteger(r.nextLong());
			else if (type == MetType.MET_FLOAT) v.setReal(Float.intBitsToFloat(r.nextInt() & 0x7f7fffff | (r.nextInt() & 0x80000000)));
			else v.setReal(r.nextGaussian() * 1e6);
		}
		return img;
	}

	private static void assertSameVoxels(Img<? extends RealType<?>> expected, Img<? extends RealType<?>> actual) {
		assertArrayEquals(expected.dimensionsAsLongArray(), actual.dimensionsAsLongArray());
		assertEquals(expected.firstElement().getClass(), actual.firstElement().getClass());
		Cursor<? extends RealType<?>> a = Views.flatIterable(expected).cursor(), b = Views.flatIterable(actual).cursor();
		while (a.hasNext()) {
			RealType<?> x = a.next(), y = b.next();
			if (x instanceof IntegerType) assertEquals(((IntegerType<?>) x).getIntegerLong(), ((IntegerType<?>) y).getIntegerLong());
			else assertEquals(x.getRealDouble(), y.getRealDouble());
		}
	}

	@ParameterizedTest(name = "{0} compressed={1} {2}")
	@MethodSource("cases")
	void roundTripEveryTypeWithNonIdentityDirection(String typeName, boolean compress, String ext) throws IOException {
		MetType type = MetType.valueOf(typeName);
		Img<? extends RealType<?>> img = randomImage(type, 5, 4, 3);
		double c = Math.cos(0.3), s = Math.sin(0.3);
		double[] direction = { c, -s, 0, s, c, 0, 0, 0, -1 };
		double[] origin = { -90.123456789, 120.5, -300.000001 };
		double[] spacing = { 0.703125, 0.703125, 2.5 };
		Path file = dir.resolve("img" + ext);
		MetaImage.write(file, MetaImage.of(img, origin, spacing, direction, "RAS"), compress);

		MetaImage back = MetaImage.read(file);
		assertSameVoxels(img, back.image());
		assertArrayEquals(origin, back.origin());
		assertArrayEquals(spacing, back.spacing());
		assertArrayEquals(direction, back.direction());
		assertEquals("RAS", back.anatomicalOrientation());
		String expectedType = type == MetType.MET_LONG ? "MET_INT" : type == MetType.MET_ULONG ? "MET_UINT" : typeName;
		assertEquals(expectedType, back.elementType());
		// The file lists axis directions in turn: axis 0 = first column of the SimpleITK matrix.
		String[] tm = back.header().get("TransformMatrix").split(" ");
		assertEquals(c, Double.parseDouble(tm[0]));
		assertEquals(s, Double.parseDouble(tm[1]));
		assertEquals(-s, Double.parseDouble(tm[3]));
		assertEquals(compress ? "True" : "False", back.header().get("CompressedData"));
		assertEquals(ext.equals(".mha") ? "LOCAL" : "img" + (compress ? ".zraw" : ".raw"), back.header().get("ElementDataFile"));
		assertNoTempFiles();
	}

	@Test
	void metLongStaysMetLongWhenRewritten() throws IOException {
		Path raw = dir.resolve("l.raw");
		Files.write(raw, new byte[] { 1, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff });
		Files.writeString(dir.resolve("l.mhd"), "NDims = 2\nDimSize = 2 1\nElementType = MET_LONG\nElementDataFile = l.raw\n");
		MetaImage m = MetaImage.read(dir.resolve("l.mhd"));
		MetaImage.write(dir.resolve("copy.mha"), m, false);
		MetaImage back = MetaImage.read(dir.resolve("copy.mha"));
		assertEquals("MET_LONG", back.elementType());
		assertSameVoxels(m.image(), back.image());
	}

	@Test
	void roundTrip2dAnd4d() throws IOException {
		for (boolean compress : new boolean[] { false, true }) {
			Img<? extends RealType<?>> img2 = randomImage(MetType.MET_FLOAT, 7, 5);
			MetaImage.write(dir.resolve("two.mhd"), MetaImage.of(img2, new double[] { 1.5, -2 }, new double[] { 0.25, 0.5 },
				new double[] { 0, 1, 1, 0 }), compress);
			MetaImage b2 = MetaImage.read(dir.resolve("two.mhd"));
			assertSameVoxels(img2, b2.image());
			assertArrayEquals(new double[] { 0, 1, 1, 0 }, b2.direction());
			assertArrayEquals(new double[] { 0.25, 0.5 }, b2.spacing());
			assertEquals(null, b2.anatomicalOrientation());

			Img<? extends RealType<?>> img4 = randomImage(MetType.MET_SHORT, 4, 3, 2, 5);
			double[] dir4 = MetaImageHeader.identity(4);
			dir4[0] = 0;
			dir4[1] = 1;
			dir4[4] = 1;
			dir4[5] = 0;
			MetaImage.write(dir.resolve("four.mha"), MetaImage.of(img4, new double[] { 1, 2, 3, 4 }, new double[] { 1, 1, 2, 0.5 }, dir4),
				compress);
			MetaImage b4 = MetaImage.read(dir.resolve("four.mha"));
			assertSameVoxels(img4, b4.image());
			assertArrayEquals(dir4, b4.direction());
			assertArrayEquals(new double[] { 1, 2, 3, 4 }, b4.origin());
		}
	}

	@Test
	void writeVolumeThenReadVolumeKeepsGeometryExactly() throws IOException {
		short[] hu = new short[6 * 5 * 4];
		for (int i = 0; i < hu.length; i++)
			hu[i] = (short) (i * 37 - 1024);
		double a = 0.1;
		double[] direction = { Math.cos(a), 0, Math.sin(a), 0, 1, 0, -Math.sin(a), 0, Math.cos(a) };
		Geometry g = new Geometry(new double[] { -187.19999694824219, -0.1 + 0.2, 1e-7 },
			new double[] { 0.7421875, 0.7421875, 1.25 }, direction);
		String uid = "1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860";
		CtVolume v = CtVolume.ofShorts(hu, 6, 5, 4, g, uid);
		for (boolean compress : new boolean[] { false, true }) {
			Path file = dir.resolve(uid + ".mhd");
			MetaImage.writeVolume(file, v, compress);
			CtVolume back = MetaImage.readVolume(file);
			assertEquals(uid, back.seriesUid());
			assertArrayEquals(g.origin(), back.geometry().origin());
			assertArrayEquals(g.spacing(), back.geometry().spacing());
			assertArrayEquals(g.direction(), back.geometry().direction());
			assertInstanceOf(ShortType.class, back.image().getType());
			Cursor<? extends RealType<?>> c = Views.flatIterable(back.image()).cursor();
			for (short s : hu)
				assertEquals(s, c.next().getRealDouble());
		}
		// Identity direction gives ITK's default orientation code.
		MetaImage.writeVolume(dir.resolve("id.mha"), CtVolume.ofShorts(hu, 6, 5, 4, Geometry.unit(), "id"), false);
		assertEquals("RAI", MetaImage.read(dir.resolve("id.mha")).anatomicalOrientation());
	}

	@Test
	void viewsAndPlanarImagesAreWrittenInFileOrder() throws IOException {
		// A view is written element by element; a PlanarImg plane by plane. Both must match x-fastest order.
		Img<ShortType> base = ArrayImgs.shorts(8, 6, 5);
		int i = 0;
		for (ShortType t : base)
			t.set((short) (i++ * 3 - 500));
		var view = Views.interval(base, new long[] { 0, 0, 0 }, new long[] { 7, 5, 4 });
		CtVolume v = new CtVolume(view, Geometry.unit(), "v");
		MetaImage.writeVolume(dir.resolve("view.mhd"), v, false);
		assertSameVoxels(base, MetaImage.read(dir.resolve("view.mhd")).image());

		Img<ShortType> planar = PlanarImgs.shorts(8, 6, 5);
		Cursor<ShortType> pc = Views.flatIterable(planar).cursor();
		for (ShortType t : base)
			pc.next().set(t);
		MetaImage.write(dir.resolve("planar.mha"), MetaImage.of(planar, new double[3], new double[] { 1, 1, 1 }, null), true);
		assertSameVoxels(base, MetaImage.read(dir.resolve("planar.mha")).image());
	}

	@Test
	void headerLooksLikeItksAndOverwritesAtomically() throws IOException {
		Img<ShortType> img = ArrayImgs.shorts(new short[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 2, 2, 2);
		Path file = dir.resolve("h.mhd");
		MetaImage m = MetaImage.of(img, new double[] { -90, -120, -300 }, new double[] { 0.7, 0.7, 1.25 }, null);
		MetaImage.write(file, m, false);
		String text = Files.readString(file, StandardCharsets.ISO_8859_1);
		assertEquals("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = False\n" +
			"TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = -90 -120 -300\nCenterOfRotation = 0 0 0\nAnatomicalOrientation = RAI\n" +
			"ElementSpacing = 0.7 0.7 1.25\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementDataFile = h.raw\n", text);
		assertEquals(16, Files.size(dir.resolve("h.raw")));
		// Writing again (compressed) replaces the header; the old .raw may stay, the header now names the .zraw.
		MetaImage.write(file, m, true);
		assertEquals("h.zraw", MetaImage.read(file).header().get("ElementDataFile"));
		assertSameVoxels(img, MetaImage.read(file).image());
		assertNoTempFiles();
		assertThrows(MetaImageException.class, () -> MetaImage.write(dir.resolve("x.tif"), m, false));
		// Results are ordinary files for other users too (temporary files are created 0600 by Files.createTempFile).
		if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
			Path probe = Files.createFile(dir.resolve("probe"));
			assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(file));
			assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(dir.resolve("h.zraw")));
		}
	}

	private void assertNoTempFiles() throws IOException {
		try (Stream<Path> s = Files.list(dir)) {
			List<String> temps = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).collect(Collectors.toList());
			assertFalse(temps.iterator().hasNext(), "temporary files left: " + temps);
		}
		assertTrue(Files.isDirectory(dir));
	}
}
