package org.lungnodules.ct;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.imglib2.RandomAccess;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;

import org.junit.jupiter.api.Test;

/**
 * The exact reorientation into LUNA16's orientation on small hand-made volumes. Every input voxel
 * holds v(x, y, z) = 100 z + 10 y + x, so each expected canonical voxel below is worked out by hand
 * from where it must come from.
 */
class ReorientationTest {

	private static final double[] ORIGIN = { 10, 20, 30 };
	private static final double[] SPACING = { 0.5, 0.7, 2.0 };

	/** A volume of width × height × depth voxels holding 100 z + 10 y + x, with this direction. */
	private static CtVolume volume(int w, int h, int d, double[] direction) {
		short[] v = new short[w * h * d];
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) v[(z * h + y) * w + x] = (short) (100 * z + 10 * y + x);
		return CtVolume.ofShorts(v, w, h, d, new Geometry(ORIGIN, SPACING, direction), "hand-made");
	}

	private static double at(CtVolume ct, int x, int y, int z) {
		RandomAccess<? extends RealType<?>> ra = ct.image().randomAccess();
		ra.setPosition(new long[] { x, y, z });
		return ra.get().getRealDouble();
	}

	/** Every canonical voxel sits at the same world point as the input voxel it was taken from. */
	private static void assertSameWorld(Reorientation r) {
		CtVolume in = r.input(), out = r.canonical();
		for (int z = 0; z < out.depth(); z++)
			for (int y = 0; y < out.height(); y++)
				for (int x = 0; x < out.width(); x++) {
					double[] irc = r.toInputIrc(z, y, x);
					assertArrayEquals(in.geometry().voxelToWorld(irc[0], irc[1], irc[2]), out.geometry().voxelToWorld(z, y, x), 1e-9);
					double v = at(in, (int) irc[2], (int) irc[1], (int) irc[0]);
					assertEquals(v, at(out, x, y, z), "canonical voxel " + x + "," + y + "," + z);
					assertArrayEquals(new double[] { z, y, x }, r.toCanonicalIrc(irc[0], irc[1], irc[2]), 0);
				}
	}

	@Test
	void lpsInputIsLeftAlone() {
		CtVolume ct = volume(3, 2, 2, new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 });
		Reorientation r = Reorientation.of(ct);
		assertTrue(r.isIdentity());
		assertSame(ct, r.canonical());
		float[] p = { 1, 2, 3 };
		assertSame(p, r.toInput(p));
		assertEquals(0, r.obliqueDegrees());
	}

	@Test
	void flippedX() {
		// Voxel x runs toward the patient's right (-x in LPS): canonical x' = 2 - x.
		CtVolume ct = volume(3, 2, 2, new double[] { -1, 0, 0, 0, 1, 0, 0, 0, 1 });
		Reorientation r = Reorientation.of(ct);
		CtVolume c = r.canonical();
		assertFalse(r.isIdentity());
		assertArrayEquals(new int[] { 2, 2, 3 }, c.shapeIrc());
		// canonical (x', y, z) = input (2 - x', y, z): v = 100 z + 10 y + 2 - x'
		assertEquals(2, at(c, 0, 0, 0));
		assertEquals(0, at(c, 2, 0, 0));
		assertEquals(100 + 10 + 1, at(c, 1, 1, 1));
		// origin: the world point of input voxel x = 2, i.e. 10 - 2 * 0.5
		assertArrayEquals(new double[] { 9, 20, 30 }, c.geometry().origin(), 1e-12);
		assertArrayEquals(SPACING, c.geometry().spacing(), 0);
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, c.geometry().direction(), 0);
		assertArrayEquals(new double[] { 1, 1, 2 }, r.toInputIrc(1, 1, 0), 0);
		assertSameWorld(r);
	}

	@Test
	void flippedYAsDcm2niixWritesRowsBottomUp() {
		// NIfTI "LAS": rows run toward anterior (-y in LPS). canonical (x, y', z) = input (x, 1 - y', z)
		CtVolume ct = volume(3, 2, 2, new double[] { 1, 0, 0, 0, -1, 0, 0, 0, 1 });
		Reorientation r = Reorientation.of(ct);
		CtVolume c = r.canonical();
		assertEquals(10, at(c, 0, 0, 0));
		assertEquals(0, at(c, 0, 1, 0));
		assertEquals(100 + 10 + 2, at(c, 2, 0, 1));
		assertArrayEquals(new double[] { 10, 20 - 0.7, 30 }, c.geometry().origin(), 1e-12);
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, c.geometry().direction(), 0);
		assertTrue(r.flipped(1) && !r.flipped(0) && !r.flipped(2));
		assertSameWorld(r);
	}

	@Test
	void coronalSlicesBecomeAxial() {
		// Stored as coronal slices: columns toward the patient's left (+x), rows toward inferior (-z),
		// slices from anterior to posterior (+y). Columns of D: (1,0,0), (0,0,-1), (0,1,0).
		double[] d = { 1, 0, 0, //
			0, 0, 1, //
			0, -1, 0 };
		CtVolume ct = volume(4, 3, 2, d);
		Reorientation r = Reorientation.of(ct);
		CtVolume c = r.canonical();
		// canonical x' = input x; canonical y' = input z; canonical z' = 2 - input y (rows ran downwards)
		assertEquals(0, r.inputAxis(0));
		assertEquals(2, r.inputAxis(1));
		assertEquals(1, r.inputAxis(2));
		assertTrue(r.flipped(2) && !r.flipped(1) && !r.flipped(0));
		assertArrayEquals(new long[] { 4, 2, 3 }, c.image().dimensionsAsLongArray());
		assertArrayEquals(new int[] { 3, 2, 4 }, c.shapeIrc());
		// canonical (x', y', z') = input (x', 2 - z', y'): v = 100 y' + 10 (2 - z') + x'
		assertEquals(20, at(c, 0, 0, 0));
		assertEquals(0, at(c, 0, 0, 2));
		assertEquals(100 + 10 + 3, at(c, 3, 1, 1));
		assertEquals(100 + 0 + 1, at(c, 1, 1, 2));
		assertArrayEquals(new double[] { 0.5, 2.0, 0.7 }, c.geometry().spacing(), 0);
		// origin: input voxel (0, 2, 0), i.e. two rows of 0.7 mm toward -z
		assertArrayEquals(new double[] { 10, 20, 30 - 1.4 }, c.geometry().origin(), 1e-12);
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, c.geometry().direction(), 0);
		assertSameWorld(r);

		// A canonical C-order volume (index z', row y', col x') back on the input grid, and the reverse.
		float[] canon = new float[24];
		for (int z = 0; z < 3; z++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 4; x++) canon[(z * 2 + y) * 4 + x] = (float) at(c, x, y, z);
		float[] back = r.toInput(canon);
		for (int z = 0; z < 2; z++)
			for (int y = 0; y < 3; y++)
				for (int x = 0; x < 4; x++) assertEquals(100 * z + 10 * y + x, back[(z * 3 + y) * 4 + x], "input voxel " + x + "," + y + "," + z);
		assertArrayEquals(canon, r.toCanonical(back));
		int[] labels = new int[24];
		for (int i = 0; i < 24; i++) labels[i] = (int) canon[i];
		int[] labelsBack = r.toInput(labels);
		for (int i = 0; i < 24; i++) assertEquals(back[i], labelsBack[i]);
		// a fractional position: canonical (index 0.5, row 1, col 2.25) comes from input (z 1, y 1.5, x 2.25)
		assertArrayEquals(new double[] { 1, 1.5, 2.25 }, r.toInputIrc(0.5, 1, 2.25), 1e-12);
	}

	@Test
	void twentyDegreesObliqueIsReorientedAndKeepsItsResidualRotation() {
		double a = Math.toRadians(20), cos = Math.cos(a), sin = Math.sin(a);
		// Rotated 20° about z, and rows stored bottom-up: columns of D (cos, sin, 0), (sin, -cos, 0), (0, 0, 1).
		double[] d = { cos, sin, 0, //
			sin, -cos, 0, //
			0, 0, 1 };
		CtVolume ct = volume(3, 2, 2, d);
		Reorientation r = Reorientation.of(ct);
		assertEquals(20, r.obliqueDegrees(), 1e-9);
		assertTrue(r.flipped(1) && !r.flipped(0) && r.inputAxis(0) == 0 && r.inputAxis(1) == 1);
		Geometry g = r.canonical().geometry();
		// the residual rotation: column 1 negated, a 20° rotation about z with a positive diagonal
		assertArrayEquals(new double[] { cos, -sin, 0, sin, cos, 0, 0, 0, 1 }, g.direction(), 1e-15);
		assertSameWorld(r);
		// and a second reorientation of the result changes nothing
		assertTrue(Reorientation.of(r.canonical()).isIdentity());
	}

	@Test
	void fortyFiveDegreesObliqueIsRefusedNamingTheFile() {
		double s = Math.sqrt(0.5);
		CtVolume ct = volume(3, 2, 2, new double[] { s, -s, 0, s, s, 0, 0, 0, 1 });
		Reorientation.Refused e = assertThrows(Reorientation.Refused.class, () -> Reorientation.of(ct, "/scans/tilted.nii.gz"));
		assertTrue(e.getMessage().contains("/scans/tilted.nii.gz"), e.getMessage());
		assertTrue(e.getMessage().contains("45.0°"), e.getMessage());
		assertTrue(e.getMessage().contains("30°"), e.getMessage());
		// without a file, the series names it
		assertTrue(assertThrows(Reorientation.Refused.class, () -> Reorientation.of(ct)).getMessage().contains("hand-made"));
	}

	@Test
	void thirtyOneDegreesIsRefusedTwentyNineIsNot() {
		for (double deg : new double[] { 29, 31 }) {
			double a = Math.toRadians(deg);
			CtVolume ct = volume(3, 2, 2, new double[] { 1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a) });
			if (deg < 30) assertEquals(deg, Reorientation.of(ct).obliqueDegrees(), 1e-9);
			else assertThrows(Reorientation.Refused.class, () -> Reorientation.of(ct));
		}
	}

	@Test
	void allFortyEightAxisAlignedOrientationsBecomeLps() {
		int[][] perms = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
		for (int[] p : perms)
			for (int signs = 0; signs < 8; signs++) {
				double[] d = new double[9];
				// image axis c points along world axis p[c], negative when bit c of signs is set
				for (int c = 0; c < 3; c++) d[3 * p[c] + c] = (signs >> c & 1) == 1 ? -1 : 1;
				CtVolume ct = volume(3, 4, 5, d);
				Reorientation r = Reorientation.of(ct);
				assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, r.canonical().geometry().direction(), 0);
				assertSameWorld(r);
				float[] values = new float[60];
				for (int i = 0; i < 60; i++) values[i] = i;
				assertArrayEquals(values, r.toInput(r.toCanonical(values)));
			}
	}
}
