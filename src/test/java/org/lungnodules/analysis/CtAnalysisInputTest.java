package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import net.imglib2.img.array.ArrayImgs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lungnodules.Progress;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.nn.Inference;

/** Bad or unusual input: small CTs, NaN voxels, sizes that are not multiples of 4, cancel, fast mode. */
class CtAnalysisInputTest {

	private static Inference inference;

	@BeforeAll
	static void open() throws IOException {
		inference = CtAnalysisReferenceTest.openBookModels();
	}

	@AfterAll
	static void close() {
		if (inference != null) inference.close();
	}

	private static float[] noisyLung(int n, long seed) {
		Random r = new Random(seed);
		float[] v = new float[n];
		for (int i = 0; i < n; i++) v[i] = (float) (-800 + 300 * r.nextGaussian());
		return v;
	}

	@Test
	void mirrorAveragesTheFourInPlaneMirrorImagesOfEachChunk() {
		ChestPhantom phantom = ChestPhantom.generate(3, 0, ChestPhantom.Options.defaults().withSize(40, 128, 128).withNodules(2, 2)
			.withDiameterRange(8, 12));
		CtVolume ct = phantom.volume();
		List<Candidate> points = new ArrayList<>();
		for (ChestPhantom.Candidate c : phantom.candidates().subList(0, 20))
			points.add(Candidate.atPoint(points.size() + 1, ct.geometry(), c.x(), c.y(), c.z()));
		List<Candidate> single = new CtAnalysis(inference, null).classify(ct, points, null);
		List<Candidate> mirrored = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withMirror(true)).classify(ct, points, null);
		int d = CtAnalysis.CHUNK[0], h = CtAnalysis.CHUNK[1], w = CtAnalysis.CHUNK[2];
		double largestChange = 0;
		for (int i = 0; i < points.size(); i++) {
			float[] chunk = new float[Inference.CHUNK_VOXELS];
			ct.copyBox(ct.cropStart(points.get(i).roundedCentreIrc(), CtAnalysis.CHUNK), CtAnalysis.CHUNK, chunk, 0, CtVolume.HU_MIN,
				CtVolume.HU_MAX);
			// The four views by index arithmetic: (flip y?, flip x?) in {no, yes}².
			double sum = 0;
			for (int view = 0; view < 4; view++) {
				boolean flipY = view >= 2, flipX = view % 2 == 1;
				float[] v = new float[chunk.length];
				for (int z = 0; z < d; z++)
					for (int y = 0; y < h; y++)
						for (int x = 0; x < w; x++)
							v[(z * h + y) * w + x] = chunk[(z * h + (flipY ? h - 1 - y : y)) * w + (flipX ? w - 1 - x : x)];
				sum += inference.classify(v, 1).positive(0);
			}
			Candidate m = mirrored.get(i);
			// (1e-5: a batch of 16 and a batch of 1 differ in the last float bits)
			assertEquals(sum / 4, m.probability(), 1e-5, "candidate " + i);
			// The reported logits are consistent with the averaged probability.
			assertEquals(m.probability(), 1 / (1 + Math.exp(m.logitNonNodule() - m.logitNodule())), 1e-9);
			assertEquals(inference.classify(chunk, 1).positive(0), single.get(i).probability(), 1e-5);
			largestChange = Math.max(largestChange, Math.abs(m.probability() - single.get(i).probability()));
		}
		assertTrue(largestChange > 1e-3, "mirroring changed nothing: " + largestChange);
	}

	@Test
	void ctSmallerThanAChunkFailsBeforeTheNetwork() {
		CtAnalysis a = new CtAnalysis(inference, null);
		CtVolume thin = CtVolume.ofShorts(new short[20 * 64 * 64], 64, 64, 20, Geometry.unit(), "thin");
		Progress failIfRun = (stage, f) -> { throw new AssertionError("no stage should start: " + stage); };
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.analyze(thin, failIfRun));
		assertTrue(e.getMessage().contains("thin") && e.getMessage().contains("20 slices (z)") && e.getMessage().contains("32"), e.getMessage());
		CtVolume narrow = CtVolume.ofShorts(new short[40 * 64 * 47], 47, 64, 40, Geometry.unit(), "narrow");
		e = assertThrows(IllegalArgumentException.class, () -> a.analyze(narrow, failIfRun));
		assertTrue(e.getMessage().contains("47 columns (x)"), e.getMessage());
	}

	@Test
	void sizesNotMultipleOfFourArePaddedWithAir() {
		// 34 slices of 50×50 must give what a 52×52 CT padded with -1000 at the bottom and right gives.
		int d = 34, h = 50, w = 50, hp = 52, wp = 52;
		float[] hu = noisyLung(d * h * w, 3);
		float[] padded = new float[d * hp * wp];
		java.util.Arrays.fill(padded, -1000);
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++) System.arraycopy(hu, (z * h + y) * w, padded, (z * hp + y) * wp, w);
		CtAnalysis a = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withBatchSlices(5));
		float[] got = a.segment(new CtVolume(ArrayImgs.floats(hu, w, h, d), Geometry.unit(), "odd"), null);
		float[] ref = a.segment(new CtVolume(ArrayImgs.floats(padded, wp, hp, d), Geometry.unit(), "even"), null);
		assertEquals(d * h * w, got.length);
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					assertEquals(ref[(z * hp + y) * wp + x], got[(z * h + y) * w + x], 1e-6f, "voxel " + z + "," + y + "," + x);
	}

	@Test
	void nanVoxelsCountAsMinus1000AndAreReported() {
		int d = 32, h = 48, w = 48;
		float[] hu = noisyLung(d * h * w, 5);
		float[] asAir = hu.clone();
		for (int i = 1000; i < hu.length; i += 997) {
			hu[i] = Float.NaN;
			asAir[i] = -1000;
		}
		CtAnalysis a = new CtAnalysis(inference, null);
		AnalysisResult withNan = a.analyze(new CtVolume(ArrayImgs.floats(hu, w, h, d), Geometry.unit(), "nan"), null);
		assertTrue(withNan.warnings().stream().anyMatch(s -> s.contains("NaN")), withNan.warnings().toString());
		AnalysisResult clean = a.analyze(new CtVolume(ArrayImgs.floats(asAir, w, h, d), Geometry.unit(), "air"), null);
		assertTrue(clean.warnings().isEmpty(), clean.warnings().toString());
		assertArrayEquals(clean.probability(), withNan.probability());
		assertEquals(clean.candidates(), withNan.candidates());
	}

	@Test
	void cancelStopsBetweenBatches() {
		int d = 40, h = 48, w = 48;
		CtVolume ct = new CtVolume(ArrayImgs.floats(noisyLung(d * h * w, 9), w, h, d), Geometry.unit(), "c");
		List<String> seen = new ArrayList<>();
		Progress cancelAfterFirstBatch = new Progress() {
			boolean stop;

			@Override
			public void report(String stage, double fraction) {
				seen.add(stage + " " + fraction);
				if (fraction > 0) stop = true;
			}

			@Override
			public boolean isCanceled() { return stop; }
		};
		assertThrows(Progress.Canceled.class, () -> new CtAnalysis(inference, null).analyze(ct, cancelAfterFirstBatch));
		// exactly one batch of 8 slices ran
		assertEquals(List.of("Segmenting 0.0", "Segmenting 0.2"), seen);
	}

	@Test
	void stagesAreReportedInOrder() {
		int d = 32, h = 48, w = 48;
		CtVolume ct = new CtVolume(ArrayImgs.floats(noisyLung(d * h * w, 11), w, h, d), Geometry.unit(), "s");
		List<String> stages = new ArrayList<>();
		new CtAnalysis(inference, null).analyze(ct, (stage, f) -> {
			if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(stage)) stages.add(stage);
		});
		assertEquals(List.of(CtAnalysis.SEGMENTING, CtAnalysis.GROUPING, CtAnalysis.CLASSIFYING), stages);
	}

	private static ChestPhantom fastModeChest;

	/** The chest both fast-mode tests use, generated once. */
	private static synchronized ChestPhantom fastModeChest() {
		if (fastModeChest == null)
			fastModeChest = ChestPhantom.generate(2024, 0, ChestPhantom.Options.defaults().withSize(72, 256, 256).withNodules(3, 3)
				.withDiameterRange(8, 20).withSolidOnly(true).withCandidatesPerCt(0));
		return fastModeChest;
	}

	@Test
	void fastModeFindsTheSameNodulesOnAGeneratedChest() {
		ChestPhantom chest = fastModeChest();
		CtVolume ct = chest.volume();
		CtAnalysis.Settings s = CtAnalysis.Settings.defaults().withKeepVolumes(false);
		List<Candidate> recipe = new CtAnalysis(inference, s).analyze(ct, null).nodules(0.5);
		List<Candidate> fast = new CtAnalysis(inference, s.withFast(true)).analyze(ct, null).nodules(0.5);
		assertFalse(recipe.isEmpty(), "the book's models should find some of the phantom's nodules");
		assertEquals(recipe.size(), fast.size(), "recipe " + recipe + "\nfast " + fast);
		for (int k = 0; k < recipe.size(); k++) {
			assertEquals(recipe.get(k).index(), fast.get(k).index(), 0.5);
			assertEquals(recipe.get(k).row(), fast.get(k).row(), 0.5);
			assertEquals(recipe.get(k).col(), fast.get(k).col(), 0.5);
		}
	}

	/**
	 * Inside the lungs (the phantom's own tissue labels: lung parenchyma and nodules) the fast mode's U-Net
	 * probabilities are the recipe's, and it segments well under the whole CT. Outside them it may differ.
	 */
	@Test
	void fastModeProbabilitiesInsideTheLungsAreTheRecipes() {
		ChestPhantom chest = fastModeChest();
		CtVolume ct = chest.volume();
		CtAnalysis recipeRun = new CtAnalysis(inference, CtAnalysis.Settings.defaults());
		float[] recipe = recipeRun.segment(ct, null);
		CtAnalysis fastRun = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(true));
		float[] fast = fastRun.segment(ct, null);
		int d = ct.depth(), h = ct.height(), w = ct.width();
		long lungVoxels = 0;
		double worst = 0;
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					ChestPhantom.Tissue t = chest.tissueAt(z, y, x);
					if (t != ChestPhantom.Tissue.LUNG && t != ChestPhantom.Tissue.NODULE) continue;
					lungVoxels++;
					int i = (z * h + y) * w + x;
					worst = Math.max(worst, Math.abs(recipe[i] - fast[i]));
				}
		assertTrue(lungVoxels > 0.05 * recipe.length, "the phantom should have lungs: " + lungVoxels);
		assertEquals(0, worst, 1e-5, "largest probability difference inside the lungs");
		assertEquals((long) d * h * w, recipeRun.lastSegmentedPixels());
		assertTrue(fastRun.lastSegmentedPixels() < 0.7 * d * h * w, "fast mode segmented " + fastRun.lastSegmentedPixels() + " of " +
			(long) d * h * w + " pixels");
	}

	/**
	 * A field of view cut through both lungs (columns 64..191 of a 256-wide chest): the lungs are
	 * then connected to the image border, which the fast mode must recognise instead of taking them
	 * for the air around the patient.
	 */
	@Test
	void fastModeFindsTheSameNodulesWhenTheLungsTouchTheImageBorder() {
		ChestPhantom chest = fastModeChest();
		var image = net.imglib2.view.Views.zeroMin(net.imglib2.view.Views.interval(chest.volume().image(),
			new long[] { 64, 0, 0 }, new long[] { 191, 255, 71 }));
		CtVolume ct = new CtVolume(image, chest.geometry(), "cut");
		CtAnalysis.Settings s = CtAnalysis.Settings.defaults().withKeepVolumes(false);
		List<Candidate> recipe = new CtAnalysis(inference, s).analyze(ct, null).nodules(0.5);
		assertFalse(recipe.isEmpty(), "the book's models should find some of the phantom's nodules");
		AnalysisResult fast = new CtAnalysis(inference, s.withFast(true)).analyze(ct, null);
		assertTrue(fast.warnings().isEmpty(), fast.warnings().toString());
		assertEquals(recipe.size(), fast.nodules(0.5).size(), "recipe " + recipe + "\nfast " + fast.nodules(0.5));
		for (Candidate r : recipe)
			assertTrue(fast.nodules(0.5).stream().anyMatch(f -> Math.abs(f.index() - r.index()) <= 1 && Math.abs(f.row() - r.row()) <= 1 &&
				Math.abs(f.col() - r.col()) <= 1), "recipe nodule " + r + " not found by the fast mode: " + fast.nodules(0.5));
	}
}
