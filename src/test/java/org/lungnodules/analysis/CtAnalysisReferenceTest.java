package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import net.imglib2.Cursor;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * The whole analysis of phantom-a against the outputs of real PyTorch 1.13 and scipy
 * ({@code ../shared/reference/phantom-a}): every voxel of the probability volume, the classifier at
 * given centres, and the grouped, classified candidates. One analysis run is shared by the tests.
 */
class CtAnalysisReferenceTest {

	static final String BOOK = "models/book/";
	static final String CLS = BOOK + "cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state";
	static final String SEG = BOOK + "seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";
	static final String PHANTOM = "reference/phantom-a/";

	private static Inference inference;
	private static CtVolume ct;
	private static AnalysisResult result;

	static Inference openBookModels() throws IOException {
		Inference.Builder b = Inference.builder().device("cpu");
		ModelFiles.addTo(b, Networks.Kind.SEG, SharedData.require(SEG));
		ModelFiles.addTo(b, Networks.Kind.CLS, SharedData.require(CLS));
		return b.build();
	}

	@BeforeAll
	static void analyzeOnce() throws IOException {
		ct = MetaImage.readVolume(SharedData.require(PHANTOM + "phantom-a.mhd"));
		inference = openBookModels();
		result = new CtAnalysis(inference, CtAnalysis.Settings.defaults()).analyze(ct, Progress.NONE);
	}

	@AfterAll
	static void close() {
		if (inference != null) inference.close();
	}

	@Test
	void probabilityMatchesPyTorchAtEveryVoxel() throws IOException {
		MetaImage expected = MetaImage.read(SharedData.require(PHANTOM + "seg-probability.mhd"));
		float[] got = result.probability();
		assertNotNull(got);
		assertEquals(96L * 256 * 256, got.length);
		@SuppressWarnings("unchecked")
		Cursor<? extends RealType<?>> c = Views.flatIterable((net.imglib2.RandomAccessibleInterval<? extends RealType<?>>) expected.image()).cursor();
		int i = 0, above = 0;
		double worst = 0;
		int worstAt = -1;
		while (c.hasNext()) {
			float e = c.next().getRealFloat();
			double diff = Math.abs(e - got[i]);
			if (diff > worst) { worst = diff; worstAt = i; }
			if (e > 0.5f) above++;
			i++;
		}
		assertEquals(got.length, i);
		assertTrue(worst <= 1e-4, "largest difference " + worst + " at flat index " + worstAt);
		assertTrue(above > 1000, "the reference should have foreground");
	}

	@Test
	void chunksMatchPyTorchAtListedCentres() throws IOException {
		List<String> rows = Files.readAllLines(SharedData.require(PHANTOM + "chunks-expected.csv"));
		assertEquals("index,row,col,logit0,logit1,p_nodule", rows.get(0));
		int n = rows.size() - 1;
		assertEquals(30, n);
		float[] chunks = new float[n * Inference.CHUNK_VOXELS];
		for (int k = 0; k < n; k++) {
			String[] f = rows.get(k + 1).split(",");
			int[] centre = { Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]) };
			System.arraycopy(ct.crop(centre, CtAnalysis.CHUNK), 0, chunks, k * Inference.CHUNK_VOXELS, Inference.CHUNK_VOXELS);
		}
		Inference.Classification c = inference.classify(chunks, n);
		for (int k = 0; k < n; k++) {
			String[] f = rows.get(k + 1).split(",");
			assertEquals(Double.parseDouble(f[3]), c.logits()[2 * k], 1e-3, "logit0 of row " + (k + 1));
			assertEquals(Double.parseDouble(f[4]), c.logits()[2 * k + 1], 1e-3, "logit1 of row " + (k + 1));
			assertEquals(Double.parseDouble(f[5]), c.positive(k), 1e-4, "p_nodule of row " + (k + 1));
		}
	}

	@Test
	void candidatesMatchTheReference() throws IOException {
		assertCandidatesMatch(SharedData.require(PHANTOM + "candidates-expected.csv"), result, ct.geometry().spacing());
		assertEquals(false, result.malignancyScored());
	}

	/**
	 * Every component of a real-PyTorch candidates-expected.csv, in its order: label, size, centre
	 * within 0.01 voxel (and mm), logits within 1e-3, p_nodule within 1e-4; no malignancy scores.
	 */
	static void assertCandidatesMatch(java.nio.file.Path expectedCsv, AnalysisResult result, double[] spacingXyz) throws IOException {
		List<String> rows = Files.readAllLines(expectedCsv);
		assertEquals("label,index,row,col,coordX,coordY,coordZ,voxels,logit0,logit1,p_nodule", rows.get(0));
		List<Candidate> got = result.candidates();
		assertEquals(rows.size() - 1, got.size(), "number of components");
		double voxelVolume = spacingXyz[0] * spacingXyz[1] * spacingXyz[2];
		for (int k = 0; k < got.size(); k++) {
			String[] f = rows.get(k + 1).split(",");
			Candidate c = got.get(k);
			String where = "component " + f[0];
			assertEquals(Integer.parseInt(f[0]), c.label(), where);
			assertEquals(Long.parseLong(f[7]), c.voxels(), where + " voxels");
			assertEquals(Double.parseDouble(f[1]), c.index(), 0.01, where + " index");
			assertEquals(Double.parseDouble(f[2]), c.row(), 0.01, where + " row");
			assertEquals(Double.parseDouble(f[3]), c.col(), 0.01, where + " col");
			assertEquals(Double.parseDouble(f[4]), c.x(), 0.01, where + " coordX");
			assertEquals(Double.parseDouble(f[5]), c.y(), 0.01, where + " coordY");
			assertEquals(Double.parseDouble(f[6]), c.z(), 0.01, where + " coordZ");
			assertEquals(Double.parseDouble(f[8]), c.logitNonNodule(), 1e-3, where + " logit0");
			assertEquals(Double.parseDouble(f[9]), c.logitNodule(), 1e-3, where + " logit1");
			assertEquals(Double.parseDouble(f[10]), c.probability(), 1e-4, where + " p_nodule");
			assertTrue(Double.isNaN(c.pMalignant()), "no malignancy model was loaded");
			// equivalent sphere of the component's volume
			double r = c.diameterMm() / 2;
			assertEquals(c.voxels() * voxelVolume, 4 / 3.0 * Math.PI * r * r * r, 1e-6 * c.voxels() * voxelVolume);
		}
	}

	@Test
	void labelVolumeAgreesWithTheCandidates() {
		int[] labels = result.labels();
		long[] counts = new long[result.candidates().size() + 1];
		for (int l : labels) counts[l]++;
		for (Candidate c : result.candidates()) assertEquals(c.voxels(), counts[c.label()]);
		// every labelled voxel lies where the probability exceeds 0.5 (erosion only removes)
		float[] p = result.probability();
		for (int i = 0; i < labels.length; i++)
			if (labels[i] != 0) assertTrue(p[i] > 0.5f, "labelled voxel " + i + " has probability " + p[i]);
	}

	@Test
	void fastModeFindsTheSameNodules() {
		AnalysisResult fast = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(true).withKeepVolumes(false))
			.analyze(ct, Progress.NONE);
		assertEquals(null, fast.probability());
		List<Candidate> expected = result.nodules(0.5), got = fast.nodules(0.5);
		assertEquals(expected.size(), got.size(), "nodules found: " + got);
		for (int k = 0; k < expected.size(); k++) {
			assertEquals(expected.get(k).index(), got.get(k).index(), 0.5);
			assertEquals(expected.get(k).row(), got.get(k).row(), 0.5);
			assertEquals(expected.get(k).col(), got.get(k).col(), 0.5);
		}
	}
}
