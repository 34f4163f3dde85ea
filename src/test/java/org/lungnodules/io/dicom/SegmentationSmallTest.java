package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ct.Geometry;

/**
 * A Segmentation on a tiny rotated grid whose frames (4×5 = 20 pixels) do not end on a byte, of a
 * multi-frame (Enhanced CT) source: pydicom unpacks each frame to the labels, the frame numbers and
 * geometry are referenced, and dciodvfy finds no error.
 */
class SegmentationSmallTest {

	@TempDir
	Path dir;

	static final String ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1";
	// Image axes: columns along -y, rows along +z, slices along -x (a sagittal stack); spacing 0.5, 0.75, 2.
	static final Geometry GEOMETRY = new Geometry(new double[] { 10, 20, -30 }, new double[] { 0.5, 0.75, 2 },
		new double[] { 0, 0, -1, -1, 0, 0, 0, 1, 0 });
	static final int[] SHAPE = { 3, 4, 5 };

	static SourceImages source() {
		List<SourceImages.Image> images = new ArrayList<>();
		for (int k = 1; k <= 3; k++) images.add(new SourceImages.Image(ENHANCED_CT, "1.2.826.0.1.3680043.2.1125.99.7", k));
		return new SourceImages("1.2.826.0.1.3680043.2.1125.99.1", "1.2.826.0.1.3680043.2.1125.99.2", "1.2.826.0.1.3680043.2.1125.99.3",
			Map.of("PatientID", "P-7", "PatientName", "Müller^Jürgen", "StudyTime", "101500"), images);
	}

	static int[] labels() {
		int[] l = new int[3 * 4 * 5];
		l[0] = 7; // slice 0, row 0, col 0
		l[19] = 7; // slice 0, last pixel
		l[2 * 20 + 1 * 5 + 2] = 7; // slice 2, row 1, col 2
		l[20 + 3 * 5 + 4] = 4; // slice 1, row 3, col 4
		l[20 + 7] = 4;
		l[20 + 8] = 4;
		return l;
	}

	static final List<NoduleFinding> FINDINGS = List.of(new NoduleFinding(1, 7, 1, 2, 3, 4, 5, 0.9, 0.5),
		new NoduleFinding(2, 4, 1, 2, 3, 4, 5, 0.8, Double.NaN));

	@Test
	void framesReferencedByNumberAndPixelsUnpackedByPydicom() throws Exception {
		Path seg = dir.resolve("small.seg.dcm");
		SegmentationWriter.Written w = SegmentationWriter.write(seg, source(), GEOMETRY, SHAPE, labels(), FINDINGS, SegmentationWriterTest.ALGORITHM);
		assertEquals(List.of(1, 2), w.segmentNumbers());

		DicomTools.requirePydicom();
		DicomTools.Run r = DicomTools.python("read_seg.py", seg.toString());
		List<String[]> frames = r.rows("frame");
		// Segment 1 (label 7) on slices 0 and 2, then segment 2 (label 4) on slice 1.
		int[][] expected = { { 1, 0, 2 }, { 1, 2, 1 }, { 2, 1, 3 } }; // segment, slice, pixels set
		assertEquals(expected.length, frames.size());
		int[] lab = labels();
		MessageDigest sha = MessageDigest.getInstance("SHA-256");
		for (int i = 0; i < expected.length; i++) {
			String[] f = frames.get(i);
			int segment = expected[i][0], slice = expected[i][1];
			assertEquals(Integer.toString(segment), f[2]);
			assertEquals("1.2.826.0.1.3680043.2.1125.99.7", f[3]);
			assertEquals(Integer.toString(slice + 1), f[9], "ReferencedFrameNumber");
			// Hand-computed position: origin + slice × 2 mm along the slice axis (-x).
			assertEquals(10 - 2.0 * slice, Double.parseDouble(f[4]), 1e-9);
			assertEquals(20, Double.parseDouble(f[5]), 1e-9);
			assertEquals(-30, Double.parseDouble(f[6]), 1e-9);
			assertEquals(Integer.toString(expected[i][2]), f[7]);
			byte[] mask = new byte[20];
			int label = FINDINGS.get(segment - 1).label();
			for (int p = 0; p < 20; p++) mask[p] = (byte) (lab[slice * 20 + p] == label ? 1 : 0);
			assertEquals(HexFormat.of().formatHex(sha.digest(mask)), f[8], "pixels of frame " + i);
		}
		// Row direction = image x axis = (0, -1, 0); column direction = image y axis = (0, 0, 1).
		assertEquals(List.of("0.0", "-1.0", "0.0", "0.0", "0.0", "1.0"), List.of(r.rows("orientation").get(0)).subList(1, 7));
		// PixelSpacing is row spacing (between rows, y) then column spacing (x).
		assertEquals(List.of("0.75", "0.5", "2.0"), List.of(r.rows("spacing").get(0)).subList(1, 4));

		DicomTools.Run name = DicomTools.run(DicomTools.PYTHON, "-c",
			"import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); print(d.SpecificCharacterSet, str(d.PatientName), d.StudyTime)", seg.toString());
		assertEquals("ISO_IR 100 Müller^Jürgen 101500", name.out().strip());

		DicomTools.requireDciodvfy();
		DicomTools.Run v = DicomTools.dciodvfy(seg);
		assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), v.out());
		assertTrue(v.out().contains("Segmentation"), v.out());
	}

	@Test
	void refusesInconsistentInput() {
		SourceImages src = source();
		assertThrows(IllegalArgumentException.class, () -> SegmentationWriter.write(dir.resolve("a.dcm"), src, GEOMETRY,
			SHAPE, new int[59], FINDINGS, SegmentationWriterTest.ALGORITHM), "label image of the wrong size");
		assertThrows(IllegalArgumentException.class, () -> SegmentationWriter.write(dir.resolve("a.dcm"), src, GEOMETRY,
			new int[] { 2, 5, 6 }, new int[60], FINDINGS, SegmentationWriterTest.ALGORITHM), "slices ≠ source images");
		assertThrows(IllegalArgumentException.class, () -> SegmentationWriter.write(dir.resolve("a.dcm"), src, GEOMETRY,
			SHAPE, labels(), List.of(new NoduleFinding(1, 9, 0, 0, 0, 1, 1, 0.5, Double.NaN)), SegmentationWriterTest.ALGORITHM),
			"a nodule with no voxel");
		assertThrows(IllegalArgumentException.class, () -> SegmentationWriter.write(dir.resolve("a.dcm"), src, GEOMETRY,
			SHAPE, labels(), List.of(), SegmentationWriterTest.ALGORITHM), "no segment");
		assertTrue(!Files.exists(dir.resolve("a.dcm")));
	}

	@Test
	void namesBeyondLatin1AreWrittenInUtf8() throws Exception {
		SourceImages s = source();
		SourceImages jp = new SourceImages(s.studyInstanceUid(), s.seriesInstanceUid(), s.frameOfReferenceUid(),
			Map.of("PatientName", "山田^太郎", "PatientID", "P-8"), s.images());
		Path seg = dir.resolve("jp.seg.dcm");
		SegmentationWriter.write(seg, jp, GEOMETRY, SHAPE, labels(), FINDINGS, SegmentationWriterTest.ALGORITHM);
		DicomTools.requirePydicom();
		DicomTools.Run name = DicomTools.run(DicomTools.PYTHON, "-c",
			"import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); sys.stdout.buffer.write((d.SpecificCharacterSet + ' ' + str(d.PatientName)).encode('utf-8'))",
			seg.toString());
		assertEquals("ISO_IR 192 山田^太郎", name.out().strip());
	}
}
