package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;

/**
 * A TID 1500 report of the synthetic nodules of {@link SegmentationWriterTest}: dciodvfy finds no
 * error, dsrdump reads it without complaint, and pydicom gives back every measurement.
 */
class MeasurementReportWriterTest {

	@TempDir
	Path dir;

	@Test
	void dciodvfyAndDsrdumpAcceptItAndPydicomReadsTheMeasurements() throws Exception {
		SegmentationWriterTest.Fixture f = SegmentationWriterTest.fixture();
		Path segFile = dir.resolve("nodules.seg.dcm"), srFile = dir.resolve("nodules.sr.dcm");
		SegmentationWriter.Written seg = SegmentationWriterTest.writeSeg(f, segFile);
		String srUid = MeasurementReportWriter.write(srFile, f.source().images(), seg, f.findings(), SegmentationWriterTest.ALGORITHM);
		assertTrue(srUid.startsWith("2.25."));

		DicomTools.requireDciodvfy();
		DicomTools.Run v = DicomTools.dciodvfy(srFile);
		System.out.println("dciodvfy on the SR:\n" + v.out());
		assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), v.out());

		// dcentvfy (dicom3tools): the patient and study of the SEG, the SR and the source images agree.
		List<String> entity = new java.util.ArrayList<>(List.of("dcentvfy", segFile.toString(), srFile.toString()));
		try (var files = java.nio.file.Files.list(SharedData.require("real/LIDC-IDRI-0001/dicom"))) {
			files.sorted().forEach(p -> entity.add(p.toString()));
		}
		DicomTools.Run ent = DicomTools.run(entity.toArray(String[]::new));
		System.out.println("dcentvfy:\n" + ent.out());
		assertEquals(List.of(), DicomTools.lines(ent.out(), "Error"), ent.out());

		DicomTools.requireDsrdump();
		DicomTools.Run d = DicomTools.run("dsrdump", srFile.toString());
		System.out.println("dsrdump:\n" + d.out());
		assertEquals(0, d.exit(), d.out());
		// dcmtk logs errors and warnings as lines starting "E: " and "W: ".
		assertEquals(List.of(), DicomTools.lines(d.out(), "E: "), d.out());
		assertEquals(List.of(), DicomTools.lines(d.out(), "W: "), d.out());
		assertTrue(d.out().contains("Imaging Measurement Report"), d.out());

		DicomTools.Run r = DicomTools.python("read_sr.py", srFile.toString());
		assertEquals(List.of("126000", "1500"), List.of(r.rows("root").get(0)).subList(1, 3));
		List<String[]> groups = r.rows("group");
		assertEquals(f.findings().size(), groups.size());
		String forUid = f.source().images().frameOfReferenceUid();
		for (int i = 0; i < groups.size(); i++) {
			String[] g = groups.get(i);
			NoduleFinding n = f.findings().get(i);
			assertEquals("Nodule " + n.rank(), g[1]);
			assertEquals(seg.trackingUids().get(i), g[2]);
			assertEquals(SegmentationWriter.SOP_CLASS_UID, g[3]);
			assertEquals(seg.sopInstanceUid(), g[4]);
			assertEquals(Integer.toString(i + 1), g[5]);
			assertEquals(f.source().images().seriesInstanceUid(), g[6]);
			// Hand-made truths: the balls' diameters, their voxel counts × voxel volume, the probabilities given.
			assertEquals(2 * SegmentationWriterTest.BALLS[i][3], Double.parseDouble(g[7]), 1e-9);
			// The voxel count × the voxel volume, exactly (FloatingPointValue when DS cannot hold it).
			assertEquals(n.volumeMm3(), Double.parseDouble(g[8]));
			double[] s = f.ct().geometry().spacing();
			long count = java.util.Arrays.stream(f.labels()).filter(l -> l == n.label()).count();
			assertEquals(count * s[0] * s[1] * s[2], Double.parseDouble(g[8]), 1e-9 * n.volumeMm3());
			assertEquals(1 - 0.1 * (i + 1), Double.parseDouble(g[9]), 1e-12);
			if (i == 1) assertEquals("nan", g[10]);
			else assertEquals(0.2 * (i + 1), Double.parseDouble(g[10]), 1e-12);
			// The centre as world coordinates of the ball's voxel centre: origin + index × spacing (identity direction).
			double[] o = f.ct().geometry().origin(), sp = f.ct().geometry().spacing();
			double[] b = SegmentationWriterTest.BALLS[i];
			assertEquals(o[0] + b[2] * sp[0], Double.parseDouble(g[11]), 1e-3);
			assertEquals(o[1] + b[1] * sp[1], Double.parseDouble(g[12]), 1e-3);
			assertEquals(f.source().positions().get((int) b[0])[2], Double.parseDouble(g[13]), 1e-3);
			assertEquals(forUid, g[14]);
		}
		Set<String> evidence = new HashSet<>();
		for (String[] e : r.rows("evidence")) evidence.add(e[1] + "/" + e[2]);
		assertTrue(evidence.contains(seg.seriesInstanceUid() + "/" + seg.sopInstanceUid()), "SEG in the evidence");
		for (SourceImages.Image img : f.source().images().images())
			assertTrue(evidence.contains(f.source().images().seriesInstanceUid() + "/" + img.sopInstanceUid()), img.sopInstanceUid());
		assertEquals(f.source().images().images().size() + 1, evidence.size());
	}

	@Test
	void withNoNoduleOnlyAnEmptyReportIsWrittenAndItStillValidates() throws Exception {
		SourceImages src = SegmentationSmallTest.source();
		NoduleDicom.Written w = NoduleDicom.write(dir, "scan", src, SegmentationSmallTest.GEOMETRY, SegmentationSmallTest.SHAPE,
			new int[60], List.of(), SegmentationWriterTest.ALGORITHM);
		assertEquals(null, w.segFile());
		assertTrue(!java.nio.file.Files.exists(dir.resolve("scan" + NoduleDicom.SEG_SUFFIX)));
		assertEquals(dir.resolve("scan_nodules.sr.dcm"), w.srFile());
		DicomTools.requirePydicom();
		DicomTools.Run r = DicomTools.python("read_sr.py", w.srFile().toString());
		assertEquals(List.of(), r.rows("group"));
		assertEquals(1, r.rows("evidence").size()); // the one multi-frame source instance
		DicomTools.requireDciodvfy();
		DicomTools.Run v = DicomTools.dciodvfy(w.srFile());
		assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), v.out());
		DicomTools.requireDsrdump();
		DicomTools.Run d = DicomTools.run("dsrdump", w.srFile().toString());
		assertEquals(0, d.exit(), d.out());
		assertEquals(List.of(), DicomTools.lines(d.out(), "E: "), d.out());
		assertEquals(List.of(), DicomTools.lines(d.out(), "W: "), d.out());
	}

	@Test
	void bothFilesThroughTheOneCallApiReferToEachOther() throws Exception {
		NoduleDicom.Written w = NoduleDicom.write(dir, "small", SegmentationSmallTest.source(), SegmentationSmallTest.GEOMETRY,
			SegmentationSmallTest.SHAPE, SegmentationSmallTest.labels(), SegmentationSmallTest.FINDINGS, SegmentationWriterTest.ALGORITHM);
		assertEquals(dir.resolve("small_nodules.seg.dcm"), w.segFile());
		DicomTools.requirePydicom();
		DicomTools.Run seg = DicomTools.python("read_seg.py", w.segFile().toString());
		DicomTools.Run sr = DicomTools.python("read_sr.py", w.srFile().toString());
		List<String[]> groups = sr.rows("group"), segments = seg.rows("segment");
		assertEquals(2, groups.size());
		String segUid = DicomTools.run(DicomTools.PYTHON, "-c", "import sys, pydicom; print(pydicom.dcmread(sys.argv[1]).SOPInstanceUID)",
			w.segFile().toString()).out().strip();
		for (int i = 0; i < 2; i++) {
			assertEquals(segUid, groups.get(i)[4]);
			assertEquals(segments.get(i)[1], groups.get(i)[5], "segment number");
			assertEquals(segments.get(i)[7], groups.get(i)[2], "tracking UID of segment and group");
		}
		assertEquals("0.5", groups.get(0)[10]);
		assertEquals("nan", groups.get(1)[10]);
		DicomTools.requireDciodvfy();
		DicomTools.Run v = DicomTools.dciodvfy(w.srFile());
		assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), v.out());
	}
}
