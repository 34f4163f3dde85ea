package org.lungnodules.ct;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.Annotation;

class GeometryTest {

	private static final double C30 = Math.sqrt(3) / 2, S30 = 0.5;

	/**
	 * A 30° rotation about z combined with a flip of the z axis: D = Rz(30°) · diag(1, 1, -1).
	 * Row-major, column c = direction of image axis c:
	 *
	 * <pre>
	 *     | c  -s   0 |      c = cos 30° = √3/2
	 * D = | s   c   0 |      s = sin 30° = 1/2
	 *     | 0   0  -1 |
	 * </pre>
	 *
	 * D is orthonormal (det -1) but not symmetric, so it also tells a correct inverse (Dᵀ) from
	 * the book's {@code @ inv(D)} (which applies D again).
	 */
	private static final double[] ROTATED_FLIPPED = { C30, -S30, 0, S30, C30, 0, 0, 0, -1 };
	private static final double[] ORIGIN = { 10, -20, 30 };
	private static final double[] SPACING = { 0.5, 0.8, 2.0 };

	@Test
	void voxelToWorldWithRotationFlipAndAnisotropicSpacingMatchesHandComputation() {
		Geometry g = new Geometry(ORIGIN, SPACING, ROTATED_FLIPPED);
		// Voxel (index, row, col) = (3, 5, 4).
		// Scaled, in x, y, z order: (col·sx, row·sy, index·sz) = (4·0.5, 5·0.8, 3·2.0) = (2, 4, 6).
		// D · (2, 4, 6) = (2c - 4s, 2s + 4c, -6) = (√3 - 2, 1 + 2√3, -6).
		// + origin (10, -20, 30) = (8 + √3, -19 + 2√3, 24) ≈ (9.7320508, -15.5358984, 24).
		double[] w = g.voxelToWorld(3, 5, 4);
		assertArrayEquals(new double[] { 8 + Math.sqrt(3), -19 + 2 * Math.sqrt(3), 24 }, w, 1e-12);

		// Back: Dᵀ · (w - origin) = Dᵀ · (√3 - 2, 1 + 2√3, -6)
		//   x: c(√3 - 2) + s(1 + 2√3) = 3/2 - √3 + 1/2 + √3 = 2  → col   = 2 / 0.5 = 4
		//   y: -s(√3 - 2) + c(1 + 2√3) = -√3/2 + 1 + √3/2 + 3 = 4 → row   = 4 / 0.8 = 5
		//   z: -(-6) = 6                                          → index = 6 / 2.0 = 3
		assertArrayEquals(new double[] { 3, 5, 4 }, g.worldToVoxel(w[0], w[1], w[2]), 1e-12);
		assertArrayEquals(new int[] { 3, 5, 4 }, g.worldToVoxelRounded(w[0], w[1], w[2]));

		// The book's formula, (w - origin) @ inv(D) = D · (w - origin) for this orthonormal D, lands
		// elsewhere: x = c(√3 - 2) - s(1 + 2√3) = (3/2 - √3) - (1/2 + √3) = 1 - 2√3 ≠ 2. We must not agree with it here.
		double bookX = C30 * (w[0] - ORIGIN[0]) - S30 * (w[1] - ORIGIN[1]);
		assertEquals(1 - 2 * Math.sqrt(3), bookX, 1e-12);
		assertFalse(Math.abs(bookX / SPACING[0] - 4) < 1);
	}

	@Test
	void worldAndVoxelRoundTripWithNonIdentityDirection() {
		Geometry g = new Geometry(ORIGIN, SPACING, ROTATED_FLIPPED);
		Random random = new Random(42);
		for (int i = 0; i < 1000; i++) {
			double index = random.nextDouble() * 300 - 20, row = random.nextDouble() * 512, col = random.nextDouble() * 512;
			double[] w = g.voxelToWorld(index, row, col);
			double[] v = g.worldToVoxel(w[0], w[1], w[2]);
			assertArrayEquals(new double[] { index, row, col }, v, 1e-9);
			assertArrayEquals(w, g.voxelToWorld(v[0], v[1], v[2]), 1e-9);
		}
		// Distances are preserved along each voxel axis with that axis' spacing (D orthonormal).
		double[] a = g.voxelToWorld(0, 0, 0), b = g.voxelToWorld(0, 0, 1), c = g.voxelToWorld(0, 1, 0), d = g.voxelToWorld(1, 0, 0);
		assertEquals(0.5, dist(a, b), 1e-12);
		assertEquals(0.8, dist(a, c), 1e-12);
		assertEquals(2.0, dist(a, d), 1e-12);
		assertArrayEquals(ORIGIN, a, 0);
		assertFalse(g.isIdentityDirection());
	}

	private static double dist(double[] p, double[] q) {
		return Math.sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
	}

	@Test
	void roundingIsHalfToEvenLikePython() {
		Geometry unit = Geometry.unit();
		assertTrue(unit.isIdentityDirection());
		// world (x, y, z) → (index, row, col) = (z, y, x)
		assertArrayEquals(new int[] { 0, 4, 2 }, unit.worldToVoxelRounded(2.5, 3.5, 0.5));
		assertArrayEquals(new int[] { 2, 0, -2 }, unit.worldToVoxelRounded(-2.5, -0.5, 1.5));
		assertArrayEquals(new int[] { 3, 3, 3 }, unit.worldToVoxelRounded(2.5000001, 3.4999999, 2.6));
		// With spacing: x = 0.7 · 2.5 = 1.75 → col 2.5 → 2; z = 1.25 · 3.5 = 4.375 → index 3.5 → 4.
		Geometry g = Geometry.of(new double[3], new double[] { 0.5, 0.5, 1.25 });
		assertArrayEquals(new int[] { 4, 0, 2 }, g.worldToVoxelRounded(1.25, 0, 4.375));
	}

	@Test
	void phantomAnnotationsLandOnTheNoduleVoxelCentres() throws IOException {
		List<Annotation> annotations = Luna16Tables.readAnnotations(SharedData.require("reference/phantom-a/annotations.csv"));
		String summary = Files.readString(SharedData.require("reference/phantom-a/summary.json"));
		List<int[]> expected = new ArrayList<>();
		Matcher m = Pattern.compile("\"irc\"\\s*:\\s*\\[\\s*(-?\\d+)\\s*,\\s*(-?\\d+)\\s*,\\s*(-?\\d+)\\s*\\]").matcher(summary);
		while (m.find())
			expected.add(new int[] { Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)) });
		assertEquals(6, expected.size());
		assertEquals(6, annotations.size());

		Geometry g = Geometry.of(new double[] { -90, -120, -300 }, new double[] { 0.7, 0.7, 1.25 });
		for (int i = 0; i < 6; i++) {
			Annotation a = annotations.get(i);
			assertArrayEquals(expected.get(i), g.worldToVoxelRounded(a.x(), a.y(), a.z()), "nodule " + i);
			double[] v = g.worldToVoxel(a.x(), a.y(), a.z());
			for (int k = 0; k < 3; k++)
				assertEquals(expected.get(i)[k], v[k], 1e-6, "the phantom's nodules sit exactly on voxel centres");
			double[] w = g.voxelToWorld(expected.get(i)[0], expected.get(i)[1], expected.get(i)[2]);
			assertArrayEquals(new double[] { a.x(), a.y(), a.z() }, w, 1e-6);
		}
	}

	@Test
	void badGeometriesAreRefused() {
		double[] id = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
		assertThrows(IllegalArgumentException.class, () -> new Geometry(new double[3], new double[] { 1, 0, 1 }, id));
		assertThrows(IllegalArgumentException.class, () -> new Geometry(new double[3], new double[] { 1, Double.NaN, 1 }, id));
		assertThrows(IllegalArgumentException.class, () -> new Geometry(new double[] { 0, Double.POSITIVE_INFINITY, 0 },
			new double[] { 1, 1, 1 }, id));
		IllegalArgumentException singular = assertThrows(IllegalArgumentException.class,
			() -> new Geometry(new double[3], new double[] { 1, 1, 1 }, new double[] { 1, 0, 0, 1, 0, 0, 0, 0, 1 }));
		assertTrue(singular.getMessage().contains("singular"));
		assertThrows(IllegalArgumentException.class, () -> new Geometry(new double[2], new double[] { 1, 1, 1 }, id));
	}

	@Test
	void accessorsReturnCopies() {
		Geometry g = new Geometry(ORIGIN, SPACING, ROTATED_FLIPPED);
		g.origin()[0] = 999;
		g.spacing()[0] = 999;
		g.direction()[0] = 999;
		assertArrayEquals(ORIGIN, g.origin(), 0);
		assertArrayEquals(SPACING, g.spacing(), 0);
		assertArrayEquals(ROTATED_FLIPPED, g.direction(), 0);
	}
}
