package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.phantom.PhantomDataset;

/**
 * Issue #21 §2: lossy-compressed DICOM is refused by default with a message naming the opt-in, and read with
 * {@code lossy=accept}, after which every output says so: the command's summary, the cohort's summary.csv and
 * Fiji's Nodules table. The lossy series is a synthetic chest written by pydicom and re-encoded by GDCM as JPEG 2000
 * irreversible (transfer syntax 1.2.840.10008.1.2.4.91), both at test time.
 */
class LossyInputTest {

	@TempDir
	static Path temp;
	static Path lossy;

	@BeforeAll
	static void lossySeries() throws Exception {
		Path src = temp.resolve("phantom");
		PhantomDataset.Result data = PhantomDataset.write(src, 5, 1, PhantomDataset.Options.defaults().withSize(40, 96, 96).withNodules(1, 2));
		Path plain = temp.resolve("plain");
		PydicomSeries.write(ExternalTools.python("numpy", "pydicom"), src.resolve(data.seriesUids().get(0) + ".mhd"), plain, false);
		String gdcmconv = ExternalTools.require("gdcmconv", "--version");
		lossy = Files.createDirectories(temp.resolve("cohort").resolve("lossy"));
		try (Stream<Path> files = Files.list(plain)) {
			for (Path f : files.sorted().toList())
				ExternalTools.run(2, gdcmconv, "--j2k", "--lossy", "-q", "40", f.toString(), lossy.resolve(f.getFileName()).toString());
		}
		try (Stream<Path> files = Files.list(lossy)) {
			Path one = files.findFirst().orElseThrow();
			String head = new String(Files.readAllBytes(one), 0, 512, java.nio.charset.StandardCharsets.ISO_8859_1);
			assertTrue(head.contains("1.2.840.10008.1.2.4.91"), "GDCM wrote JPEG 2000 irreversible");
		}
	}

	static String models() {
		return "seg_model=" + SharedData.require("models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state");
	}

	static String cls() {
		return "cls_model=" + SharedData.require("models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state");
	}

	@Test
	void refusedByDefaultNamingTheOptIn() {
		LunaCliTest.Outcome o = LunaCliTest.luna("open", "input=" + lossy);
		assertNotEquals(0, o.code(), o.out() + o.err());
		String all = o.out() + o.err();
		assertTrue(all.contains("lossy") && all.contains("lossy=accept") && all.contains("JPEG 2000"), all);
	}

	@Test
	void readWithTheOptInAndSaidInEveryOutput() throws Exception {
		LunaCliTest.Outcome open = LunaCliTest.luna("open", "input=" + lossy, "lossy=accept");
		assertEquals(0, open.code(), open.out() + open.err());
		assertTrue(open.out().contains("LOSSY INPUT"), open.out());

		Path out = temp.resolve("out");
		LunaCliTest.Outcome one = LunaCliTest.luna("analyze", "input=" + lossy, "lossy=accept", models(), cls(), "output=" + out, "device=cpu");
		assertEquals(0, one.code(), one.out() + one.err());
		assertTrue(one.out().contains("LOSSY INPUT"), "the summary says so: " + one.out());

		Path cohortOut = temp.resolve("cohort-out");
		LunaCliTest.Outcome cohort = LunaCliTest.luna("analyze", "input=" + lossy.getParent(), "lossy=accept", models(), cls(),
			"output=" + cohortOut, "device=cpu");
		assertEquals(0, cohort.code(), cohort.out() + cohort.err());
		List<String> summary = Files.readAllLines(cohortOut.resolve("summary.csv"));
		assertEquals(2, summary.size(), summary.toString());
		assertTrue(summary.get(1).contains("ok (LOSSY INPUT)"), "the run table says so: " + summary);

		LunaCliTest.Outcome refused = LunaCliTest.luna("analyze", "input=" + lossy.getParent(), models(), cls(), "output=" + temp.resolve("r"),
			"device=cpu");
		List<String> failures = Files.readAllLines(temp.resolve("r").resolve("failures.csv"));
		assertTrue(failures.size() == 2 && failures.get(1).contains("lossy=accept"), "without the opt-in the scan fails, naming it: " + failures +
			refused.out());
	}

	@Test
	void fijisNodulesTableSaysSo() throws Exception {
		try (org.scijava.Context context = new org.scijava.Context()) {
			CommandRunner runner = new CommandRunner(context);
			java.util.Map<String, String> params = new java.util.LinkedHashMap<>();
			params.put("input", lossy.toString());
			params.put("lossy", "accept");
			params.put("seg_model", models().substring("seg_model=".length()));
			params.put("cls_model", cls().substring("cls_model=".length()));
			params.put("device", "cpu");
			org.scijava.module.Module m = runner.run("analyze", params, c -> {});
			AnalyzeCommand cmd = (AnalyzeCommand) ((org.scijava.command.CommandModule) m).getCommand();
			assertTrue(cmd.result().lossyInput());
			ij.measure.ResultsTable table = NoduleDisplay.table(cmd.result(), 0, false);
			assertTrue(table.size() > 0, "threshold 0: every candidate is listed");
			assertEquals("LOSSY (lossy-compressed DICOM)", table.getStringValue("input", 0));
		}
	}
}
