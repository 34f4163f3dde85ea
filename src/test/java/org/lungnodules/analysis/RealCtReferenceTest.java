package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.dicom.DicomTools;
import org.lungnodules.io.dicom.NoduleDicom;
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

	private static CtReader.ReadCt read;
	private static CtVolume ct;
	private static AnalysisResult result;

	@BeforeAll
	static void analyzeOnce() throws IOException {
		read = CtReader.read(SharedData.require(REAL + "dicom"));
		ct = read.volume();
		try (Inference inference = CtAnalysisReferenceTest.openBookModels()) {
			result = new CtAnalysis(inference, CtAnalysis.Settings.defaults()).analyze(ct, Progress.NONE);
		}
	}

	@AfterAll
	static void release() {
		read = null;
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

	/**
	 * Issue #23 §1 on the real series: the DICOM Segmentation and Structured Report of the analysis.
	 * dciodvfy judges both; pydicom reads the SEG's voxels back, placing each by the frame's own plane
	 * position and finding its slice by the SOP instance it references. The 23 mm nodule's segment must
	 * sit on LUNA16's annotation and overlap the four radiologists' consensus; the SR's measurement
	 * groups must be the candidates file's nodules, in its order.
	 */
	@Test
	void dicomSegmentationAndReportOfTheSeries(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
		DicomTools.requireDciodvfy();
		DicomTools.requirePydicom();
		Path csv = CandidatesCsv.write(dir, result);
		Path seg = SharedData.require(CtAnalysisReferenceTest.SEG), cls = SharedData.require(CtAnalysisReferenceTest.CLS);
		NoduleDicom.Written w = ViewerFiles.writeDicom(dir, result, 0.5, read.dicomSource(), ViewerFiles.algorithm(seg, cls, null));
		for (Path f : List.of(w.segFile(), w.srFile())) {
			DicomTools.Run v = DicomTools.dciodvfy(f);
			assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), f.getFileName() + ":\n" + v.out());
		}
		DicomTools.requireDsrdump();
		DicomTools.Run dsr = DicomTools.run("dsrdump", w.srFile().toString());
		assertEquals(0, dsr.exit(), dsr.out());
		// dcmtk logs errors and warnings as lines starting "E: " and "W: ".
		assertEquals(List.of(), DicomTools.lines(dsr.out(), "E: "), dsr.out());
		assertEquals(List.of(), DicomTools.lines(dsr.out(), "W: "), dsr.out());

		// LUNA16's annotation of this series, and the readers' consensus on the CT's grid.
		String uid = ct.seriesUid();
		double[] truth = null;
		for (String line : Files.readAllLines(SharedData.require("luna/annotations.csv")))
			if (line.startsWith(uid + ",")) {
				String[] f = line.split(",");
				truth = new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]) };
			}
		assertTrue(truth != null && truth[3] > 20, "LUNA16 annotates the 23 mm nodule of " + uid);
		LidcConsensus.Result consensus = LidcConsensus.of(LidcReadings.read(SharedData.require(REAL + "reader-annotations.xml")), ct.geometry(),
			ct.shapeIrc(), LidcConsensus.Settings.defaults());
		assertEquals(1, consensus.clusters().size());
		LidcConsensus.Mask readers = consensus.clusters().get(0).consensus();

		// The SEG's voxels, per segment: world centroid, and the voxels on the CT's grid.
		Map<String, Integer> sliceOf = new HashMap<>();
		for (int i = 0; i < read.dicomSource().images().size(); i++) sliceOf.put(read.dicomSource().images().get(i).sopInstanceUid(), i);
		Map<Integer, double[]> sums = new TreeMap<>();
		Map<Integer, Set<Long>> voxels = new HashMap<>();
		int plane = ct.width() * ct.height();
		for (String[] v : DicomTools.python("seg_voxels.py", w.segFile().toString()).rows("voxel")) {
			int segment = Integer.parseInt(v[1]);
			Integer slice = sliceOf.get(v[2]);
			assertTrue(slice != null, "frame references an image of the series: " + v[2]);
			double[] sum = sums.computeIfAbsent(segment, k -> new double[4]);
			for (int k = 0; k < 3; k++) sum[k] += Double.parseDouble(v[6 + k]);
			sum[3]++;
			voxels.computeIfAbsent(segment, k -> new HashSet<>()).add((long) slice * plane + Integer.parseInt(v[4]) * ct.width() + Integer.parseInt(v[5]));
		}
		List<CandidatesCsv.Row> nodules = new java.util.ArrayList<>();
		for (CandidatesCsv.Row r : CandidatesCsv.read(csv)) if (r.probability() >= 0.5) nodules.add(r);
		assertEquals(nodules.size(), sums.size(), "one segment per nodule of the candidates file");
		int nearest = -1;
		double best = Double.MAX_VALUE;
		for (Map.Entry<Integer, double[]> e : sums.entrySet()) {
			double[] s = e.getValue();
			double d = Math.sqrt(Math.pow(s[0] / s[3] - truth[0], 2) + Math.pow(s[1] / s[3] - truth[1], 2) + Math.pow(s[2] / s[3] - truth[2], 2));
			if (d < best) { best = d; nearest = e.getKey(); }
			assertEquals(nodules.get(e.getKey() - 1).voxels(), (long) s[3], "segment " + e.getKey() + " is nodule " + e.getKey() + "'s component");
		}
		assertTrue(best <= 3, "the 23 mm nodule's segment centroid is " + best + " mm from LUNA16's annotation");
		long both = 0;
		for (long i : voxels.get(nearest))
			if (readers.contains((int) (i / plane), (int) (i % plane / ct.width()), (int) (i % ct.width()))) both++;
		double dice = 2.0 * both / (voxels.get(nearest).size() + readers.count());
		System.out.printf("LIDC-IDRI-0001 SEG: segment %d, centroid %.2f mm from LUNA16, Dice %.3f against the readers' consensus%n", nearest, best, dice);
		assertTrue(dice >= 0.5, "Dice " + dice);

		// The SR's measurement groups are the candidates file's nodules, in its order.
		List<String[]> groups = DicomTools.python("read_sr.py", w.srFile().toString()).rows("group");
		assertEquals(nodules.size(), groups.size());
		for (int k = 0; k < groups.size(); k++) {
			String[] g = groups.get(k);
			CandidatesCsv.Row r = nodules.get(k);
			assertEquals("Nodule " + (k + 1), g[1]);
			assertEquals(w.segmentation().sopInstanceUid(), g[4]);
			assertEquals(k + 1, Integer.parseInt(g[5]), "group " + (k + 1) + " refers to its segment");
			assertEquals(r.diameterMm(), Double.parseDouble(g[7]), 0, "diameter of nodule " + (k + 1));
			assertEquals(r.probability(), Double.parseDouble(g[9]), 0, "probability of nodule " + (k + 1));
			assertTrue(Double.isNaN(r.pMalignant()) && "nan".equals(g[10]), "no malignancy model: none in the SR");
			// SCOORD3D GraphicData is FL (32-bit float)
			double[] xyz = { Double.parseDouble(g[11]), Double.parseDouble(g[12]), Double.parseDouble(g[13]) };
			assertArrayEquals(new double[] { r.x(), r.y(), r.z() }, xyz, 1e-4, "centre of nodule " + (k + 1));
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
