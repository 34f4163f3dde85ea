package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.lungnodules.SharedData;
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
}
