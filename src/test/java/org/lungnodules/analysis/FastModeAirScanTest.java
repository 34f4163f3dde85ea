package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The fast mode's lung box on hand-drawn slices: a body disc holding two rectangular "lungs", in air.
 * The box of the enclosed air must be the lungs' box, also when the air around the body is lung-like in
 * places (as on real scanners: noise, pads, blankets), and must become all lung-like air when the lungs
 * are cut by the image border.
 */
class FastModeAirScanTest {

	static final int H = 128, W = 128;

	/** Air −1000, a body disc of radius 56 at the centre (40 HU), lungs −850 at rows 40..87, cols 30..55 and 72..97. */
	static float[] chest() {
		float[] s = new float[H * W];
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++) {
				double r = Math.hypot(y - 63.5, x - 63.5);
				boolean lung = y >= 40 && y <= 87 && (x >= 30 && x <= 55 || x >= 72 && x <= 97);
				s[y * W + x] = r > 56 ? -1000 : lung ? -850 : 40;
			}
		return s;
	}

	/**
	 * {@link #chest()} with a lung-like pad under the body and a lung-like corner: 20 % of the slice, far above
	 * the 3 % limit, connected to the border.
	 */
	static float[] chestOnLungLikePads() {
		float[] s = chest();
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				if (s[y * W + x] == -1000 && (y > 110 || x + y < 40)) s[y * W + x] = -800;
		return s;
	}

	@Test
	void enclosedAirIsTheLungs() {
		int[] box = new CtAnalysis.AirScan(H, W).enclosedAir(chest());
		assertArrayEquals(new int[] { 40, 87, 30, 97, 2 * 48 * 26 }, box);
	}

	@Test
	void lungLikeAirAroundTheBodyDoesNotMakeTheLungsCut() {
		float[] s = chestOnLungLikePads();
		// no body on the border
		int[] box = new CtAnalysis.AirScan(H, W).enclosedAir(s);
		assertArrayEquals(new int[] { 40, 87, 30, 97, 2 * 48 * 26 }, box);
	}

	@Test
	void lungsCutByTheBorderCountAllLungLikeAir() {
		// the field of view cut at column 40: the left lung (cols 30..55) now touches the border
		float[] full = chest();
		int w = W - 40;
		float[] s = new float[H * w];
		for (int y = 0; y < H; y++) System.arraycopy(full, y * W + 40, s, y * w, w);
		int[] box = new CtAnalysis.AirScan(H, w).enclosedAir(s);
		// both lungs: rows 40..87, cols 0..15 (left, cut) and 32..57 (right), shifted by the cut
		assertEquals(40, box[0]);
		assertEquals(87, box[1]);
		assertEquals(0, box[2]);
		assertEquals(57, box[3]);
	}

	/** Small pockets of air in the body (table, clothes, skin folds on real CTs) do not widen the box. */
	@Test
	void smallPocketsAreNotLung() {
		float[] s = chest();
		// a 2×3 pocket low in the body, far from the lungs: 6 pixels, under 0.05 % of the slice (8.2 pixels)
		for (int y = 110; y < 112; y++)
			for (int x = 60; x < 63; x++) s[y * W + x] = -1000;
		CtAnalysis.AirScan scan = new CtAnalysis.AirScan(H, W);
		assertArrayEquals(new int[] { 40, 87, 30, 97, 2 * 48 * 26 }, scan.enclosedAir(s));
		// the column profile is the lungs' own
		assertEquals(40, scan.columnTop[30]);
		assertEquals(87, scan.columnBottom[97]);
		assertEquals(-1, scan.columnBottom[61]);
		assertEquals(H, scan.columnTop[60]);
	}

	/**
	 * An arm touching one image side (body on a few percent of it, as in LIDC-IDRI-0001's upper slices) with
	 * lung-like blankets around the body is not a field of view cut through the lungs.
	 */
	@Test
	void anArmOnTheBorderDoesNotMakeTheLungsCut() {
		float[] s = chestOnLungLikePads();
		// an "arm": rows 60..67 (6 % of the left side) of body from the border to the disc
		for (int y = 60; y < 68; y++)
			for (int x = 0; x < 10; x++) s[y * W + x] = 40;
		assertArrayEquals(new int[] { 40, 87, 30, 97, 2 * 48 * 26 }, new CtAnalysis.AirScan(H, W).enclosedAir(s));
	}
}
