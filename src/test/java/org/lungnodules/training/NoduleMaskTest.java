package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/** The book's box-growing nodule mask on a hand-built 7x7x7 volume. */
class NoduleMaskTest {

	private static final int N = 7;

	private static int at(int z, int y, int x) {
		return (z * N + y) * N + x;
	}

	@Test
	void growsPerAxisBoxesAndKeepsDenseVoxelsInside() {
		short[] hu = new short[N * N * N];
		java.util.Arrays.fill(hu, (short) -1000);
		for (int z = 2; z <= 4; z++)
			for (int y = 2; y <= 4; y++)
				for (int x = 2; x <= 4; x++)
					hu[at(z, y, x)] = 100;
		for (int x = 0; x < N; x++) hu[at(3, 3, x)] = 0; // a vessel along x through the centre
		hu[at(5, 3, 3)] = 0; // dense on one side only along z: growth stops at radius 2, the box includes it
		hu[at(6, 3, 3)] = 0; // beyond the box
		hu[at(1, 1, 1)] = 0; // in the box, not touching the nodule: the book keeps it (no connectivity)
		hu[at(5, 5, 6)] = 0; // in the box thanks to the column radius (the book's typo would use the row radius)
		hu[at(0, 0, 0)] = 500; // outside
		hu[at(2, 2, 2)] = -700; // not above the threshold

		// Radii by hand: index: ±2 are z=5 (dense) and z=1 (air) -> stops at 2, box 1..5.
		// row: ±2 are y=5, y=1 (air) -> 2, box 1..5. col: ±2 dense (vessel), ±3 dense, ±4 leaves the
		// volume -> 4 - 1 = 3, box 0..6.
		BitSet mask = LoadedCt.buildMask(hu, N, N, N, List.<int[]>of(new int[] { 3, 3, 3 }), -700);

		Set<Integer> expected = new TreeSet<>();
		for (int z = 2; z <= 4; z++)
			for (int y = 2; y <= 4; y++)
				for (int x = 2; x <= 4; x++)
					expected.add(at(z, y, x));
		expected.remove(at(2, 2, 2));
		for (int x : new int[] { 0, 1, 5, 6 }) expected.add(at(3, 3, x));
		expected.add(at(5, 3, 3));
		expected.add(at(1, 1, 1));
		expected.add(at(5, 5, 6));

		Set<Integer> actual = new TreeSet<>();
		for (int i = mask.nextSetBit(0); i >= 0; i = mask.nextSetBit(i + 1)) actual.add(i);
		assertEquals(expected, actual);
	}

	@Test
	void centreAtTheEdgeClipsTheBox() {
		short[] hu = new short[N * N * N];
		java.util.Arrays.fill(hu, (short) 200); // all dense: every radius runs into the volume edge
		BitSet mask = LoadedCt.buildMask(hu, N, N, N, List.<int[]>of(new int[] { 0, 6, 3 }), -700);
		// index: 0 - 2 < 0 at once -> radius 1, box 0..1 (clipped). row: 6 + 2 > 6 -> radius 1, box 5..6.
		// col: ±2, ±3 inside, ±4 outside -> radius 3, box 0..6.
		Set<Integer> expected = new TreeSet<>(), actual = new TreeSet<>();
		for (int z = 0; z <= 1; z++)
			for (int y = 5; y <= 6; y++)
				for (int x = 0; x <= 6; x++)
					expected.add(at(z, y, x));
		for (int i = mask.nextSetBit(0); i >= 0; i = mask.nextSetBit(i + 1)) actual.add(i);
		assertEquals(expected, actual);
	}
}
