package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;

/**
 * A Segmentation of synthetic nodules (balls on the real LIDC-IDRI-0001 grid), judged by dciodvfy
 * and read back by pydicom: frames at the right slices, pixels equal to the balls.
 */
class SegmentationWriterTest {

	@TempDir
	Path dir;

	static final Algorithm ALGORITHM = new Algorithm("Lung Nodules for Fiji", "1.2.3-test", List.of(
		new Algorithm.Model("segmentation", "a".repeat(64)), new Algorithm.Model("nodule classifier", "0123456789abcdef".repeat(4))));

	/** Balls on the CT's grid: {slice, row, col, radius mm, label}. */
	static final double[][] BALLS = { { 88, 340, 360, 11.5, 3 }, { 40, 200, 150, 4, 1 }, { 41, 260, 300, 3, 2 } };

	/** A CT, its pydicom-read source, the label image and the findings. */
	record Fixture(CtVolume ct, DicomTools.Source source, int[] labels, List<NoduleFinding> findings) {}

	static Fixture fixture() throws Exception {
		Path folder = SharedData.require("real/LIDC-IDRI-0001/dicom");
		DicomTools.requirePydicom();
		CtVolume ct = CtReader.read(folder).volume();
		DicomTools.Source source = DicomTools.sourceOf(folder);
		int d = ct.depth(), h = ct.height(), w = ct.width();
		assertEquals(d, source.images().images().size());
		Geometry g = ct.geometry();
		double[] sp = g.spacing();
		int[] labels = new int[d * h * w];
		List<NoduleFinding> findings = new java.util.ArrayList<>();
		int rank = 1;
		for (double[] b : BALLS) {
			int label = (int) b[4];
			long n = 0;
			for (int k = 0; k < d; k++)
				for (int r = 0; r < h; r++)
					for (int c = 0; c < w; c++) {
						double dz = (k - b[0]) * sp[2], dy = (r - b[1]) * sp[1], dx = (c - b[2]) * sp[0];
						if (dx * dx + dy * dy + dz * dz <= b[3] * b[3]) {
							labels[(k * h + r) * w + c] = label;
							n++;
						}
					}
			double[] xyz = g.voxelToWorld(b[0], b[1], b[2]);
			findings.add(new NoduleFinding(rank, label, xyz[0], xyz[1], xyz[2], 2 * b[3], n * sp[0] * sp[1] * sp[2],
				1 - 0.1 * rank, rank == 2 ? Double.NaN : 0.2 * rank));
			rank++;
		}
		return new Fixture(ct, source, labels, findings);
	}

	static SegmentationWriter.Written writeSeg(Fixture f, Path file) throws Exception {
		return SegmentationWriter.write(file, f.source().images(), f.ct().geometry(), f.ct().shapeIrc(), f.labels(), f.findings(), ALGORITHM);
	}

	@Test
	void dciodvfyFindsNoErrorAndPydicomReadsBackTheBalls() throws Exception {
		Fixture f = fixture();
		Path seg = dir.resolve("nodules.seg.dcm");
		SegmentationWriter.Written w = writeSeg(f, seg);

		DicomTools.requireDciodvfy();
		DicomTools.Run v = DicomTools.dciodvfy(seg);
		System.out.println("dciodvfy on the SEG:\n" + v.out());
		assertEquals(List.of(), DicomTools.lines(v.out(), "Error"), v.out());

		DicomTools.Run r = DicomTools.python("read_seg.py", seg.toString());
		assertEquals(f.source().images().frameOfReferenceUid(), r.rows("for").get(0)[1]);
		assertEquals(Integer.toString(BALLS.length), r.rows("segments").get(0)[1]);
		List<String[]> segments = r.rows("segment");
		for (int i = 0; i < BALLS.length; i++) {
			String[] s = segments.get(i);
			assertEquals(Integer.toString(i + 1), s[1]);
			assertEquals("Nodule " + (i + 1), s[2]);
			assertEquals("49755003", s[3]);
			assertEquals("27925004", s[4]);
			assertEquals("39607008", s[5]);
			assertEquals("AUTOMATIC", s[6]);
			assertEquals(w.trackingUids().get(i), s[7]);
			assertEquals("Lung Nodules for Fiji", s[8]);
			assertEquals("1.2.3-test", s[9]);
			assertTrue(s[10].contains("segmentation sha256=" + "a".repeat(64)), s[10]);
			assertTrue(s[10].contains("nodule classifier sha256=" + "0123456789abcdef".repeat(4)), s[10]);
		}
		// Colours: unscored (nodule 2) is yellow, CIELab 97, -22, 94 scaled to 0..65535 (PS3.3 C.10.7.1.1) by hand:
		// 97 × 655.35 = 63568.95; (-22 + 128) × 257 = 27242; (94 + 128) × 257 = 57054.
		assertEquals("63569 27242 57054", segments.get(1)[11]);
		// The more malignant (nodule 3, p 0.6) is redder (larger a*) than nodule 1 (p 0.2).
		int a1 = Integer.parseInt(segments.get(0)[11].split(" ")[1]), a3 = Integer.parseInt(segments.get(2)[11].split(" ")[1]);
		assertTrue(a3 > a1 && a1 > 27242, a1 + " " + a3);

		int h = f.ct().height(), w2 = f.ct().width(), plane = h * w2;
		MessageDigest sha = MessageDigest.getInstance("SHA-256");
		List<String[]> frames = r.rows("frame");
		int expectedFrames = 0;
		int frameIndex = 0;
		for (int i = 0; i < BALLS.length; i++) {
			int label = (int) BALLS[i][4];
			for (int k = 0; k < f.ct().depth(); k++) {
				byte[] mask = new byte[plane];
				int set = 0;
				for (int p = 0; p < plane; p++)
					if (f.labels()[k * plane + p] == label) {
						mask[p] = 1;
						set++;
					}
				if (set == 0) continue;
				expectedFrames++;
				String[] fr = frames.get(frameIndex++);
				assertEquals(Integer.toString(i + 1), fr[2], "segment of frame " + fr[1]);
				assertEquals(f.source().images().images().get(k).sopInstanceUid(), fr[3], "source of frame " + fr[1]);
				double[] ipp = f.source().positions().get(k);
				for (int a = 0; a < 3; a++)
					assertEquals(ipp[a], Double.parseDouble(fr[4 + a]), 1e-4, "ImagePositionPatient of frame " + fr[1]);
				assertEquals(Integer.toString(set), fr[7], "pixels set in frame " + fr[1]);
				assertEquals(HexFormat.of().formatHex(sha.digest(mask)), fr[8], "pixels of frame " + fr[1]);
			}
		}
		assertEquals(expectedFrames, frames.size());
		// The big ball spans 2 * 11.5 / 2.5 → 9 slices; the frames are only those.
		assertTrue(expectedFrames >= 9 + 3 + 3 && expectedFrames < 25, "frames " + expectedFrames);
		String[] ref = r.rows("refseries").get(0);
		assertEquals(f.source().images().seriesInstanceUid(), ref[1]);
		assertEquals(Integer.toString(f.ct().depth()), ref[2]);
	}
}
