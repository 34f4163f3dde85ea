package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Hand-computed cases for the affine_grid + grid_sample(border, align_corners=False) resampling. */
class AugmentationTest {

	private static final boolean[] NO_FLIP3 = new boolean[3], NO_FLIP2 = new boolean[2];
	private static final double[] ONE3 = { 1, 1, 1 }, ZERO3 = new double[3], ONE2 = { 1, 1 }, ZERO2 = new double[2];

	private static float[] sequence(int n) {
		float[] a = new float[n];
		for (int i = 0; i < n; i++) a[i] = (float) (i * 1.5 - 7);
		return a;
	}

	@Test
	void identityIsAnExactCopy() {
		float[] src = sequence(3 * 4 * 5);
		float[] dst = new float[src.length + 2];
		Augmentation.resample3d(src, 0, 3, 4, 5, Augmentation.theta3d(NO_FLIP3, ONE3, ZERO3, 0), dst, 2);
		assertArrayEquals(src, Arrays.copyOfRange(dst, 2, dst.length));
		float[] dst2 = new float[src.length];
		Augmentation.resample2d(src, 0, 3, 4, 5, Augmentation.theta2d(NO_FLIP2, ONE2, ZERO2, 0), dst2, 0);
		assertArrayEquals(src, dst2);
	}

	@Test
	void flipReversesOneAxis() {
		// 2 slices x 2 rows x 3 cols; flipping x reverses each row, flipping z swaps the slices.
		float[] src = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
		float[] dst = new float[12];
		Augmentation.resample3d(src, 0, 2, 2, 3, Augmentation.theta3d(new boolean[] { true, false, false }, ONE3, ZERO3, 0), dst, 0);
		assertArrayEquals(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 }, dst);
		Augmentation.resample3d(src, 0, 2, 2, 3, Augmentation.theta3d(new boolean[] { false, false, true }, ONE3, ZERO3, 0), dst, 0);
		assertArrayEquals(new float[] { 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6 }, dst);
		Augmentation.resample2d(src, 0, 2, 2, 3, Augmentation.theta2d(new boolean[] { false, true }, ONE2, ZERO2, 0), dst, 0);
		assertArrayEquals(new float[] { 4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9 }, dst);
	}

	@Test
	void quarterTurnAboutZ() {
		// theta = [[0,-1],[1,0]]: input x = -output y, input y = output x, so out[r][c] = in[c][N-1-r]
		// (numpy's rot90, counterclockwise), worked out by hand for a 3x3 array.
		float[] src = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
		float[] expected = { 3, 6, 9, 2, 5, 8, 1, 4, 7 };
		float[] dst = new float[9];
		Augmentation.resample2d(src, 0, 1, 3, 3, Augmentation.theta2d(NO_FLIP2, ONE2, ZERO2, Math.PI / 2), dst, 0);
		assertArrayEquals(expected, dst, 1e-5f);
		// The 3D rotation acts on x and y only: two slices rotate the same way and stay in place.
		float[] src3 = new float[18], expected3 = new float[18], dst3 = new float[18];
		for (int i = 0; i < 9; i++) {
			src3[i] = src[i];
			src3[9 + i] = src[i] + 100;
			expected3[i] = expected[i];
			expected3[9 + i] = expected[i] + 100;
		}
		Augmentation.resample3d(src3, 0, 2, 3, 3, Augmentation.theta3d(NO_FLIP3, ONE3, ZERO3, Math.PI / 2), dst3, 0);
		assertArrayEquals(expected3, dst3, 1e-4f);
	}

	@Test
	void scaleTwoWithBorderPaddingOnARamp() {
		// Along x with N = 4: out voxel o samples input position 1.5 + 2(o - 1.5) = -1.5, 0.5, 2.5, 4.5,
		// clamped to [0, 3] by border padding: 0, 0.5, 2.5, 3 on the ramp 0, 1, 2, 3.
		float[] ramp = { 0, 1, 2, 3 };
		float[] dst = new float[4];
		Augmentation.resample3d(ramp, 0, 1, 1, 4, Augmentation.theta3d(NO_FLIP3, new double[] { 2, 1, 1 }, ZERO3, 0), dst, 0);
		assertArrayEquals(new float[] { 0, 0.5f, 2.5f, 3 }, dst, 1e-6f);
		// Scale 0.5 zooms in: 1.5 + 0.5(o - 1.5) = 0.75, 1.25, 1.75, 2.25.
		Augmentation.resample2d(ramp, 0, 1, 1, 4, Augmentation.theta2d(NO_FLIP2, new double[] { 0.5, 1 }, ZERO2, 0), dst, 0);
		assertArrayEquals(new float[] { 0.75f, 1.25f, 1.75f, 2.25f }, dst, 1e-6f);
	}

	@Test
	void offsetsMoveByAFractionOfTheHalfExtent() {
		// t = 0.5 on N = 4 moves the sampling point by 0.5 * 4/2 = 1 voxel: o + 1, clamped at 3.
		float[] ramp = { 10, 20, 30, 40 };
		float[] dst = new float[4];
		Augmentation.resample3d(ramp, 0, 1, 1, 4, Augmentation.theta3d(NO_FLIP3, ONE3, new double[] { 0.5, 0, 0 }, 0), dst, 0);
		assertArrayEquals(new float[] { 20, 30, 40, 40 }, dst, 1e-6f);
		// t = -0.25 along y (rows) of 4: -0.5 voxel, so between neighbours, clamped at row 0.
		float[] column = { 10, 20, 30, 40 };
		Augmentation.resample2d(column, 0, 1, 4, 1, Augmentation.theta2d(NO_FLIP2, ONE2, new double[] { 0, -0.25 }, 0), dst, 0);
		assertArrayEquals(new float[] { 10, 15, 25, 35 }, dst, 1e-6f);
	}

	@Test
	void noiseHasTheRequestedStatisticsAndIsSeeded() {
		int n = 200_000;
		float[] a = new float[n], b = new float[n];
		Augmentation.addNoise(a, 0, n, 25, new SplittableRandom(7));
		Augmentation.addNoise(b, 0, n, 25, new SplittableRandom(7));
		assertArrayEquals(a, b);
		double sum = 0, sq = 0;
		for (float v : a) {
			sum += v;
			sq += (double) v * v;
		}
		double mean = sum / n, sd = Math.sqrt(sq / n - mean * mean);
		assertEquals(0, mean, 4 * 25 / Math.sqrt(n)); // 4 standard errors
		assertEquals(25, sd, 0.25);
	}

	@Test
	void drawingIsAPureFunctionOfSeedEpochAndIndex() {
		Augmentation.Settings s = Augmentation.Settings.classifier();
		double[] a = Augmentation.draw3d(s, Augmentation.sampleRandom(5, 2, 17));
		double[] b = Augmentation.draw3d(s, Augmentation.sampleRandom(5, 2, 17));
		double[] c = Augmentation.draw3d(s, Augmentation.sampleRandom(5, 3, 17));
		assertArrayEquals(a, b);
		assertFalse(Arrays.equals(a, c));
		// Offsets within ±0.1, and every diagonal magnitude within the scale range (no rotation drawn: check via norms).
		for (int r = 0; r < 3; r++) {
			assertTrue(Math.abs(a[4 * r + 3]) <= 0.1);
			double norm = Math.sqrt(a[4 * r] * a[4 * r] + a[4 * r + 1] * a[4 * r + 1] + a[4 * r + 2] * a[4 * r + 2]);
			assertTrue(norm >= 0.8 - 1e-12 && norm <= 1.2 + 1e-12, "row norm " + norm);
		}
	}

	@Test
	void segmentationMaskMovesWithTheInputAndIsBinary() {
		// Flips only: whatever is drawn, input and mask must get the same flips, and the mask stays 0/1.
		int h = 4, w = 5;
		float[] input = sequence(2 * h * w), mask = new float[h * w];
		mask[1 * w + 1] = 1;
		mask[2 * w + 3] = 1;
		Augmentation.Settings flipOnly = new Augmentation.Settings(true, 0, 0, false, 0);
		for (int seed = 0; seed < 8; seed++) {
			float[] out = new float[input.length], outMask = new float[mask.length], scratch = new float[mask.length];
			Augmentation.augmentSlices(flipOnly, new SplittableRandom(seed), input, 0, 2, h, w, mask, 0, out, 0, outMask, 0, scratch);
			// Find the flip from the input's first voxel, then check every voxel of both.
			boolean fx = false, fy = false;
			for (int k = 0; k < 4; k++) {
				boolean x = (k & 1) != 0, y = (k & 2) != 0;
				if (out[0] == input[(y ? h - 1 : 0) * w + (x ? w - 1 : 0)]) {
					fx = x;
					fy = y;
				}
			}
			for (int c = 0; c < 2; c++)
				for (int r = 0; r < h; r++)
					for (int col = 0; col < w; col++) {
						int sr = fy ? h - 1 - r : r, sc = fx ? w - 1 - col : col;
						assertEquals(input[c * h * w + sr * w + sc], out[c * h * w + r * w + col]);
						if (c == 0) assertEquals(mask[sr * w + sc], outMask[r * w + col]);
					}
		}
		// A half-voxel shift leaves 0.5 at the mask's edge voxels: not > 0.5, so they drop out.
		float[] m = { 0, 1, 1, 0 }, shifted = new float[4];
		Augmentation.resample2d(m, 0, 1, 1, 4, Augmentation.theta2d(NO_FLIP2, ONE2, new double[] { 0.25, 0 }, 0), shifted, 0);
		assertArrayEquals(new float[] { 0.5f, 1, 0.5f, 0 }, shifted, 1e-6f);
	}

	@Test
	void augmentKeyKeepsOnlyTheNamedTransforms() {
		Augmentation.Settings c = Augmentation.Settings.classifier();
		assertEquals(c, c.only("all"));
		assertEquals(c, c.only(""));
		assertTrue(c.only("none").isNone());
		assertEquals(new Augmentation.Settings(true, 0, 0, false, 25), c.only("flip, noise"));
		assertEquals(new Augmentation.Settings(true, 0.1, 0, true, 25), c.only("flip,offset,rotate,noise"));
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.only("flip,zoom"));
		assertTrue(e.getMessage().contains("zoom"), e.getMessage());
	}
}
