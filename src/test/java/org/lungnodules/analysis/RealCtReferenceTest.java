package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.Nifti;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;

/**
 * The published recipe on a real chest CT, LIDC-IDRI-0001 (LIDC-IDRI, TCIA, CC BY 3.0: see
 * ../shared/real/ATTRIBUTION.md), read from the scanner's DICOM series, against real PyTorch 1.13 on
 * the same CT: all 674 components in order, and the U-Net probability on the slices around the
 * 23 mm nodule. One analysis (several minutes of CPU) is shared by the tests.
 */
class RealCtReferenceTest {

	static final String REAL = "real/LIDC-IDRI-0001/";

	private static CtVolume ct;
	private static AnalysisResult result;

	@BeforeAll
	static void analyzeOnce() throws IOException {
		ct = CtReader.read(SharedData.require(REAL + "dicom")).volume();
		try (Inference inference = CtAnalysisReferenceTest.openBookModels()) {
			result = new CtAnalysis(inference, CtAnalysis.Settings.defaults()).analyze(ct, Progress.NONE);
		}
	}

	@AfterAll
	static void release() {
		ct = null;
		result = null;
	}

	@Test
	void candidatesMatchRealPyTorch() throws IOException {
		assertEquals(674, result.candidates().size(), "summary.json counts 674 components");
		CtAnalysisReferenceTest.assertCandidatesMatch(SharedData.require(REAL + "candidates-expected.csv"), result, ct.geometry().spacing());
		assertEquals(7, result.nodules(0.5).size(), "components with p_nodule >= 0.5 (7 in summary.json)");
	}

	@Test
	void theAnnotatedNoduleIsOneComponentWithProbabilityOne() throws IOException {
		String summary = Files.readString(SharedData.require(REAL + "summary.json"));
		double[] xyz = numbers(summary, "xyz", 3);
		double diameter = numbers(summary, "diameter_mm", 1)[0];
		int inside = 0;
		double best = 0;
		for (Candidate c : result.candidates()) {
			double d = Math.sqrt(Math.pow(c.x() - xyz[0], 2) + Math.pow(c.y() - xyz[1], 2) + Math.pow(c.z() - xyz[2], 2));
			if (d <= diameter / 2) {
				inside++;
				best = Math.max(best, c.probability());
			}
		}
		assertEquals(1, inside, "components within the annotated nodule's radius");
		assertEquals(1.0, best, 1e-4);
	}

	@Test
	void unetProbabilityMatchesRealPyTorchOnTheNoduleSlices() throws IOException {
		MetaImage expected = MetaImage.read(SharedData.require(REAL + "seg-probability-z82-97.mhd"));
		assertArrayEquals(new long[] { 512, 512, 16 }, expected.dimensions());
		// The reference's Offset is slice 82's position: the slice range is checked by geometry, not assumed.
		double[] origin82 = ct.geometry().voxelToWorld(82, 0, 0);
		assertArrayEquals(origin82, expected.origin(), 1e-4);
		float[] got = result.probability();
		int plane = ct.width() * ct.height();
		@SuppressWarnings("unchecked")
		Cursor<? extends RealType<?>> c = Views.flatIterable((RandomAccessibleInterval<? extends RealType<?>>) expected.image()).cursor();
		int i = 82 * plane, above = 0;
		double worst = 0;
		while (c.hasNext()) {
			float e = c.next().getRealFloat();
			worst = Math.max(worst, Math.abs(e - got[i++]));
			if (e > 0.5f) above++;
		}
		assertEquals(98 * plane, i);
		assertTrue(worst <= 1e-4, "largest difference from PyTorch on slices 82-97: " + worst);
		assertTrue(above > 500, "the nodule's slices have foreground in the reference");
	}

	/**
	 * The series written as NIfTI gives the same candidates: the analysis is a function of the voxels
	 * and the geometry, so the NIfTI copy must hold the same voxels, and its geometry must put every
	 * candidate's voxel centre at the same world point as the DICOM series did.
	 */
	@Test
	void theSeriesAsNiftiGivesTheSameCandidates(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
		Path nii = dir.resolve("lidc-0001.nii.gz");
		Nifti.write(nii, ct);
		CtVolume back = CtReader.read(nii).volume();
		assertArrayEquals(ct.shapeIrc(), back.shapeIrc());
		Cursor<? extends RealType<?>> a = Views.flatIterable(ct.image()).cursor(), b = Views.flatIterable(back.image()).cursor();
		while (a.hasNext())
			if (a.next().getRealDouble() != b.next().getRealDouble()) throw new AssertionError("voxel differs after NIfTI at " + a);
		for (Candidate c : result.candidates()) {
			double[] w = back.geometry().voxelToWorld(c.index(), c.row(), c.col());
			assertArrayEquals(new double[] { c.x(), c.y(), c.z() }, w, 1e-9, "component " + c.label() + " in the NIfTI copy's world");
		}
	}

	/** {@code count} numbers after {@code "key":} in a small JSON text (a list or a single value). */
	static double[] numbers(String json, String key, int count) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[?([^\\]}]*)").matcher(json);
		assertTrue(m.find(), key + " in summary.json");
		String[] parts = m.group(1).split(",");
		double[] v = new double[count];
		for (int k = 0; k < count; k++) v[k] = Double.parseDouble(parts[k].trim());
		return v;
	}

}
