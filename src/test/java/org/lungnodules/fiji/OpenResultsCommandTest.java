package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.measure.ResultsTable;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.dicom.DicomTools;
import org.lungnodules.phantom.ChestPhantom;
import org.scijava.Context;
import org.scijava.module.Module;

/**
 * Open Results (issue #23 §3) through a real SciJava Context on ImageJ 1.54p images, shown by the display
 * path of the ImageJ front door ({@link ImageJDisplay}, as {@link LunaPlugIn} runs it): a synthetic CT is
 * analysed on its image; its candidates file opened on a fresh image of the same CT gives the same overlay
 * and the same Results rows; on an image of the CT stored with x and z reversed the circles are mirrored. The DICOM
 * SR of a run ({@code dicom=true} on a pydicom-written series) gives the same nodules and overlay as its candidates file.
 */
class OpenResultsCommandTest {

	@TempDir
	static Path temp;
	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();

	static ChestPhantom phantom;
	static Path out, csv;
	static List<String> analysedOverlay;
	static List<Map<String, Object>> analysedTable;

	@BeforeAll
	static void analyse() throws Exception {
		phantom = ChestPhantom.generate(31, 0, ChestPhantom.Options.defaults().withSize(48, 128, 128).withNodules(2, 3)
			.withDiameterRange(10, 16).withSolidOnly(true));
		out = temp.resolve("run");
		ImagePlus imp = ImagePlusAdapter.toImagePlus(phantom.volume());
		try (Context context = new Context()) {
			Module m = new CommandRunner(context).run("analyze", Map.of("models", "demo", "output", out.toString(), "device", "cpu", "fast", "true"),
				cmd -> ((UsesCurrentImage) cmd).useImage(imp));
			ImageJDisplay.show(m, true);
		}
		csv = out.resolve(phantom.seriesUid() + "_candidates.csv");
		assertTrue(Files.isRegularFile(csv));
		analysedOverlay = overlay(imp);
		analysedTable = rows(ResultsTable.getResultsTable());
		assertTrue(!analysedTable.isEmpty(), "the analysis found nodules (else nothing is compared)");
	}

	/** Each overlay element: kind, name, slice, bounds. */
	static List<String> overlay(ImagePlus imp) {
		List<String> l = new ArrayList<>();
		if (imp.getOverlay() == null) return l;
		for (Roi r : imp.getOverlay().toArray()) {
			java.awt.geom.Rectangle2D b = r.getFloatBounds();
			l.add(String.format(java.util.Locale.ROOT, "%s %s z=%d %.4f %.4f %.4f %.4f %s", r.getClass().getSimpleName(), r.getName(), r.getPosition(),
				b.getX(), b.getY(), b.getWidth(), b.getHeight(), r.getStrokeColor()));
		}
		return l;
	}

	static List<Map<String, Object>> rows(ResultsTable rt) {
		List<Map<String, Object>> rows = new ArrayList<>();
		for (int i = 0; i < rt.size(); i++) {
			Map<String, Object> row = new java.util.LinkedHashMap<>();
			for (String h : rt.getHeadings()) row.put(h, "seriesuid".equals(h) || "models".equals(h) ? rt.getStringValue(h, i) : rt.getValue(h, i));
			rows.add(row);
		}
		return rows;
	}

	static Module openResults(ImagePlus imp, Map<String, String> args) throws Exception {
		try (Context context = new Context()) {
			Module m = new CommandRunner(context).run("open-results", args, cmd -> ((UsesCurrentImage) cmd).useImage(imp));
			ImageJDisplay.show(m, true);
			return m;
		}
	}

	@Test
	void theRunComesBackAsItWasShown() throws Exception {
		ResultsTable.getResultsTable().reset();
		ImagePlus fresh = ImagePlusAdapter.toImagePlus(phantom.volume());
		Module m = openResults(fresh, Map.of("candidates", csv.toString()));
		assertEquals(analysedOverlay, overlay(fresh), "the same circles and labels as right after Analyze CT");
		List<Map<String, Object>> table = rows(ResultsTable.getResultsTable());
		assertEquals(analysedTable.size(), table.size());
		for (int i = 0; i < table.size(); i++)
			for (Map.Entry<String, Object> e : analysedTable.get(i).entrySet()) {
				// The candidates file does not say which models made it (the demo models' warning column is not restored).
				if (e.getKey().equals("models")) continue;
				Object v = table.get(i).get(e.getKey());
				if (e.getValue() instanceof Double d) assertEquals(d, (Double) v, 1e-6, "row " + i + " " + e.getKey());
				else assertEquals(e.getValue(), v, "row " + i + " " + e.getKey());
			}
		assertEquals(analysedTable.size(), m.getOutput("nodules"));
		// With no display (as here, unless a test JVM has one) no RoiManager window may be made, and none is needed.
		if (java.awt.GraphicsEnvironment.isHeadless()) assertEquals(null, ij.plugin.frame.RoiManager.getInstance(), "no RoiManager headless");
	}

	@Test
	void circlesFollowTheWorldOnAnImageStoredInAnotherOrder() throws Exception {
		CtVolume flipped = ViewerFilesTest.flipXZ(phantom.volume());
		ImagePlus imp = ImagePlusAdapter.toImagePlus(flipped);
		openResults(imp, Map.of("candidates", csv.toString()));
		List<Map<String, Object>> table = rows(ResultsTable.getResultsTable());
		assertEquals(analysedTable.size(), table.size());
		int w = phantom.volume().width(), d = phantom.volume().depth();
		for (int i = 0; i < table.size(); i++) {
			Map<String, Object> a = analysedTable.get(i), b = table.get(i);
			// hand-mapped: col' = w - 1 - col, index' = d - 1 - index, row unchanged
			assertEquals(w - 1 - (Double) a.get("col"), (Double) b.get("col"), 1e-6);
			assertEquals(d - 1 - (Double) a.get("index"), (Double) b.get("index"), 1e-6);
			assertEquals((Double) a.get("row"), (Double) b.get("row"), 1e-6);
			assertEquals((Double) a.get("coordX"), (Double) b.get("coordX"), 1e-9);
		}
		// each nodule's centre-slice circle is centred on its mirrored voxel
		int rank = 0;
		for (Map<String, Object> b : table) {
			rank++;
			int slice = (int) Math.round((Double) b.get("index")) + 1;
			boolean found = false;
			for (Roi r : imp.getOverlay().toArray())
				if (r instanceof ij.gui.OvalRoi && r.getPosition() == slice && r.getName().startsWith("#" + rank + " ")) {
					java.awt.geom.Rectangle2D bd = r.getFloatBounds();
					assertEquals((Double) b.get("col") + 0.5, bd.getCenterX(), 1e-6);
					assertEquals((Double) b.get("row") + 0.5, bd.getCenterY(), 1e-6);
					found = true;
				}
			assertTrue(found, "circle #" + rank + " on slice " + slice + ": " + overlay(imp));
		}
	}

	@Test
	void aFileOfOtherSeriesIsRefusedByName() throws Exception {
		Path merged = temp.resolve("merged.csv");
		List<String> lines = Files.readAllLines(csv);
		List<String> both = new ArrayList<>(lines);
		for (String l : lines.subList(1, lines.size())) both.add(l.replace(phantom.seriesUid(), "other-series"));
		Files.write(merged, both);
		// An image whose series the file does not name (neither in its Info nor in its title).
		ImagePlus imp = ImagePlusAdapter.toImagePlus(new org.lungnodules.ct.CtVolume(phantom.volume().image(), phantom.volume().geometry(), "a-third-series"));
		imp.setTitle("untitled");
		Exception e = assertThrows(Exception.class, () -> openResults(imp, Map.of("candidates", merged.toString())));
		assertTrue(String.valueOf(e.getMessage()).contains("series="), e.getMessage());
		// series= picks one
		openResults(imp, Map.of("candidates", merged.toString(), "series", phantom.seriesUid()));
		assertEquals(analysedTable.size(), ResultsTable.getResultsTable().size());
	}

	@Test
	void theStructuredReportOfARunGivesWhatItsCandidatesFileGives() throws Exception {
		DicomTools.requirePydicom();
		Path dir = Files.createDirectories(temp.resolve("sr")), mhd = dir.resolve("phantom.mhd"), series = dir.resolve("series");
		MetaImage.writeVolume(mhd, phantom.volume(), false);
		// Rows and columns reversed: the stored grid is not the phantom's, so placement by world coordinates is tested.
		String uid = PydicomSeries.write(ExternalTools.python("numpy", "pydicom"), mhd, series, true);
		Path runOut = dir.resolve("run");
		try (Context context = new Context()) {
			new CommandRunner(context).run("analyze", Map.of("input", series.toString(), "models", "demo", "output", runOut.toString(),
				"device", "cpu", "fast", "true", "dicom", "true"), null);
		}
		Path runCsv = runOut.resolve(uid + "_candidates.csv"), sr = runOut.resolve(uid + "_nodules.sr.dcm");
		assertTrue(Files.isRegularFile(sr), "analyze dicom=true wrote " + sr);
		long expected = CandidatesCsv.read(runCsv).stream().filter(r -> r.probability() >= 0.5).count();
		assertTrue(expected > 0, "the run found nodules (else nothing is compared)");

		CtVolume ct = CtReader.read(series).volume();
		ImagePlus byCsv = ImagePlusAdapter.toImagePlus(ct), bySr = ImagePlusAdapter.toImagePlus(ct);
		ResultsTable.getResultsTable().reset();
		openResults(byCsv, Map.of("candidates", runCsv.toString()));
		List<Map<String, Object>> csvTable = rows(ResultsTable.getResultsTable());
		ResultsTable.getResultsTable().reset();
		Module m = openResults(bySr, Map.of("candidates", sr.toString()));
		List<Map<String, Object>> srTable = rows(ResultsTable.getResultsTable());
		assertEquals(expected, csvTable.size());
		assertEquals(expected, srTable.size());
		assertEquals((int) expected, m.getOutput("nodules"));
		for (int i = 0; i < csvTable.size(); i++) {
			assertEquals(csvTable.get(i).keySet(), srTable.get(i).keySet());
			for (Map.Entry<String, Object> e : csvTable.get(i).entrySet()) {
				Object v = srTable.get(i).get(e.getKey());
				// The SR's centre is single precision (FL): world and voxel positions agree to a few 1e-5; the rest exactly.
				boolean centre = List.of("coordX", "coordY", "coordZ", "index", "row", "col").contains(e.getKey());
				if (e.getValue() instanceof Double d) assertEquals(d, (Double) v, centre ? 1e-4 : 1e-12, "row " + i + " " + e.getKey());
				else assertEquals(e.getValue(), v, "row " + i + " " + e.getKey());
			}
		}
		Roi[] a = byCsv.getOverlay().toArray(), b = bySr.getOverlay().toArray();
		assertEquals(a.length, b.length, overlay(byCsv) + " vs " + overlay(bySr));
		for (int i = 0; i < a.length; i++) {
			assertEquals(a[i].getClass(), b[i].getClass());
			assertEquals(a[i].getName(), b[i].getName());
			assertEquals(a[i].getPosition(), b[i].getPosition(), "slice of " + a[i].getName());
			assertEquals(a[i].getStrokeColor(), b[i].getStrokeColor());
			java.awt.geom.Rectangle2D ra = a[i].getFloatBounds(), rb = b[i].getFloatBounds();
			assertEquals(ra.getX(), rb.getX(), 1e-3);
			assertEquals(ra.getY(), rb.getY(), 1e-3);
			assertEquals(ra.getWidth(), rb.getWidth(), 1e-3);
			assertEquals(ra.getHeight(), rb.getHeight(), 1e-3);
		}

		// The SR names its series: another one asked for is refused, as is a CT slice given for the SR.
		Exception e = assertThrows(Exception.class, () -> openResults(ImagePlusAdapter.toImagePlus(ct),
			Map.of("candidates", sr.toString(), "series", "1.2.3")));
		assertTrue(String.valueOf(e.getMessage()).contains("series=1.2.3 has no rows in " + sr.getFileName()), e.getMessage());
		Path slice;
		try (var files = Files.list(series)) {
			slice = files.sorted().findFirst().orElseThrow();
		}
		e = assertThrows(Exception.class, () -> openResults(ImagePlusAdapter.toImagePlus(ct), Map.of("candidates", slice.toString())));
		assertTrue(String.valueOf(e.getMessage()).contains(slice + ": is a CT image"), e.getMessage());
	}
}
