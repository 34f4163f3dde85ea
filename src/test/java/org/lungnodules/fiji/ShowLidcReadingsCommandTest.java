package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ij.ImagePlus;
import ij.gui.PointRoi;
import ij.gui.PolygonRoi;
import ij.gui.Roi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.LidcXml;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.module.Module;

/** Show LIDC Readings, run headless through a real SciJava Context on an ImagePlus. */
class ShowLidcReadingsCommandTest {

	@TempDir
	Path dir;

	@Test
	void drawsEachContourOnItsSliceInItsReadersColour() throws Exception {
		// 40 × 40 × 5, slices at z = -10, -8, -6, -4, -2 mm.
		CtVolume ct = CtVolume.ofShorts(new short[40 * 40 * 5], 40, 40, 5, Geometry.of(new double[] { 0, 0, -10 }, new double[] { 1, 1, 2 }), "s");
		ImagePlus imp = ImagePlusAdapter.toImagePlus(ct);
		Path xml = new LidcXml()
			.reader("A").nodule("a", 5).square(-6, true, 10, 10, 14, 14).square(-6, false, 12, 12, 13, 13).square(-4, true, 10, 10, 14, 14)
			.reader("B").nodule("b", 4).square(-6, true, 12, 12, 16, 16).nonNodule("nn", -2, 30, 30)
			.reader("C").nodule("c", 2).square(-6, true, 11, 11, 15, 15)
			.write(dir.resolve("readings.xml"));
		try (Context context = new Context()) {
			CommandRunner runner = new CommandRunner(context);
			Module module = runner.run("show-lidc-readings", Map.of("readings", xml.toString()),
				cmd -> ((UsesCurrentImage) cmd).useImage(imp));
			ShowLidcReadingsCommand cmd = (ShowLidcReadingsCommand) ((CommandModule) module).getCommand();

			List<Roi> polygons = new ArrayList<>(), points = new ArrayList<>();
			for (Roi r : imp.getOverlay().toArray()) {
				if (r instanceof PointRoi) points.add(r);
				else if (r instanceof PolygonRoi) polygons.add(r);
			}
			assertEquals(5, polygons.size());
			// Slice -6 mm is stack position 3, -4 mm is 4.
			assertEquals(List.of(3, 3, 4, 3, 3), polygons.stream().map(Roi::getPosition).toList());
			assertEquals(List.of(Color.RED, Color.RED, Color.RED, Color.GREEN, Color.CYAN), polygons.stream().map(Roi::getStrokeColor).toList());
			assertEquals(4 * 4, polygons.get(0).getPolygon().npoints); // the 5 × 5 square's traced boundary
			assertEquals(1, points.size());
			assertEquals(5, points.get(0).getPosition());

			assertEquals(1, cmd.consensusRois().size());
			Roi consensus = cmd.consensusRois().get(0);
			assertEquals(3, consensus.getPosition());
			assertEquals(new java.awt.Rectangle(11, 11, 5, 5), consensus.getBounds());
			assertEquals(1, cmd.table().size());
			assertEquals(3, cmd.table().getValue("readers", 0));
			assertEquals(4.0, cmd.table().getValue("malignancy", 0)); // median of 5, 4, 2
			assertEquals(1, cmd.table().getValue("mal_bool", 0));
			assertTrue(((String) module.getOutput("report")).contains("5 contours drawn"), (String) module.getOutput("report"));
		}
	}

	/**
	 * The real readings of LIDC-IDRI-0001 on an empty image of its geometry (summary.json): one
	 * polygon per contour of more than one point, on the slice of its imageZposition, counted from
	 * the file's text (slice = (z - origin z) / 2.5).
	 */
	@Test
	void realReadingsOnTheirSlices() throws Exception {
		Path xml = org.lungnodules.SharedData.require("real/LIDC-IDRI-0001/reader-annotations.xml");
		String text = java.nio.file.Files.readString(xml);
		List<Integer> expected = new ArrayList<>();
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("<roi>(.*?)</roi>", java.util.regex.Pattern.DOTALL).matcher(text);
		while (m.find()) {
			String roi = m.group(1);
			if (roi.split("<edgeMap>", -1).length - 1 < 2) continue;
			java.util.regex.Matcher z = java.util.regex.Pattern.compile("<imageZposition>\\s*([-0-9.]+)").matcher(roi);
			assertTrue(z.find());
			expected.add((int) Math.round((Double.parseDouble(z.group(1)) + 340.0) / 2.5) + 1);
		}
		Object[] gs = org.lungnodules.analysis.LidcConsensusTest.summaryGeometry();
		int[] shape = (int[]) gs[1];
		CtVolume ct = CtVolume.ofShorts(new short[shape[0] * shape[1] * shape[2]], shape[2], shape[1], shape[0], (Geometry) gs[0], "lidc");
		ImagePlus imp = ImagePlusAdapter.toImagePlus(ct);
		try (Context context = new Context()) {
			Module module = new CommandRunner(context).run("show-lidc-readings", Map.of("readings", xml.toString()),
				cmd -> ((UsesCurrentImage) cmd).useImage(imp));
			List<Integer> got = new ArrayList<>();
			for (Roi r : imp.getOverlay().toArray()) if (r instanceof PolygonRoi && !(r instanceof PointRoi)) got.add(r.getPosition());
			expected.sort(null);
			got.sort(null);
			assertEquals(32, expected.size());
			assertEquals(expected, got);
			ShowLidcReadingsCommand cmd = (ShowLidcReadingsCommand) ((CommandModule) module).getCommand();
			assertEquals(1, cmd.consensusRois().size());
			assertEquals(4, cmd.table().getValue("readers", 0));
		}
	}

	@Test
	void aMarkOffEverySliceIsNamed() throws Exception {
		CtVolume ct = CtVolume.ofShorts(new short[40 * 40 * 5], 40, 40, 5, Geometry.of(new double[] { 0, 0, -10 }, new double[] { 1, 1, 2 }), "s");
		ImagePlus imp = ImagePlusAdapter.toImagePlus(ct);
		Path xml = new LidcXml().reader("A").nodule("a", 5).square(-6, true, 10, 10, 14, 14).nonNodule("far", 40, 3, 3)
			.write(dir.resolve("far.xml"));
		try (Context context = new Context()) {
			Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> new CommandRunner(context)
				.run("show-lidc-readings", Map.of("readings", xml.toString()), cmd -> ((UsesCurrentImage) cmd).useImage(imp)));
			String message = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
			assertTrue(message.contains("far.xml") && message.contains("mark 'far'") && message.contains("40"), message);
		}
	}

	@Test
	void withoutAnImageItSaysWhatToDo() throws IOException {
		Path xml = new LidcXml().reader("A").nodule("a", 5).square(-6, true, 10, 10, 14, 14).write(dir.resolve("r.xml"));
		LunaCliTest.Outcome o = LunaCliTest.luna("show-lidc-readings", "readings=" + xml);
		assertTrue(o.code() != 0 && o.err().contains("input="), o.err());
	}
}
