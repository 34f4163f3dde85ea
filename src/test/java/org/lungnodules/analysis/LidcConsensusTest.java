package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.analysis.LidcConsensus.Mask;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.LidcReadings.LidcException;
import org.lungnodules.io.LidcXml;
import org.lungnodules.io.Luna16Tables;

public class LidcConsensusTest {

	static final String SERIES = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192";

	@TempDir
	Path dir;

	/** The CT's geometry and shape as summary.json gives them (what a correct DICOM reader yields). */
	public static Object[] summaryGeometry() throws IOException {
		String json = Files.readString(SharedData.require("real/LIDC-IDRI-0001/summary.json"));
		double[] shape = numbers(json, "shape_irc"), spacing = numbers(json, "spacing_zyx"), offset = numbers(json, "offset_xyz");
		Geometry g = Geometry.of(offset, new double[] { spacing[2], spacing[1], spacing[0] });
		return new Object[] { g, new int[] { (int) shape[0], (int) shape[1], (int) shape[2] } };
	}

	private static double[] numbers(String json, String key) {
		Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
		assertTrue(m.find(), key);
		return Arrays.stream(m.group(1).split(",")).mapToDouble(s -> Double.parseDouble(s.trim())).toArray();
	}

	@Test
	void realReadingsGiveTheLuna16Nodule() throws IOException {
		Object[] gs = summaryGeometry();
		Geometry g = (Geometry) gs[0];
		int[] shape = (int[]) gs[1];
		LidcReadings r = LidcReadings.read(SharedData.require("real/LIDC-IDRI-0001/reader-annotations.xml"));
		LidcConsensus.Result result = LidcConsensus.of(r, g, shape, LidcConsensus.Settings.defaults());

		Luna16Tables.Annotation luna = Luna16Tables.readAnnotations(SharedData.require("luna/annotations.csv")).stream()
			.filter(a -> a.seriesUid().equals(SERIES)).findFirst().orElseThrow();
		Luna16Tables.MalignancyAnnotation mal = Luna16Tables.readMalignancy(SharedData.require("luna/annotations_with_malignancy.csv"))
			.stream().filter(a -> a.seriesUid().equals(SERIES)).findFirst().orElseThrow();

		assertEquals(1, result.clusters().size());
		Cluster c = result.clusters().get(0);
		assertEquals(4, c.readers());
		assertEquals(mal.ratings().length, c.readers());
		// LUNA16's centre is the mean of the readers' centroids, which is what centre() computes; the
		// residual comes from how the masks were rasterised (edge pixels in or out), a fraction of a
		// pixel (0.7 mm) in-plane and of a slice (2.5 mm) along z. 1 mm in-plane, 1.25 mm (half a slice) in z.
		System.out.printf("centre %s consensus %s luna %.3f %.3f %.3f%n", Arrays.toString(c.centre()), Arrays.toString(c.consensusCentre()),
			luna.x(), luna.y(), luna.z());
		assertEquals(luna.x(), c.centre()[0], 1.0);
		assertEquals(luna.y(), c.centre()[1], 1.0);
		assertEquals(luna.z(), c.centre()[2], 1.25);
		assertEquals(mal.malignant(), c.malignant());
		assertTrue(c.malignant());
		int[] ratings = c.malignancyRatings().clone(), expected = mal.ratings().clone();
		Arrays.sort(ratings);
		Arrays.sort(expected);
		assertArrayEquals(expected, ratings);
		assertEquals(5.0, c.medianRatings().get("malignancy"));
		System.out.printf("diameters %s mean %.3f luna %.3f; consensus %.1f mm3 %.2f mm; readers %s%n", Arrays.toString(c.readerDiametersMm()),
			c.meanReaderDiameterMm(), luna.diameterMm(), c.consensusVolumeMm3(), c.consensusDiameterMm(), Arrays.toString(c.readerVolumesMm3()));
		// The longest axial chord spans the readers' box: the book's bbox is 27.4 x 32.3 mm in-plane.
		double boxLongest = Math.max(mal.bboxHigh()[0] - mal.bboxLow()[0], mal.bboxHigh()[1] - mal.bboxLow()[1]);
		assertEquals(boxLongest, c.meanReaderDiameterMm(), 1.5);
		// LUNA16's diameter_mm (23.35) is not a longest chord (which is ~32 mm here) but close to the
		// diameter of the sphere of the readers' mean volume; within 1.5 mm (our masks count edge pixels).
		double meanVolume = Arrays.stream(c.readerVolumesMm3()).average().orElseThrow();
		assertEquals(luna.diameterMm(), Math.cbrt(6 * meanVolume / Math.PI), 1.5);
		// The consensus lies inside the book's bounding box of the readers (bboxLow/High), give or take a voxel.
		for (int s : c.consensus().slices()) {
			double z = g.voxelToWorld(s, 0, 0)[2];
			assertTrue(z >= mal.bboxLow()[2] - 2.5 && z <= mal.bboxHigh()[2] + 2.5, "slice " + s + " at z " + z);
		}
	}

	/**
	 * Three readers' squares, spacing 1 × 1 × 2 mm, worked out by hand: x,y in 10..14 (A), 12..16 (B)
	 * and 11..15 (C). Two of three readers cover C's square except its corners (x 11, y 15) and
	 * (x 15, y 11), which only C covers: 23 pixels. A's square has a 2 × 2 hole (inclusion FALSE,
	 * 12..13), which B and C still cover.
	 */
	@Test
	void consensusOfHandMadeSquares() throws IOException {
		Geometry g = Geometry.of(new double[] { 0, 0, -10 }, new double[] { 1, 1, 2 });
		int[] shape = { 5, 40, 40 };
		Path f = new LidcXml()
			.reader("A").nodule("a", 5).square(-6, true, 10, 10, 14, 14).square(-6, false, 12, 12, 13, 13).square(-4, true, 10, 10, 14, 14)
			.reader("B").nodule("b", 4).square(-6, true, 12, 12, 16, 16)
			.reader("C").nodule("c", 2).square(-6, true, 11, 11, 15, 15)
			.reader("D") // no nodules
			.write(dir.resolve("squares.xml"));
		LidcReadings r = LidcReadings.read(f);
		LidcConsensus.Result res = LidcConsensus.of(r, g, shape, LidcConsensus.Settings.defaults());
		assertEquals(1, res.clusters().size());
		Cluster c = res.clusters().get(0);
		assertEquals(3, c.readers());
		Mask a = c.readerMasks().get(0);
		assertEquals(25 - 4 + 25, a.count()); // two slices, one with the hole
		assertArrayEquals(new int[] { 2, 3 }, a.slices()); // z -6 and -4 are slices 2 and 3
		assertTrue(a.contains(2, 10, 10));
		assertFalse(a.contains(2, 12, 13));
		assertTrue(a.contains(3, 12, 13));
		Mask cons = c.consensus();
		assertEquals(23, cons.count()); // slice 3 has only A: 1 of 3 readers
		for (int y = 0; y < 40; y++)
			for (int x = 0; x < 40; x++) {
				boolean corner = x == 11 && y == 15 || x == 15 && y == 11;
				assertEquals(x >= 11 && x <= 15 && y >= 11 && y <= 15 && !corner, cons.contains(2, y, x), "x " + x + " y " + y);
			}
		assertEquals(23 * 2.0, c.consensusVolumeMm3(), 1e-9);
		assertEquals(4 * Math.sqrt(2), c.consensusDiameterMm(), 1e-9); // corner to corner of the 5 × 5 square
		assertArrayEquals(new double[] { 13, 13, -6 }, c.consensusCentre(), 1e-9);
		assertEquals(4.0, c.medianRatings().get("malignancy")); // 5, 4, 2
		assertTrue(c.malignant()); // two ratings of 4 or more
		assertEquals(4.0, c.medianRatings().get("subtlety"));
	}

	/** A diamond through 4 vertices: interior by the even-odd rule plus the drawn edges, |dx| + |dy| ≤ 4: 41 pixels. */
	@Test
	void polygonFillCountsEdgePixels() throws IOException {
		Geometry g = Geometry.of(new double[] { 0, 0, 0 }, new double[] { 0.5, 0.5, 1 });
		Path f = new LidcXml().reader("A").nodule("d", 3).roi(1, true, 20, 10, 24, 14, 20, 18, 16, 14).write(dir.resolve("d.xml"));
		Mask m = new LidcConsensus(g, new int[] { 3, 30, 30 }, LidcConsensus.Settings.defaults()).readerMask(LidcReadings.read(f).nodules().get(0));
		assertEquals(41, m.count());
		for (int y = 0; y < 30; y++)
			for (int x = 0; x < 30; x++) assertEquals(Math.abs(x - 20) + Math.abs(y - 14) <= 4, m.contains(1, y, x));
		assertEquals(8 * 0.5, m.longestAxialDiameterMm(g), 1e-9);
	}

	/**
	 * A hostile but valid file: two readers outline the whole 500 × 500 slice, each contour traced 25
	 * times over (50,000 points). Filling, clustering and the diameter stay linear-ish, so this
	 * finishes like any other file, with the exact mask.
	 */
	@Test
	void hugeRepeatedContoursAreHandled() throws IOException {
		int[] one = new int[8 * 499];
		int k = 0;
		for (int x = 0; x < 499; x++) { one[k++] = x; one[k++] = 0; }
		for (int y = 0; y < 499; y++) { one[k++] = 499; one[k++] = y; }
		for (int x = 499; x > 0; x--) { one[k++] = x; one[k++] = 499; }
		for (int y = 499; y > 0; y--) { one[k++] = 0; one[k++] = y; }
		int[] many = new int[one.length * 25];
		for (int r = 0; r < 25; r++) System.arraycopy(one, 0, many, r * one.length, one.length);
		Path f = new LidcXml().reader("A").nodule("a", 3).roi(0, true, many).reader("B").nodule("b", 3).roi(0, true, many)
			.write(dir.resolve("huge.xml"));
		Geometry g = Geometry.of(new double[] { 0, 0, 0 }, new double[] { 1, 1, 1 });
		LidcConsensus.Result r = LidcConsensus.of(LidcReadings.read(f), g, new int[] { 1, 512, 512 }, LidcConsensus.Settings.defaults());
		assertEquals(1, r.clusters().size());
		assertEquals(500 * 500, r.clusters().get(0).consensus().count());
		assertEquals(499 * Math.sqrt(2), r.clusters().get(0).consensusDiameterMm(), 1e-9);
	}

	/**
	 * A CT stored mirrored in-plane (direction diag(-1, -1, 1), as some NIfTI conversions give):
	 * LIDC's pixel x = 12 (a DICOM column, along world +x) is CT column 39 - 12 = 27 there, and the
	 * nodule's world centre is the same as on the CT stored as scanned: (12, 22, -6) mm.
	 */
	@Test
	void mirroredStorageKeepsTheAnatomy() throws IOException {
		Path f = new LidcXml().reader("A").nodule("a", 3).square(-6, true, 10, 20, 14, 24).reader("B").nodule("b", 3)
			.square(-6, true, 10, 20, 14, 24).write(dir.resolve("m.xml"));
		LidcReadings r = LidcReadings.read(f);
		int[] shape = { 5, 40, 40 };
		Geometry asScanned = Geometry.of(new double[] { 0, 0, -10 }, new double[] { 1, 1, 2 });
		Geometry mirrored = new Geometry(new double[] { 39, 39, -10 }, new double[] { 1, 1, 2 }, new double[] { -1, 0, 0, 0, -1, 0, 0, 0, 1 });
		Cluster a = LidcConsensus.of(r, asScanned, shape, LidcConsensus.Settings.defaults()).clusters().get(0);
		Cluster b = LidcConsensus.of(r, mirrored, shape, LidcConsensus.Settings.defaults()).clusters().get(0);
		assertArrayEquals(new double[] { 12, 22, -6 }, a.centre(), 1e-9);
		assertArrayEquals(new double[] { 12, 22, -6 }, b.centre(), 1e-9);
		assertEquals(25, b.consensus().count());
		for (int y = 0; y < 40; y++)
			for (int x = 0; x < 40; x++) {
				boolean inside = x >= 10 && x <= 14 && y >= 20 && y <= 24;
				assertEquals(inside, a.consensus().contains(2, y, x));
				assertEquals(inside, b.consensus().contains(2, 39 - y, 39 - x));
			}
		double c = Math.sqrt(0.5);
		Geometry oblique = new Geometry(new double[] { 0, 0, -10 }, new double[] { 1, 1, 2 }, new double[] { c, -c, 0, c, c, 0, 0, 0, 1 });
		LidcException e = assertThrows(LidcException.class, () -> LidcConsensus.of(r, oblique, shape, LidcConsensus.Settings.defaults()));
		assertTrue(e.getMessage().contains("axial"), e.getMessage());
	}

	/** Only the U-Net parts 6-connected to the consensus count as its nodule: a diagonal neighbour does not. */
	@Test
	void touchingKeepsTheConnectedPartsOnly() {
		int[] size = { 1, 5, 5 }, start = { 0, 0, 0 };
		boolean[] unet = new boolean[25];
		for (int i : new int[] { 0, 1, 6, 18, 24 }) unet[i] = true; // (0,0) (0,1) (1,1) connected; (3,3) diagonal to nothing kept; (4,4)
		boolean[] truth = new boolean[25];
		truth[1] = true;
		Mask consensus = Mask.of(start, size, truth);
		boolean[] got = LidcSegmentationEvaluation.touching(unet, size, start, consensus);
		boolean[] expected = new boolean[25];
		expected[0] = expected[1] = expected[6] = true;
		assertArrayEquals(expected, got);
	}

	/** Slices stored top-down (z direction flipped): contours still land on the slice at their z. */
	@Test
	void flippedSliceOrderAndOffSliceRois() throws IOException {
		Geometry flipped = new Geometry(new double[] { 0, 0, 10 }, new double[] { 1, 1, 2.5 }, new double[] { 1, 0, 0, 0, 1, 0, 0, 0, -1 });
		Path f = new LidcXml().reader("A").nodule("a", 3).square(5.2, true, 2, 2, 4, 4).write(dir.resolve("f.xml"));
		LidcReadings r = LidcReadings.read(f);
		Mask m = new LidcConsensus(flipped, new int[] { 6, 10, 10 }, LidcConsensus.Settings.defaults()).readerMask(r.nodules().get(0));
		assertArrayEquals(new int[] { 2 }, m.slices()); // z = 10 - 2 * 2.5 = 5, 0.2 mm away

		Path off = new LidcXml().reader("A").nodule("a", 3).square(-4.0, true, 2, 2, 4, 4).write(dir.resolve("off.xml"));
		LidcException e = assertThrows(LidcException.class,
			() -> LidcConsensus.of(LidcReadings.read(off), flipped, new int[] { 6, 10, 10 }, LidcConsensus.Settings.defaults()));
		assertTrue(e.getMessage().startsWith(off.toString()), e.getMessage());
		assertTrue(e.getMessage().contains("reader A, nodule 'a', roi 1") && e.getMessage().contains("-4.0"), e.getMessage());

		Path outside = new LidcXml().reader("A").nodule("a", 3).square(5, true, 2, 2, 14, 4).write(dir.resolve("out.xml"));
		e = assertThrows(LidcException.class,
			() -> LidcConsensus.of(LidcReadings.read(outside), flipped, new int[] { 6, 10, 10 }, LidcConsensus.Settings.defaults()));
		assertTrue(e.getMessage().contains("outside"), e.getMessage());
	}

	/**
	 * Reader A marked two nodules 7 pixels apart, reader B one between them, 1 pixel from A's first
	 * and 2 from A's second. At tolerance 2.5 mm all three link, which puts A twice in one cluster;
	 * shrinking by 0.9 reaches 1.82 mm, below 2, and splits off A's second nodule.
	 */
	@Test
	void aReaderTwiceInAClusterShrinksTheTolerance() throws IOException {
		Geometry g = Geometry.of(new double[] { 0, 0, 0 }, new double[] { 1, 1, 1 });
		Path f = new LidcXml().reader("A").nodule("a1", 3).square(0, true, 10, 10, 14, 14).nodule("a2", 3).square(0, true, 17, 10, 21, 14)
			.reader("B").nodule("b", 3).roi(0, true, 15, 10, 15, 14).write(dir.resolve("split.xml"));
		LidcConsensus.Result res = LidcConsensus.of(LidcReadings.read(f), g, new int[] { 1, 30, 30 },
			new LidcConsensus.Settings(2.5, 0.9, 0.1, 0.5));
		assertEquals(2, res.clusters().size());
		assertEquals(2, res.clusters().get(0).readers());
		assertEquals(List.of("a1", "b"), res.clusters().get(0).annotations().stream().map(LidcReadings.Nodule::noduleId).toList());
		assertTrue(res.tolerance() < 2 && res.tolerance() > 1.8, "tolerance " + res.tolerance());
		assertTrue(res.warnings().isEmpty());
		// With the default tolerance (1 mm here) B links only to a1 from the start.
		assertEquals(2, LidcConsensus.of(LidcReadings.read(f), g, new int[] { 1, 30, 30 }, LidcConsensus.Settings.defaults()).clusters().size());
	}
}
