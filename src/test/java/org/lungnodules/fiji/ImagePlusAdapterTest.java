package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.MetaImage;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import net.imglib2.Cursor;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.integer.UnsignedByteType;
import net.imglib2.view.Views;

class ImagePlusAdapterTest {

	@Test
	void phantomKeepsHuAndWorldCoordinates() throws IOException {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		MetaImage m = MetaImage.read(mhd);
		ImagePlus imp = ImagePlusAdapter.toImagePlus(m);
		assertEquals(256, imp.getWidth());
		assertEquals(96, imp.getStackSize());
		assertEquals("phantom-a.mhd", imp.getTitle());
		// HU read independently from the raw bytes, as a user would see them in ImageJ.
		try (RandomAccessFile f = new RandomAccessFile(mhd.resolveSibling("phantom-a.raw").toFile(), "r")) {
			for (int[] p : new int[][] { { 0, 0, 0 }, { 61, 147, 37 }, { 128, 40, 90 }, { 250, 128, 10 } }) {
				f.seek(2L * (p[0] + 256L * (p[1] + 256L * p[2])));
				int lo = f.read(), hi = f.read();
				assertEquals((short) ((hi << 8) | lo), imp.getStack().getVoxel(p[0], p[1], p[2]));
			}
		}
		Calibration cal = imp.getCalibration();
		assertEquals("mm", cal.getUnit());
		assertEquals(0.7, cal.pixelWidth);
		assertEquals(1.25, cal.pixelDepth);
		// ImageJ's calibrated position of voxel (61, 147, 37) is its world position: offset + index x spacing.
		assertEquals(-90 + 61 * 0.7, cal.getX(61), 1e-9);
		assertEquals(-120 + 147 * 0.7, cal.getY(147), 1e-9);
		assertEquals(-300 + 37 * 1.25, cal.getZ(37), 1e-9);
		String info = imp.getInfoProperty();
		assertTrue(info.contains("AnatomicalOrientation = RAI"), info);
		assertTrue(info.contains("TransformMatrix = 1.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 1.0"), info);

		CtVolume back = ImagePlusAdapter.fromImagePlus(imp);
		assertEquals("phantom-a", back.seriesUid());
		assertInstanceOf(ShortType.class, back.image().getType());
		assertArrayEquals(new double[] { -90, -120, -300 }, back.geometry().origin());
		assertArrayEquals(new double[] { 0.7, 0.7, 1.25 }, back.geometry().spacing());
	}

	@Test
	void volumeRoundTripKeepsValuesGeometryAndUid() {
		short[] hu = new short[5 * 4 * 3];
		for (int i = 0; i < hu.length; i++)
			hu[i] = (short) (i % 2 == 0 ? -32768 + i : 32767 - i * 100);
		double c = Math.cos(0.2), s = Math.sin(0.2);
		Geometry g = new Geometry(new double[] { -187.19999694824219, 33.3, -1e-3 }, new double[] { 0.7421875, 0.6, 2.5 },
			new double[] { c, -s, 0, s, c, 0, 0, 0, 1 });
		String uid = "1.3.6.1.4.1.14519.5.2.1.6279.6001.105756658031515062000744821260";
		ImagePlus imp = ImagePlusAdapter.toImagePlus(CtVolume.ofShorts(hu, 5, 4, 3, g, uid));
		assertEquals(ImagePlus.GRAY32, imp.getType());
		assertEquals(hu[7], imp.getStack().getVoxel(2, 1, 0));
		assertEquals(uid, imp.getTitle());

		CtVolume back = ImagePlusAdapter.fromImagePlus(imp);
		assertEquals(uid, back.seriesUid());
		assertArrayEquals(g.origin(), back.geometry().origin());
		assertArrayEquals(g.spacing(), back.geometry().spacing());
		assertArrayEquals(g.direction(), back.geometry().direction());
		Cursor<? extends RealType<?>> cur = Views.flatIterable(back.image()).cursor();
		for (short v : hu)
			assertEquals(v, cur.next().getRealDouble());

		// Title with a file extension: only the extension goes.
		imp.setTitle(uid + ".mhd");
		assertEquals(uid, ImagePlusAdapter.fromImagePlus(imp).seriesUid());
	}

	@Test
	void plainImageJStacksUseTheirCalibration() {
		// 16-bit with ImageJ's signed calibration: stored = HU + 32768.
		ImageStack stack = new ImageStack(2, 1);
		for (int z = 0; z < 2; z++)
			stack.addSlice(null, new short[] { (short) (32768 - 1000), (short) (32768 + 40 + z) });
		ImagePlus imp = new ImagePlus("scan.tif", stack);
		Calibration cal = imp.getCalibration();
		cal.setSigned16BitCalibration();
		cal.setUnit("cm");
		cal.pixelWidth = 0.05;
		cal.pixelHeight = 0.05;
		cal.pixelDepth = 0.2;
		cal.xOrigin = 10;
		cal.yOrigin = -4;
		cal.zOrigin = 2;
		CtVolume v = ImagePlusAdapter.fromImagePlus(imp);
		assertEquals("scan", v.seriesUid());
		assertInstanceOf(ShortType.class, v.image().getType());
		Cursor<? extends RealType<?>> c = Views.flatIterable(v.image()).cursor();
		assertEquals(-1000, c.next().getRealDouble());
		assertEquals(40, c.next().getRealDouble());
		assertEquals(-1000, c.next().getRealDouble());
		assertEquals(41, c.next().getRealDouble());
		assertArrayEquals(new double[] { 0.5, 0.5, 2 }, v.geometry().spacing(), 1e-12);
		assertArrayEquals(new double[] { -5, 2, -4 }, v.geometry().origin(), 1e-12);
		assertTrue(v.geometry().isIdentityDirection());

		ImagePlus rgb = new ImagePlus("rgb", new ij.process.ColorProcessor(2, 2));
		assertThrows(IllegalArgumentException.class, () -> ImagePlusAdapter.fromImagePlus(rgb));
	}

	@Test
	void unsignedBytesStay8BitAnd4dBecomesHyperstack() {
		MetaImage m8 = MetaImage.of(ArrayImgs.unsignedBytes(new byte[] { 0, 1, (byte) 200, (byte) 255, 3, 4, 5, 6 }, 2, 2, 2),
			new double[] { 0, 0, 0 }, new double[] { 1, 1, 1 }, null);
		ImagePlus imp = ImagePlusAdapter.toImagePlus(m8);
		assertEquals(ImagePlus.GRAY8, imp.getType());
		assertEquals(255, imp.getStack().getVoxel(1, 1, 0));
		assertInstanceOf(UnsignedByteType.class, ImagePlusAdapter.fromImagePlus(imp).image().getType());

		MetaImage m4 = MetaImage.of(ArrayImgs.shorts(new short[2 * 2 * 3 * 4], 2, 2, 3, 4), new double[4],
			new double[] { 1, 1, 1, 0.5 }, null);
		ImagePlus hyper = ImagePlusAdapter.toImagePlus(m4);
		assertEquals(3, hyper.getNSlices());
		assertEquals(4, hyper.getNFrames());
		assertEquals(0.5, hyper.getCalibration().frameInterval);
		assertThrows(IllegalArgumentException.class, () -> ImagePlusAdapter.fromImagePlus(hyper));
	}
}
