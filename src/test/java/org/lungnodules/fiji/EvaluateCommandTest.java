package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ./luna evaluate end to end, headless. */
class EvaluateCommandTest {

	@TempDir
	Path dir;

	/**
	 * Two results files read as one. Series A: nodule hit at .9 plus an FP at .3; series B: nodule
	 * hit at .7; series C (in the series list, not annotated): FP at .8. Excluded finding on A
	 * catches a mark at .95. 3 scans, 2 nodules, 2 hits, 2 FPs.
	 * Curve, highest score first: (0,0) → .9: (0, .5) → .8: (1/3, .5) → .7: (1/3, 1) → .3: (2/3, 1).
	 * At 1/8: between (0,.5) and (1/3,.5): .5; at 1/4: .5; from 1/2 on: 1. CPM (.5+.5+5)/7 = 6/7.
	 */
	@Test
	void cliRunWritesFiles() throws Exception {
		Path r1 = dir.resolve("r1.csv"), r2 = dir.resolve("r2.csv"), ann = dir.resolve("annotations.csv"),
			exc = dir.resolve("excluded.csv"), series = dir.resolve("series.csv"), out = dir.resolve("out");
		Files.writeString(r1, "seriesuid,coordX,coordY,coordZ,probability,extra\nA,0,0,1,0.9,x\nA,50,0,0,0.3,y\nA,0,90,0,0.95,z\n");
		Files.writeString(r2, "seriesuid,coordX,coordY,coordZ,probability\nB,1,0,0,0.7\nC,0,0,0,0.8\n");
		Files.writeString(ann, "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,0,0,0,10\nB,0,0,0,6\n");
		Files.writeString(exc, "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,0,90,0,-1\n");
		Files.writeString(series, "A\nB\nC\n");
		ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
		int code = LunaCli.run(new String[] { "evaluate", "results=" + r1 + "," + r2, "annotations=" + ann, "excluded=" + exc,
			"series=" + series, "bootstrap=50", "output=" + out }, new PrintStream(o, true, StandardCharsets.UTF_8),
			new PrintStream(e, true, StandardCharsets.UTF_8));
		assertEquals(0, code, e.toString(StandardCharsets.UTF_8));
		String stdout = o.toString(StandardCharsets.UTF_8);
		assertTrue(stdout.contains("CPM"), stdout);
		String json = Files.readString(out.resolve("summary.json"));
		assertEquals(6.0 / 7, EvaluationOutputTestAccess.number(json, "cpm"), 1e-12);
		assertEquals(2, EvaluationOutputTestAccess.number(json, "tp"));
		assertEquals(2, EvaluationOutputTestAccess.number(json, "fp"));
		assertEquals(3, EvaluationOutputTestAccess.number(json, "scans"));
		assertEquals(1, EvaluationOutputTestAccess.number(json, "excluded_hits"));
		assertNotNull(ImageIO.read(out.resolve("froc.png").toFile()));
		assertTrue(Files.exists(out.resolve("froc.csv")) && Files.exists(out.resolve("report.txt")));

		ByteArrayOutputStream e2 = new ByteArrayOutputStream();
		int bad = LunaCli.run(new String[] { "evaluate", "result=" + r1, "annotations=" + ann, "output=" + out },
			new PrintStream(new ByteArrayOutputStream()), new PrintStream(e2, true, StandardCharsets.UTF_8));
		assertEquals(2, bad);
		assertTrue(e2.toString(StandardCharsets.UTF_8).contains("result"), e2.toString(StandardCharsets.UTF_8));

		// C without the series list is unknown to the annotations: a clean failure naming it.
		ByteArrayOutputStream e3 = new ByteArrayOutputStream();
		int unknown = LunaCli.run(new String[] { "evaluate", "results=" + r1 + "," + r2, "annotations=" + ann, "output=" + out },
			new PrintStream(new ByteArrayOutputStream()), new PrintStream(e3, true, StandardCharsets.UTF_8));
		assertEquals(1, unknown);
		assertTrue(e3.toString(StandardCharsets.UTF_8).contains("C"), e3.toString(StandardCharsets.UTF_8));
	}

	/** Keeps the JSON number helper in one place. */
	static final class EvaluationOutputTestAccess {
		static double number(String json, String key) {
			java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
			assertTrue(m.find(), "no " + key + " in " + json);
			return Double.parseDouble(m.group(1));
		}
	}
}
