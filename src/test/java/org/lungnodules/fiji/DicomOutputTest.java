package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import net.imglib2.Cursor;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Nifti;
import org.lungnodules.io.dicom.DicomTools;
import org.lungnodules.phantom.ChestPhantom;

/**
 * Issue #23 §1 through the front door: {@code ./luna analyze ... dicom=true} on a cohort folder with a DICOM
 * series (written by pydicom with rows and columns reversed, so the SEG must follow the stored grid) and a
 * NIfTI file. The series gets a SEG and an SR that dciodvfy accepts; each segment, read back with pydicom and
 * placed by its frames' own positions, has the candidates file's centre and voxel count; the NIfTI and a
 * series without a Frame of Reference UID get none, and the summary says why. Without {@code dicom=true} no DICOM is written.
 */
class DicomOutputTest {

	@TempDir
	static Path temp;
	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();

	static Path cohort, out;
	static String seriesUid, noFrameUid;
	static LunaCliTest.Outcome run;

	@BeforeAll
	static void analyse() throws Exception {
		DicomTools.requireDciodvfy();
		DicomTools.requirePydicom();
		ChestPhantom phantom = ChestPhantom.generate(31, 0, ChestPhantom.Options.defaults().withSize(48, 128, 128).withNodules(2, 3)
			.withDiameterRange(10, 16).withSolidOnly(true));
		Path mhd = temp.resolve("phantom.mhd");
		MetaImage.writeVolume(mhd, phantom.volume(), false);
		cohort = Files.createDirectories(temp.resolve("cohort"));
		seriesUid = PydicomSeries.write(ExternalTools.python("numpy", "pydicom"), mhd, cohort.resolve("series"), true);
		Nifti.write(cohort.resolve("other.nii.gz"), phantom.volume());
		// The same series without a Frame of Reference UID (as some anonymisers leave it): a SEG could not be placed.
		Path script = temp.resolve("drop_frame.py");
		Files.writeString(script, String.join("\n", "import sys, os, pydicom", "from pydicom.uid import generate_uid",
			"src, dst = sys.argv[1], sys.argv[2]", "os.makedirs(dst)", "series = generate_uid()", "for f in sorted(os.listdir(src)):",
			"    ds = pydicom.dcmread(os.path.join(src, f))", "    del ds.FrameOfReferenceUID", "    ds.SeriesInstanceUID = series",
			"    ds.save_as(os.path.join(dst, f))", "print(series)", ""));
		noFrameUid = ExternalTools.run(5, ExternalTools.python("numpy", "pydicom"), script.toString(), cohort.resolve("series").toString(),
			cohort.resolve("noframe").toString()).trim();
		out = temp.resolve("out");
		run = LunaCliTest.luna("analyze", "input=" + cohort, "models=demo", "output=" + out, "device=cpu", "fast=true", "dicom=true");
		assertEquals(0, run.code(), run.out() + run.err());
	}

	@Test
	void theSeriesGetsASegmentationAndAReportThatDciodvfyAccepts() throws Exception {
		Path seg = out.resolve(seriesUid + "_nodules.seg.dcm"), sr = out.resolve(seriesUid + "_nodules.sr.dcm");
		for (Path f : List.of(seg, sr)) {
			assertTrue(Files.isRegularFile(f), f + " written; the run said: " + run.out() + run.err());
			DicomTools.Run v = DicomTools.dciodvfy(f);
			assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), f.getFileName() + ":\n" + v.out());
		}
		List<CandidatesCsv.Row> nodules = new ArrayList<>();
		for (CandidatesCsv.Row r : CandidatesCsv.read(out.resolve(seriesUid + "_candidates.csv")))
			if (r.probability() >= 0.5) nodules.add(r);
		assertFalse(nodules.isEmpty(), "the demo models find the phantom's nodules");

		// Each segment k, as pydicom reads it and placed by its frames' positions, holds the voxels of nodule k in the NIfTI label
		// map (whose grid and affine ViewerFilesTest checks with nibabel): same count, same world centroid.
		Map<Integer, double[]> sums = new TreeMap<>();
		for (String[] v : DicomTools.python("seg_voxels.py", seg.toString()).rows("voxel")) {
			double[] s = sums.computeIfAbsent(Integer.parseInt(v[1]), k -> new double[4]);
			for (int k = 0; k < 3; k++) s[k] += Double.parseDouble(v[6 + k]);
			s[3]++;
		}
		assertEquals(nodules.size(), sums.size(), "one segment per nodule");
		CtVolume labels = CtReader.read(out.resolve(seriesUid + "_nodules.nii.gz")).volume();
		Map<Integer, double[]> expected = new TreeMap<>();
		Cursor<? extends RealType<?>> c = Views.flatIterable(labels.image()).localizingCursor();
		while (c.hasNext()) {
			int k = (int) c.next().getRealDouble();
			if (k == 0) continue;
			double[] w = labels.geometry().voxelToWorld(c.getLongPosition(2), c.getLongPosition(1), c.getLongPosition(0));
			double[] s = expected.computeIfAbsent(k, x -> new double[4]);
			for (int i = 0; i < 3; i++) s[i] += w[i];
			s[3]++;
		}
		assertEquals(expected.keySet(), sums.keySet());
		for (Map.Entry<Integer, double[]> e : sums.entrySet()) {
			double[] s = e.getValue(), t = expected.get(e.getKey());
			assertEquals(nodules.get(e.getKey() - 1).voxels(), (long) s[3], "segment " + e.getKey() + " is nodule " + e.getKey());
			assertEquals(t[3], s[3], "segment " + e.getKey() + " voxels");
			for (int i = 0; i < 3; i++) assertEquals(t[i] / t[3], s[i] / s[3], 1e-3, "segment " + e.getKey() + " centroid, axis " + i);
		}
		assertEquals(nodules.size(), DicomTools.python("read_sr.py", sr.toString()).rows("group").size(), "one SR measurement group per nodule");
	}

	@Test
	void theNiftiGetsNoDicomAndTheLogSaysWhy() throws Exception {
		assertTrue(Files.isRegularFile(out.resolve("other_candidates.csv")));
		assertFalse(Files.exists(out.resolve("other_nodules.seg.dcm")));
		assertFalse(Files.exists(out.resolve("other_nodules.sr.dcm")));
		String said = run.out() + run.err();
		assertTrue(said.matches("(?s).*\\bother: [^\n]*\n  " + java.util.regex.Pattern.quote(AnalysisResult.NOT_DICOM_WARNING) + ".*"), said);
	}

	@Test
	void aSeriesWithoutFrameOfReferenceIsAnalysedAndTheLogSaysWhyItHasNoDicom() throws Exception {
		assertTrue(Files.isRegularFile(out.resolve(noFrameUid + "_candidates.csv")), "analysed");
		assertFalse(Files.exists(out.resolve(noFrameUid + "_nodules.seg.dcm")));
		assertFalse(Files.exists(out.resolve(noFrameUid + "_nodules.sr.dcm")));
		String said = run.out() + run.err();
		assertTrue(said.matches("(?s).*" + java.util.regex.Pattern.quote(noFrameUid) +
			": [^\n]*\n  dicom=true: no DICOM Segmentation or Structured Report was written: [^\n]*Frame of Reference.*"), said);
	}

	@Test
	void theCohortSummarySaysWhichScansHaveNoDicomOutputs() throws Exception {
		Map<String, String> status = new TreeMap<>();
		for (Map<String, String> row : AnalysisCommandsTest.csv(out.resolve("summary.csv"))) status.put(row.get("series"), row.get("status"));
		assertEquals(Map.of(seriesUid, "ok", noFrameUid, "ok (no DICOM SEG/SR)", "other", "ok (no DICOM SEG/SR)"), status);
	}

	@Test
	void withoutTheOptionNoDicomIsWrittenAndARerunWithItWritesThem() throws Exception {
		Path plain = temp.resolve("plain");
		LunaCliTest.Outcome o = LunaCliTest.luna("analyze", "input=" + cohort.resolve("series"), "models=demo", "output=" + plain, "device=cpu",
			"fast=true");
		assertEquals(0, o.code(), o.out() + o.err());
		assertTrue(Files.isRegularFile(plain.resolve(seriesUid + "_candidates.csv")));
		try (Stream<Path> files = Files.list(plain)) {
			assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".dcm")).toList());
		}
		// A cohort run resumes: a scan done without the DICOM outputs is done again once they are asked for, then skipped.
		Path cohortOut = temp.resolve("resumed");
		Path only = Files.createDirectories(temp.resolve("one-series").resolve("series"));
		try (Stream<Path> files = Files.list(cohort.resolve("series"))) {
			for (Path f : files.toList()) Files.copy(f, only.resolve(f.getFileName()));
		}
		assertEquals("ok", cohortStatus(only.getParent(), cohortOut, "false"));
		assertFalse(Files.exists(cohortOut.resolve(seriesUid + "_nodules.seg.dcm")));
		assertEquals("ok", cohortStatus(only.getParent(), cohortOut, "true"), "done again, now with the DICOM outputs");
		assertTrue(Files.isRegularFile(cohortOut.resolve(seriesUid + "_nodules.seg.dcm")));
		assertEquals("skipped (done before)", cohortStatus(only.getParent(), cohortOut, "true"));
	}

	/** Runs a cohort analysis and returns the status of its last summary.csv row. */
	static String cohortStatus(Path input, Path out, String dicom) throws Exception {
		LunaCliTest.Outcome r = LunaCliTest.luna("analyze", "input=" + input, "models=demo", "output=" + out, "device=cpu", "fast=true",
			"dicom=" + dicom);
		assertEquals(0, r.code(), r.out() + r.err());
		List<Map<String, String>> rows = AnalysisCommandsTest.csv(out.resolve("summary.csv"));
		return rows.get(rows.size() - 1).get("status");
	}
}
