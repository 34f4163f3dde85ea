package org.lungnodules.ct;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImgs;

class CtVolumeTest {

	/** Value of a hand-built voxel, unique per (z, y, x): readable as the digits zz yy xx. */
	private static float f(int z, int y, int x) {
		return 10000f * z + 100f * y + x;
	}

	/** A float CT of shape (depth, height, width) with value f(z, y, x), stored x fastest as MetaImage does. */
	private static CtVolume coded(int depth, int height, int width) {
		float[] data = new float[depth * height * width];
		for (int z = 0; z < depth; z++)
			for (int y = 0; y < height; y++)
				for (int x = 0; x < width; x++)
					data[x + width * (y + height * z)] = f(z, y, x);
		return new CtVolume(ArrayImgs.floats(data, width, height, depth), Geometry.unit(), "coded");
	}

	@Test
	void shapeIsIndexRowCol() {
		CtVolume ct = coded(5, 7, 9);
		assertArrayEquals(new int[] { 5, 7, 9 }, ct.shapeIrc());
		assertEquals(9, ct.width());
		assertEquals(7, ct.height());
		assertEquals(5, ct.depth());
	}

	@Test
	void copyBoxIsCOrderIndexRowCol() {
		CtVolume ct = coded(6, 7, 8);
		int[] start = { 2, 3, 4 }, size = { 3, 2, 4 };
		float[] out = new float[3 + 3 * 2 * 4];
		ct.copyBox(start, size, out, 3, -1e9f, 1e9f);
		int i = 3;
		for (int z = 0; z < 3; z++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 4; x++)
					assertEquals(f(2 + z, 3 + y, 4 + x), out[i++], "at " + z + "," + y + "," + x);
		assertEquals(0f, out[0]);
		// Hand-checked corners: first = f(2,3,4) = 20304, last = f(4,4,7) = 40407.
		assertEquals(20304f, out[3]);
		assertEquals(40407f, out[out.length - 1]);
	}

	@Test
	void shortVolumesAreReadXFastest() {
		// 3 x 2 x 2 (x, y, z): value = x + 10 y + 100 z
		short[] hu = new short[12];
		for (int z = 0; z < 2; z++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 3; x++)
					hu[x + 3 * (y + 2 * z)] = (short) (x + 10 * y + 100 * z);
		CtVolume ct = CtVolume.ofShorts(hu, 3, 2, 2, Geometry.unit(), "s");
		assertArrayEquals(new int[] { 2, 2, 3 }, ct.shapeIrc());
		float[] slice = new float[6];
		ct.copySlice(1, slice, 0, -1000, 1000);
		assertArrayEquals(new float[] { 100, 101, 102, 110, 111, 112 }, slice);
	}

	@Test
	void copySliceClampsTheIndexLikeTheSevenSliceContext() {
		CtVolume ct = coded(4, 2, 3);
		float[] below = new float[6], above = new float[6], first = new float[6], last = new float[6];
		ct.copySlice(-3, below, 0, -1e9f, 1e9f);
		ct.copySlice(0, first, 0, -1e9f, 1e9f);
		ct.copySlice(7, above, 0, -1e9f, 1e9f);
		ct.copySlice(3, last, 0, -1e9f, 1e9f);
		assertArrayEquals(first, below);
		assertArrayEquals(last, above);
		assertEquals(f(3, 1, 2), last[5]);
	}

	@Test
	void cropStartIsCentredWhenTheCropFits() {
		CtVolume ct = coded(10, 20, 30);
		// start = centre - size/2 = (5 - 2, 10 - 3, 15 - 4)
		assertArrayEquals(new int[] { 3, 7, 11 }, ct.cropStart(new int[] { 5, 10, 15 }, new int[] { 4, 6, 8 }));
		// Odd sizes give halves, rounded to even: 5 - 2.5 = 2.5 → 2; 10 - 1.5 = 8.5 → 8; 16 - 2.5 = 13.5 → 14.
		assertArrayEquals(new int[] { 2, 8, 14 }, ct.cropStart(new int[] { 5, 10, 16 }, new int[] { 5, 3, 5 }));
	}

	@Test
	void cropIsShiftedInsideAtEveryBorderNeverPadded() {
		CtVolume ct = coded(10, 20, 30);
		int[] size = { 4, 6, 8 };
		// Low borders: starts would be (-2, -3, -4) and (-1, -2, -3): shifted to 0.
		assertArrayEquals(new int[] { 0, 0, 0 }, ct.cropStart(new int[] { 0, 0, 0 }, size));
		assertArrayEquals(new int[] { 0, 0, 0 }, ct.cropStart(new int[] { 1, 1, 1 }, size));
		// High borders: ends would pass (10, 20, 30): start = shape - size = (6, 14, 22).
		assertArrayEquals(new int[] { 6, 14, 22 }, ct.cropStart(new int[] { 9, 19, 29 }, size));
		assertArrayEquals(new int[] { 6, 14, 22 }, ct.cropStart(new int[] { 8, 18, 28 }, size));
		// Mixed: low on index, centred on row, high on col.
		assertArrayEquals(new int[] { 0, 7, 22 }, ct.cropStart(new int[] { 0, 10, 29 }, size));
		// A crop exactly the size of the CT starts at 0 whatever the centre.
		assertArrayEquals(new int[] { 0, 0, 0 }, ct.cropStart(new int[] { 9, 0, 17 }, new int[] { 10, 20, 30 }));

		// The crop's content is the shifted box, not padding: its first voxel is a real one.
		CtVolume small = coded(6, 6, 6);
		float[] crop = new float[4 * 4 * 4];
		small.copyBox(small.cropStart(new int[] { 5, 0, 3 }, new int[] { 4, 4, 4 }), new int[] { 4, 4, 4 }, crop, 0, -1e9f, 1e9f);
		assertEquals(f(2, 0, 1), crop[0]);
		assertEquals(f(5, 3, 4), crop[63]);
	}

	@Test
	void aCtSmallerThanTheChunkIsRefusedClearly() {
		CtVolume ct = coded(20, 64, 64); // thinner than the classifier's 32 slices
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
			() -> ct.crop(new int[] { 10, 32, 32 }, new int[] { 32, 48, 48 }));
		assertTrue(e.getMessage().contains("20 voxels along index (z)"), e.getMessage());
		assertTrue(e.getMessage().contains("32"), e.getMessage());
		assertTrue(e.getMessage().contains("coded"), e.getMessage());

		IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
			() -> ct.cropStart(new int[] { 10, 64, 32 }, new int[] { 8, 8, 8 }));
		assertTrue(outside.getMessage().contains("row (y)"), outside.getMessage());
		assertThrows(IllegalArgumentException.class, () -> ct.cropStart(new int[] { -1, 0, 0 }, new int[] { 8, 8, 8 }));
		assertThrows(IllegalArgumentException.class, () -> ct.cropStart(new int[] { 1, 1, 1 }, new int[] { 0, 8, 8 }));
	}

	@Test
	void cropClampsHuAndTurnsNanIntoAir() {
		// 2 x 2 x 2 with values chosen around the clamp limits, x fastest.
		float[] data = { -3000f, -1000f, -999.5f, 0f, 999.5f, 1000f, 1000.5f, Float.NaN };
		CtVolume ct = new CtVolume(ArrayImgs.floats(data, 2, 2, 2), Geometry.unit(), "clamp");
		float[] crop = ct.crop(new int[] { 1, 1, 1 }, new int[] { 2, 2, 2 });
		assertArrayEquals(new float[] { -1000f, -1000f, -999.5f, 0f, 999.5f, 1000f, 1000f, -1000f }, crop);
		float[] inf = new float[1];
		new CtVolume(ArrayImgs.floats(new float[] { Float.POSITIVE_INFINITY }, 1, 1, 1), Geometry.unit(), "")
			.copyBox(new int[3], new int[] { 1, 1, 1 }, inf, 0, -1000, 1000);
		assertEquals(1000f, inf[0]);
	}

	@Test
	void cropOfACodedVolumeIsTheBooksSlice() {
		// f(z, y, x) would exceed the HU clamp here, so use g = 20 z + 4 (y mod 5) + (x mod 4) - 900, which stays
		// within [-900, -101] and still changes along every axis, so a transposed or shifted crop shows.
		int d = 40, h = 60, w = 60;
		float[] data = new float[d * h * w];
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					data[x + w * (y + h * z)] = 20 * z + (y % 5) * 4 + (x % 4) - 900;
		CtVolume ct = new CtVolume(ArrayImgs.floats(data, w, h, d), Geometry.unit(), "book");
		int[] centre = { 30, 5, 40 }, size = { 32, 48, 48 };
		// By hand: index 30 - 16 = 14, 14 + 32 = 46 > 40 → 8; row 5 - 24 < 0 → 0; col 40 - 24 = 16, 64 > 60 → 12.
		int[] start = ct.cropStart(centre, size);
		assertArrayEquals(new int[] { 8, 0, 12 }, start);
		float[] crop = ct.crop(centre, size);
		int i = 0;
		for (int z = 0; z < 32; z++)
			for (int y = 0; y < 48; y++)
				for (int x = 0; x < 48; x++) {
					float expected = Math.max(-1000, Math.min(1000, 20 * (z + 8) + (y % 5) * 4 + ((x + 12) % 4) - 900));
					assertEquals(expected, crop[i++]);
				}
	}

	@Test
	void copyBoxRefusesBoxesOutsideTheVolumeOrTheArray() {
		CtVolume ct = coded(4, 4, 4);
		assertThrows(IndexOutOfBoundsException.class, () -> ct.copyBox(new int[] { 2, 0, 0 }, new int[] { 3, 1, 1 }, new float[3], 0, 0, 1));
		assertThrows(IndexOutOfBoundsException.class, () -> ct.copyBox(new int[] { 0, 0, -1 }, new int[] { 1, 1, 2 }, new float[2], 0, 0, 1));
		assertThrows(IndexOutOfBoundsException.class, () -> ct.copyBox(new int[] { 0, 0, 0 }, new int[] { 2, 2, 2 }, new float[8], 1, 0, 1));
		assertThrows(IllegalArgumentException.class, () -> new CtVolume(ArrayImgs.floats(4, 4), Geometry.unit(), "2d"));
	}
}
