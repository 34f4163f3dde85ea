package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.phantom.PhantomDataset;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our plugins.config entries and key checking, in real ImageJ 1.54p batch mode. */
class ImageJMacroIT {

	@TempDir
	static Path temp;
	static ImageJBatch imagej;

	@BeforeAll
	static void install() throws Exception {
		imagej = new ImageJBatch(temp);
	}

	/** Menu commands need ImageJ's menus, which need a display: a virtual one here. */
	static void requireDisplay() {
		if (ImageJBatch.hasVirtualDisplay()) return;
		String msg = "xvfb-run is not installed (apt-get install xvfb); menu-command macro tests need it";
		if ("true".equalsIgnoreCase(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail(msg);
		org.junit.jupiter.api.Assumptions.assumeTrue(false, msg);
	}

	@Test
	void menuCommandRunsFromMacro() throws Exception {
		Path macro = temp.resolve("about.ijm");
		Files.writeString(macro, "run(\"About Lung Nodules\");\nprint(\"macro finished\");\n");
		requireDisplay();
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);
		assertTrue(run.output().contains("Lung Nodules for Fiji"), run.output());
		assertTrue(run.output().contains("macro finished"), run.output());
	}

	@Test
	void misspeltKeyIsNamed() throws Exception {
		Path macro = temp.resolve("typo.ijm");
		Files.writeString(macro, "err = call(\"org.lungnodules.fiji.LunaPlugIn.tryRun\", \"about\", \"colour=red\");\nprint(\"ERROR=\" + err);\n");
		ImageJBatch.Run run = imagej.runHeadless(macro, null);
		assertTrue(run.output().contains("ERROR=") && run.output().contains("'colour'"), run.output());
	}

	static String models() {
		Path seg = SharedData.require("models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state");
		Path cls = SharedData.require("models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state");
		return "seg_model=[" + seg + "] cls_model=[" + cls + "]";
	}

	/** The shipped batch macro over generated CTs plus a broken file, headless: it carries on and reports. */
	@Test
	void batchMacroAnalyzesAFolderAndSurvivesABrokenScan() throws Exception {
		Path scans = temp.resolve("scans");
		PhantomDataset.Result data = PhantomDataset.write(scans, 11, 2,
			PhantomDataset.Options.defaults().withSize(40, 96, 96).withNodules(1, 2).withDiameterRange(8, 16));
		Files.writeString(scans.resolve("broken.mhd"), "NDims = 3\nDimSize = 64 64 40\nElementType = MET_SHORT\nElementDataFile = gone.raw\n");
		Path out = temp.resolve("batch-out");
		Path macro = Paths.get("macros", "batch_analyze.ijm").toAbsolutePath();
		ImageJBatch.Run run = imagej.runHeadlessWithIjPath(macro, "input=[" + scans + "] output=[" + out + "] " + models() + " threshold=0.5");
		List<String> summary = Files.readAllLines(out.resolve("summary.csv"));
		// The batch macro's columns first, then what the results were made with.
		assertTrue(summary.get(0).equals("series,candidates,nodules,max_p_malignant,seconds,status,device,models_sha256"), run.output());
		org.junit.jupiter.api.Assertions.assertEquals(4, summary.size(), "header + 3 scans: " + summary + "\n" + run.output());
		int ok = 0, failed = 0;
		for (String line : summary.subList(1, summary.size())) {
			if (line.contains(",ok,")) ok++;
			if (line.startsWith("broken,") && line.contains("failed (read)")) failed++;
		}
		org.junit.jupiter.api.Assertions.assertEquals(2, ok, summary.toString());
		org.junit.jupiter.api.Assertions.assertEquals(1, failed, summary.toString());
		List<String> failures = Files.readAllLines(out.resolve("failures.csv"));
		org.junit.jupiter.api.Assertions.assertEquals(2, failures.size(), failures.toString());
		assertTrue(failures.get(1).startsWith(scans.resolve("broken.mhd") + ",read,") && failures.get(1).contains("gone.raw"), failures.toString());
		assertTrue(run.output().contains("2 analysed, 0 skipped (done before), 1 failed"), run.output());
		for (String uid : data.seriesUids()) assertTrue(Files.exists(out.resolve(uid + "_candidates.csv")), uid);
	}

	/** run("Analyze CT", ...) as recorded from the menu, then getResult() on what it found. */
	@Test
	void analyzeFromTheMenuFillsTheResultsTable() throws Exception {
		requireDisplay();
		Path phantom = SharedData.require("reference/phantom-a/phantom-a.mhd");
		Path macro = temp.resolve("analyze.ijm");
		Files.writeString(macro, "setBatchMode(true);\n" +
			"run(\"Analyze CT\", \"input=[" + phantom + "] " + models() + " output=[" + temp.resolve("menu-out") + "]\");\n" +
			"print(\"NODULES=\" + nResults);\n" +
			"print(\"FIRST=\" + getResult(\"probability\", 0));\n" +
			"print(\"IMAGES=\" + nImages);\n" +
			"run(\"Analyze CT\", \"input=[" + phantom + "] seg_modle=x\");\n" +
			"print(\"NOT REACHED\");\n");
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);
		assertTrue(run.output().contains("NODULES=8"), run.output());
		assertTrue(run.output().contains("FIRST=1"), run.output());
		assertTrue(run.output().contains("IMAGES=1"), run.output());
		assertTrue(run.output().contains("'seg_modle'"), "the misspelt key is named: " + run.output());
		assertTrue(!run.output().contains("NOT REACHED"), "a failed command stops the macro: " + run.output());
	}

	/**
	 * Issue #21 in ImageJ 1.54p: LIDC-IDRI-0001 (TCIA, CC BY 3.0: ../shared/real/ATTRIBUTION.md), slices 66–113,
	 * rewritten by pydicom with rows and columns reversed (ImageOrientationPatient −1,0,0,0,−1,0, positions
	 * moved to the new first pixel), opened through File › Import and analysed from the menu on the open image.
	 * The nodule's circle must be on the nodule in the image as shown: at the annotated centre's voxel on the
	 * reversed grid (hand-mapped: row' = rows − 1 − row, col' = cols − 1 − col), on tissue.
	 */
	@Test
	void rowsReversedSeriesOpenedThroughImportShowsTheNodulesCircleOnTheNodule() throws Exception {
		requireDisplay();
		Path dicom = SharedData.require("real/LIDC-IDRI-0001/dicom");
		String summary = Files.readString(SharedData.require("real/LIDC-IDRI-0001/summary.json"));
		Path reversed = temp.resolve("reversed-slab");
		Files.createDirectories(reversed);
		Path py = temp.resolve("reverse_slab.py");
		Files.writeString(py, String.join("\n",
			"import os, sys, numpy as np, pydicom",
			"src, dst, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])",
			"ds = [pydicom.dcmread(os.path.join(src, n)) for n in sorted(os.listdir(src)) if n.endswith('.dcm')]",
			"ds = [d for d in ds if 'ImagePositionPatient' in d]",
			"ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))",
			"for k, d in enumerate(ds[first:last + 1]):",
			"    a = d.pixel_array",
			"    rows, cols = a.shape",
			"    iop = [float(v) for v in d.ImageOrientationPatient]",
			"    X, Y = np.array(iop[:3]), np.array(iop[3:])",
			"    dr, dc = [float(v) for v in d.PixelSpacing]",
			"    ipp = np.array([float(v) for v in d.ImagePositionPatient])",
			"    d.ImagePositionPatient = ['%.6f' % v for v in ipp + (cols - 1) * dc * X + (rows - 1) * dr * Y]",
			"    d.ImageOrientationPatient = ['%g' % v for v in np.concatenate([-X, -Y])]",
			"    d.PixelData = np.ascontiguousarray(a[::-1, ::-1]).astype(a.dtype).tobytes()",
			"    d.save_as(os.path.join(dst, 'slice%03d.dcm' % k))",
			"print(last - first + 1)", ""));
		int first = 66, last = 113;
		String n = ExternalTools.run(5, ExternalTools.python("numpy", "pydicom"), py.toString(), dicom.toString(), reversed.toString(),
			"" + first, "" + last).trim();
		assertEquals("48", n);

		Path macro = temp.resolve("reversed.ijm");
		Files.writeString(macro, "setBatchMode(true);\n" +
			"run(\"DICOM series with geometry\", \"input=[" + reversed + "]\");\n" +
			"run(\"Analyze CT\", \"" + models() + "\");\n" +
			"print(\"OVERLAY=\" + Overlay.size);\n" +
			"for (i = 0; i < Overlay.size; i++) {\n" +
			"  Overlay.activateSelection(i);\n" +
			"  getSelectionBounds(x, y, w, h);\n" +
			"  z = getSliceNumber();\n" +
			"  v = getPixel(floor(x + w / 2), floor(y + h / 2));\n" +
			"  print(\"ROI \" + selectionType() + \" \" + z + \" \" + (x + w / 2) + \" \" + (y + h / 2) + \" \" + w + \" \" + v);\n" +
			"}\n");
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);

		// The annotated centre on the original grid, then hand-mapped onto the slab with rows and columns reversed.
		CtVolume original = CtReader.read(dicom).volume();
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"xyz\"\\s*:\\s*\\[\\s*([-0-9.eE]+)\\s*,\\s*([-0-9.eE]+)\\s*,\\s*([-0-9.eE]+)")
			.matcher(summary);
		assertTrue(m.find(), "xyz in summary.json");
		double[] ircOriginal = original.geometry().worldToVoxel(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)));
		double slice = ircOriginal[0] - first, row = original.height() - 1 - ircOriginal[1], col = original.width() - 1 - ircOriginal[2];
		double spacing = original.geometry().spacing()[0];

		boolean onNodule = false;
		StringBuilder seen = new StringBuilder();
		for (String line : run.output().split("\n")) {
			if (!line.startsWith("ROI 1 ")) continue; // selectionType() 1: an oval
			String[] f = line.trim().split(" ");
			double z = Double.parseDouble(f[2]) - 1, cx = Double.parseDouble(f[3]), cy = Double.parseDouble(f[4]), hu = Double.parseDouble(f[6]);
			seen.append(line).append('\n');
			// within 3 mm in-plane and one slice of the annotated centre, on soft tissue
			if (Math.abs(z - slice) <= 1.5 && Math.hypot(cx - col - 0.5, cy - row - 0.5) * spacing < 3 && hu > -300) onNodule = true;
		}
		assertTrue(onNodule, "a circle at slice " + slice + ", row " + row + ", col " + col + " on tissue; circles drawn:\n" + seen + run.output());
	}

	/**
	 * Issue #23: with no display at all (java.awt.headless, ImageJ 1 -batch), Analyze CT on the open image still
	 * puts the circles on the image's overlay and the nodules in the Results table, opens no RoiManager (ImageJ 1's
	 * is a window, which cannot exist headless) and does not fail for want of one.
	 */
	@Test
	void headlessAnalysisOfTheOpenImageWritesOverlayAndTableWithoutARoiManager() throws Exception {
		Path phantom = SharedData.require("reference/phantom-a/phantom-a.mhd");
		Path macro = temp.resolve("headless-open.ijm");
		Files.writeString(macro, "setBatchMode(true);\n" +
			"err = call(\"org.lungnodules.fiji.LunaPlugIn.tryRun\", \"open\", \"input=[" + phantom + "]\");\n" +
			"print(\"OPEN=\" + err + \" IMAGES=\" + nImages);\n" +
			"err = call(\"org.lungnodules.fiji.LunaPlugIn.tryRun\", \"analyze\", \"" + models() + "\");\n" +
			"print(\"ANALYZE=[\" + err + \"]\");\n" +
			"print(\"OVERLAY=\" + Overlay.size);\n" +
			"print(\"NODULES=\" + nResults);\n" +
			"print(\"ROIMANAGER=\" + isOpen(\"ROI Manager\"));\n" +
			"print(\"FINISHED\");\n");
		ImageJBatch.Run run = imagej.runHeadless(macro, null);
		assertTrue(run.output().contains("OPEN= IMAGES=1"), run.output());
		assertTrue(run.output().contains("ANALYZE=[]"), "no error: " + run.output());
		assertTrue(run.output().contains("NODULES=8"), "phantom-a's 8 nodules, as in the menu test: " + run.output());
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("OVERLAY=(\\d+)").matcher(run.output());
		assertTrue(m.find() && Integer.parseInt(m.group(1)) >= 8, "circles on the overlay: " + run.output());
		assertTrue(run.output().contains("ROIMANAGER=0"), run.output());
		assertTrue(run.output().contains("FINISHED") && !run.output().contains("HeadlessException"), run.output());
	}
}
