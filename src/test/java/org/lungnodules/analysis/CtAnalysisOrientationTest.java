package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;

/**
 * The analysis' entry points on CTs stored in other orders than LUNA16's: the networks see the same
 * voxels, and answers come back on the grid of the CT as given.
 */
class CtAnalysisOrientationTest {

	/**
	 * The same CT stored with its z axis reversed and its x and y axes swapped: input voxel (x, y, z)
	 * holds canonical voxel (y, x, depth - 1 - z). Its direction says so, and its origin is the
	 * world point of the canonical volume's last slice.
	 */
	static CtVolume restored(CtVolume lps) {
		RandomAccessibleInterval<? extends RealType<?>> img = lps.image();
		RandomAccessibleInterval<? extends RealType<?>> swapped = Views.permute(img, 0, 1);
		RandomAccessibleInterval<? extends RealType<?>> stored = Views.zeroMin(Views.invertAxis(swapped, 2));
		Geometry g = lps.geometry();
		double[] s = g.spacing();
		// columns: input x runs along world y, input y along world x, input z along world -z
		double[] direction = { 0, 1, 0, 1, 0, 0, 0, 0, -1 };
		return new CtVolume(stored, new Geometry(g.voxelToWorld(lps.depth() - 1, 0, 0), new double[] { s[1], s[0], s[2] }, direction),
			lps.seriesUid());
	}

	@Test
	void classifyingPointsOfARestoredPhantomGivesPyTorchsChunkProbabilities() throws Exception {
		CtVolume lps = MetaImage.readVolume(SharedData.require("reference/phantom-a/phantom-a.mhd"));
		CtVolume ct = restored(lps);
		Reorientation r = Reorientation.of(ct);
		assertTrue(r.flipped(2) && r.inputAxis(0) == 1 && r.inputAxis(1) == 0, r.describe());
		List<String> rows = Files.readAllLines(SharedData.require("reference/phantom-a/chunks-expected.csv"));
		assertEquals("index,row,col,logit0,logit1,p_nodule", rows.get(0));
		List<Candidate> points = new ArrayList<>();
		for (String line : rows.subList(1, rows.size())) {
			String[] f = line.split(",");
			double[] w = lps.geometry().voxelToWorld(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
			points.add(Candidate.atPoint(points.size() + 1, ct.geometry(), w[0], w[1], w[2]));
		}
		List<Candidate> got;
		try (Inference inference = CtAnalysisReferenceTest.openBookModels()) {
			got = new CtAnalysis(inference, null).classify(ct, points, null);
		}
		for (int i = 0; i < got.size(); i++) {
			String[] f = rows.get(i + 1).split(",");
			assertEquals(Double.parseDouble(f[5]), got.get(i).probability(), 1e-4, "chunk " + i);
			assertEquals(Double.parseDouble(f[4]), got.get(i).logitNodule(), 1e-3, "chunk " + i);
			// positions stay those of the CT as given: input (index, row, col) = canonical (depth-1-index, col, row)
			assertEquals(lps.depth() - 1 - Double.parseDouble(f[0]), got.get(i).index(), 1e-6);
			assertEquals(Double.parseDouble(f[2]), got.get(i).row(), 1e-6);
			assertEquals(Double.parseDouble(f[1]), got.get(i).col(), 1e-6);
		}
	}

	@Test
	void groupingLabelsTheInputGridInTheCanonicalOrder() {
		// Two blobs side by side along x in a 7 x 5 x 4 probability volume on a canonical grid; the stored copy
		// reverses x. Eroded, blob a keeps voxel (1, 1, 1) and blob b (5, 1, 1) and (5, 2, 1): canonically a is
		// label 1 (met first along x), on the stored grid b would be.
		int w = 7, h = 5, d = 4;
		float[] canon = new float[w * h * d];
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					boolean a = x <= 2 && y <= 2 && z <= 2, b = x >= 4 && y <= 3 && z <= 2;
					if (a || b) canon[(z * h + y) * w + x] = 0.9f;
				}
		Geometry flippedX = new Geometry(new double[] { 6, 0, 0 }, new double[] { 1, 1, 1 }, new double[] { -1, 0, 0, 0, 1, 0, 0, 0, 1 });
		CtVolume stored = new CtVolume(ArrayImgs.floats(w, h, d), flippedX, "x-reversed");
		float[] input = new float[canon.length];
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) input[(z * h + y) * w + x] = canon[(z * h + y) * w + (w - 1 - x)];
		Grouping.Labels expected = Grouping.label(Grouping.thresholdAndErode(canon, new int[] { d, h, w }, 0.5), new int[] { d, h, w });
		assertEquals(2, expected.count());
		assertArrayEquals(new long[] { 1, 2 }, expected.sizes(), "blob a is label 1 canonically");
		Grouping.Labels got = CtAnalysis.group(stored, input, 0.5, null);
		assertArrayEquals(new int[] { d, h, w }, got.shapeIrc());
		assertArrayEquals(expected.sizes(), got.sizes());
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					assertEquals(expected.labels()[(z * h + y) * w + (w - 1 - x)], got.labels()[(z * h + y) * w + x], "voxel " + x + "," + y + "," + z);
	}

	@Test
	void aFortyFiveDegreeObliqueCtIsRefusedBeforeAnyNetworkRuns() {
		double s = Math.sqrt(0.5);
		CtVolume ct = new CtVolume(ArrayImgs.shorts(64, 64, 40), new Geometry(new double[3], new double[] { 1, 1, 1 },
			new double[] { s, -s, 0, s, s, 0, 0, 0, 1 }), "tilted");
		Reorientation.Refused e = assertThrows(Reorientation.Refused.class, () -> CtAnalysis.checkUsable(ct));
		assertTrue(e.getMessage().contains("tilted") && e.getMessage().contains("45.0°"), e.getMessage());
	}
}
