package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

/** Thresholding, erosion, labelling and centres on small hand-built volumes with hand-computed answers. */
class GroupingTest {

	private static float[] filled(int n, float v) {
		float[] a = new float[n];
		Arrays.fill(a, v);
		return a;
	}

	@Test
	void bordersErodeBecauseOutsideIsBackground() {
		// A full 3×3×3 block: every voxel but the centre touches the border.
		byte[] e = Grouping.thresholdAndErode(filled(27, 0.9f), new int[] { 3, 3, 3 }, 0.5);
		byte[] expected = new byte[27];
		expected[13] = 1;
		assertArrayEquals(expected, e);
		// A full 5×5×5 block keeps its 3×3×3 interior.
		byte[] e5 = Grouping.thresholdAndErode(filled(125, 0.9f), new int[] { 5, 5, 5 }, 0.5);
		int kept = 0;
		for (int z = 0; z < 5; z++)
			for (int y = 0; y < 5; y++)
				for (int x = 0; x < 5; x++) {
					boolean inside = z > 0 && z < 4 && y > 0 && y < 4 && x > 0 && x < 4;
					assertEquals(inside ? 1 : 0, e5[(z * 5 + y) * 5 + x], "voxel " + z + "," + y + "," + x);
					if (inside) kept++;
				}
		assertEquals(27, kept);
		// Thin volumes (fewer than 3 slices) erode completely.
		byte[] thin = Grouping.thresholdAndErode(filled(50, 0.9f), new int[] { 2, 5, 5 }, 0.5);
		assertArrayEquals(new byte[50], thin);
	}

	@Test
	void erosionUsesTheSixNeighbourCrossAndStrictThreshold() {
		int[] shape = { 3, 3, 3 };
		float[] p = filled(27, 0.9f);
		// Corners and edges are not in the cross: the centre survives when they are background.
		for (int i : new int[] { 0, 2, 6, 8, 18, 20, 24, 26, 1, 3, 5, 7 }) p[i] = 0;
		assertEquals(1, Grouping.thresholdAndErode(p, shape, 0.5)[13]);
		// A face neighbour at exactly the threshold is background (mask = p > threshold).
		p[22] = 0.5f;
		assertEquals(0, Grouping.thresholdAndErode(p, shape, 0.5)[13]);
		p[22] = Float.NaN;
		assertEquals(0, Grouping.thresholdAndErode(p, shape, 0.5)[13]);
	}

	@Test
	void labelsAreSixConnectedNotTwentySixConnected() {
		int[] shape = { 2, 2, 2 };
		byte[] m = new byte[8];
		m[0] = 1; // (0,0,0)
		m[3] = 1; // (0,1,1): shares only an edge with (0,0,0)
		m[7] = 1; // (1,1,1): shares a face with (0,1,1)
		Grouping.Labels l = Grouping.label(m, shape);
		assertEquals(2, l.count());
		assertArrayEquals(new int[] { 1, 0, 0, 2, 0, 0, 0, 2 }, l.labels());
		assertArrayEquals(new long[] { 1, 2 }, l.sizes());
		// Only a corner in common: separate components too.
		byte[] corner = new byte[8];
		corner[0] = 1;
		corner[7] = 1;
		assertEquals(2, Grouping.label(corner, shape).count());
	}

	@Test
	void labelsAreNumberedInRasterOrderOfFirstVoxel() {
		// One slice, 5×5. B is a U whose arms meet only on row 2, so it is first seen as two pieces.
		String[] rows = {
			"00001",
			"10101",
			"10111",
			"10000",
			"00100" };
		byte[] m = new byte[25];
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 5; x++) m[y * 5 + x] = (byte) (rows[y].charAt(x) - '0');
		Grouping.Labels l = Grouping.label(m, new int[] { 1, 5, 5 });
		int[] expected = {
			0, 0, 0, 0, 1,
			2, 0, 1, 0, 1,
			2, 0, 1, 1, 1,
			2, 0, 0, 0, 0,
			0, 0, 3, 0, 0 };
		assertEquals(3, l.count());
		assertArrayEquals(expected, l.labels());
		assertArrayEquals(new long[] { 6, 3, 1 }, l.sizes());
	}

	@Test
	void componentsConnectAcrossSlices() {
		// A staircase through three slices: (0,0,0)-(1,0,0)-(1,0,1)-(2,0,1)
		byte[] m = new byte[3 * 1 * 2];
		m[0] = 1; m[2] = 1; m[3] = 1; m[5] = 1;
		Grouping.Labels l = Grouping.label(m, new int[] { 3, 1, 2 });
		assertEquals(1, l.count());
		assertArrayEquals(new long[] { 4 }, l.sizes());
	}

	@Test
	void centresAreWeightedByClampedHuPlus1001() {
		// Slice of 1×4 with one component over all four voxels: HU -1000, 1000, 3000 (clamped), NaN (as -1000).
		short[] hu = { -1000, 1000, 3000, -1024 };
		CtVolume ct = CtVolume.ofShorts(hu, 4, 1, 1, Geometry.unit(), "t");
		float[] slice = new float[4];
		assertEquals(0, CtAnalysis.readClamped(ct, 0, 0, 0, 1, 4, slice));
		assertArrayEquals(new float[] { -1000, 1000, 1000, -1000 }, slice);
		Grouping.Labels labels = Grouping.label(new byte[] { 1, 1, 1, 1 }, new int[] { 1, 1, 4 });
		Grouping.CentreAccumulator acc = new Grouping.CentreAccumulator(labels);
		acc.addSlice(0, slice);
		// weights 1, 2001, 2001, 1: col = (0 + 2001 + 4002 + 3) / 4004
		assertArrayEquals(new double[] { 0, 0, 6006.0 / 4004 }, acc.centre(1), 1e-12);

		net.imglib2.img.array.ArrayImg<net.imglib2.type.numeric.real.FloatType, ?> f =
			net.imglib2.img.array.ArrayImgs.floats(new float[] { Float.NaN, 500, 2000 }, 3, 1, 1);
		float[] s3 = new float[3];
		assertEquals(1, CtAnalysis.readClamped(new CtVolume(f, Geometry.unit(), "nan"), 0, 0, 0, 1, 3, s3));
		assertArrayEquals(new float[] { -1000, 500, 1000 }, s3);
	}
}
