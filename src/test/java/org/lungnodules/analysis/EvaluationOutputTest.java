package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.Progress;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.MalignancyAnnotation;
import org.lungnodules.io.Luna16Tables.Mark;
import org.lungnodules.io.ScoredMarks;
import org.lungnodules.io.TableException;

/** Files, JSON, plots, bad inputs, and the malignancy ROC on hand-computed cases. */
class EvaluationOutputTest {

	@TempDir
	Path dir;

	static double number(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (-?[0-9.eE+-]+)").matcher(json);
		assertTrue(m.find(), "no number for " + key + " in " + json);
		return Double.parseDouble(m.group(1));
	}

	static double[] pair(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": \\[(-?[0-9.eE+-]+), (-?[0-9.eE+-]+)\\]").matcher(json);
		assertTrue(m.find(), "no pair for " + key);
		return new double[] { Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)) };
	}

	/** Scan A: N1 hit at .9, FP at .4; scan B: N2 missed, FP at .8. (0,0) → .9: (0, .5) → .8: (.5, .5) → .4: (1, .5): all .5. */
	@Test
	void frocFilesAndJson() throws Exception {
		List<Annotation> nodules = List.of(new Annotation("A", 0, 0, 0, 10), new Annotation("B", 0, 0, 0, 10));
		List<Mark> marks = List.of(new Mark("A", 0, 0, 1, .9), new Mark("A", 40, 0, 0, .4), new Mark("B", 40, 0, 0, .8));
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, null, List.of("A", "B"),
			new FrocEvaluation.Settings(100, 100, 5), Progress.NONE);
		String report = EvaluationOutput.writeFroc(dir, r, new EvaluationOutput.Inputs(List.of(dir.resolve("my \"results\".csv")),
			dir.resolve("annotations.csv"), null, "test"));
		assertTrue(report.contains("CPM"), report);
		String json = Files.readString(dir.resolve("summary.json"));
		assertEquals(0.5, number(json, "cpm"), 1e-12);
		for (String k : FrocEvaluation.FP_LEVEL_NAMES) assertEquals(0.5, number(json, k), 1e-12, k);
		assertEquals(1, number(json, "tp"));
		assertEquals(2, number(json, "fp"));
		assertEquals(1, number(json, "fn"));
		assertEquals(2, number(json, "nodules"));
		assertEquals(2, number(json, "scans"));
		double[] ci = pair(json, "cpm_ci");
		assertTrue(ci[0] <= 0.5 + 1e-12 && 0.5 - 1e-12 <= ci[1] || ci[0] <= ci[1], json);
		assertTrue(json.contains("my \\\"results\\\".csv"), "quotes in a path are escaped");
		List<String> froc = Files.readAllLines(dir.resolve("froc.csv"));
		assertEquals("threshold,fps_per_scan,sensitivity", froc.get(0));
		assertEquals(5, froc.size());
		BufferedImage png = ImageIO.read(dir.resolve("froc.png").toFile());
		assertNotNull(png);
		assertEquals(Plots.WIDTH, png.getWidth());
		try (var files = Files.list(dir)) {
			assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
		}
	}

	@Test
	void badResults() throws Exception {
		Path noProbability = dir.resolve("a.csv");
		Files.writeString(noProbability, "seriesuid,coordX,coordY,coordZ\nA,1,2,3\n");
		TableException e = assertThrows(TableException.class, () -> Luna16Tables.readResults(noProbability));
		assertTrue(e.getMessage().contains("probability") && e.getMessage().contains("a.csv"), e.getMessage());
		Path nan = dir.resolve("b.csv");
		Files.writeString(nan, "seriesuid,coordX,coordY,coordZ,probability\nA,1,2,3,0.5\nA,1,2,3,NaN\n");
		e = assertThrows(TableException.class, () -> Luna16Tables.readResults(nan));
		assertTrue(e.getMessage().contains("probability") && e.getMessage().contains("3"), e.getMessage());
		Path noMalignancy = dir.resolve("c.csv");
		Files.writeString(noMalignancy, "seriesuid,coordX,coordY,coordZ,probability\nA,1,2,3,0.5\n");
		e = assertThrows(TableException.class, () -> ScoredMarks.read(noMalignancy, "p_malignant"));
		assertTrue(e.getMessage().contains("p_malignant"), e.getMessage());
		EvaluationException none = assertThrows(EvaluationException.class, () -> FrocEvaluation.evaluate(
			List.of(new Mark("A", 0, 0, 0, .5)), List.of(), null, List.of("A"), FrocEvaluation.Settings.defaults(), Progress.NONE));
		assertTrue(none.getMessage().contains("no nodule"), none.getMessage());
	}

	/**
	 * Nodules M1 (malignant, 20 mm) .9, M2 (malignant, 12 mm) .4, B1 (benign, 10 mm) .6, B2 (benign,
	 * 5 mm) .1, and B3 (benign) that no mark hits. Model: M1 beats B1, B2; M2 beats B2 only: 3/4.
	 * Diameter: 20 and 12 beat 10 and 5: 4/4. B3 is missed and not in either curve.
	 */
	@Test
	void malignancyRoc() throws Exception {
		double[] lo = { 0, 0, 0 }, hi = { 1, 1, 1 };
		List<MalignancyAnnotation> table = List.of(
			new MalignancyAnnotation("A", 0, 0, 0, 20, true, lo, hi), new MalignancyAnnotation("A", 100, 0, 0, 12, true, lo, hi),
			new MalignancyAnnotation("B", 0, 0, 0, 10, false, lo, hi), new MalignancyAnnotation("B", 100, 0, 0, 5, false, lo, hi),
			new MalignancyAnnotation("B", 200, 0, 0, 8, false, lo, hi));
		List<Mark> marks = new ArrayList<>(List.of(new Mark("A", 0, 0, 1, .9), new Mark("A", 0, 0, 6, .1), // nearest wins: .9
			new Mark("A", 100, 0, 0, .4), new Mark("B", 0, 1, 0, .6), new Mark("B", 100, 0, 1, .1), new Mark("B", 200, 50, 0, .99)));
		MalignancyEvaluation.Result r = MalignancyEvaluation.evaluate(marks, table, null, false, 200, 3);
		assertEquals(5, r.nodules());
		assertEquals(4, r.scored().size());
		assertEquals(1, r.missed());
		assertEquals(0.75, r.model().auc(), 1e-12);
		assertEquals(1.0, r.diameter().auc(), 1e-12);
		String report = EvaluationOutput.writeMalignancy(dir, r, new EvaluationOutput.Inputs(List.of(dir.resolve("c.csv")),
			dir.resolve("annotations_with_malignancy.csv"), null, "test"), "p_malignant");
		assertTrue(report.contains("AUC"));
		String json = Files.readString(dir.resolve("summary.json"));
		assertEquals(0.75, number(json, "auc"), 1e-12);
		assertEquals(1.0, number(json, "diameter_auc"), 1e-12);
		double[] ci = pair(json, "auc_ci");
		assertTrue(ci[0] <= ci[1]);
		assertNotNull(ImageIO.read(dir.resolve("roc.png").toFile()));
		assertTrue(Files.readString(dir.resolve("roc.csv")).startsWith("score,threshold,fpr,tpr\n"));
	}

	/** Ties between classes count one half: scores (.5 pos, .5 neg, .9 pos, .1 neg) → (1 + 1 + 1 + .5)/4. */
	@Test
	void rocTies() {
		double auc = RocAnalysis.auc(new double[] { .5, .5, .9, .1 }, new boolean[] { true, false, true, false });
		assertEquals(3.5 / 4, auc, 1e-12);
		RocAnalysis.Roc roc = RocAnalysis.curve(new double[] { .5, .5 }, new boolean[] { true, false });
		assertEquals(0.5, roc.auc(), 0);
		assertEquals(2, roc.fpr().length, "one diagonal step for the tie");
	}
}
