package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.Mark;

/** The LUNA16 protocol on cases worked out by hand (numbers in the comments). */
class FrocEvaluationTest {

	static final double EXACT = 1e-12;

	static Mark mark(String s, double x, double y, double z, double p) {
		return new Mark(s, x, y, z, p);
	}

	static Annotation nodule(String s, double x, double y, double z, double d) {
		return new Annotation(s, x, y, z, d);
	}

	static FrocEvaluation.Settings noBootstrap() {
		return new FrocEvaluation.Settings(100, 0, 1);
	}

	/**
	 * Four scans A, B, C, D (the last two without nodules, so they need the series list).
	 * <pre>
	 * A: nodules N1 (0,0,0) d10 (r 5), N2 (100,0,0) d6 (r 3), N3 (200,0,0) d4 (missed).
	 *    excluded E1 (0,100,0) d −1 (→ 10 mm, r 5), E2 (3,0,0) d4 (r 2, overlaps N1).
	 *    m1 (1,0,0) .9 → N1;  m2 (2,0,0) .6 → N1 again (double detection) and E2: stays N1's, no excluded hit;
	 *    m3 (100,2.9,0) .7 → N2;  m4 (100,3,0) .95 at distance exactly 3 = r: not inside → FP;
	 *    m5 (0,104,0) .99 → E1 at distance 4 < 5: dropped;  m6 (50,50,50) .5 → FP.
	 * B: nodules N4 (0,0,0) d8 (r 4), N5 (0,0,4) d8 (r 4).
	 *    m7 (0,0,1) .5 hits both (distances 1 and 3): a hit for each;  m8 (30,0,0) .3 FP;
	 *    m9 (0,40,0) .5 FP;  m10 (0,−40,0) .5 FP.
	 * C: 101 marks: one .8, a hundred .01. The cut is the 101st highest, .01; only p > .01 stays: 1 mark, 100 capped.
	 * D: 101 marks: a hundred .3, one .05. Cut .05: the hundred .3 stay, 1 capped.
	 * </pre>
	 * Hits .9 (N1), .7 (N2), .5 (N4), .5 (N5); FPs .95, .8, .5 ×3, .3 ×101 = 106; lesions 5; 4 scans.
	 * Curve (FPs/scan = FP/4, sensitivity = hits/5):
	 * (0,0) → .95: (.25, 0) → .9: (.25, .2) → .8: (.5, .2) → .7: (.5, .4) → .5 (tie, 3 FP + 2 hits):
	 * (1.25, .8) → .3: (26.5, .8).
	 * At 1/8: between (0,0) and (.25,0): 0. At 1/4: the top of the vertical step: .2. At 1/2: .4.
	 * At 1: on the tie's diagonal, .4 + (1 − .5)·(.4/.75) = 2/3. At 2, 4, 8: .8.
	 * CPM = (0 + .2 + .4 + 2/3 + 3·.8)/7 = (11/3)/7 = 0.5238095…
	 */
	@Test
	void handComputedCase() throws Exception {
		List<Annotation> nodules = List.of(nodule("A", 0, 0, 0, 10), nodule("A", 100, 0, 0, 6), nodule("A", 200, 0, 0, 4),
			nodule("B", 0, 0, 0, 8), nodule("B", 0, 0, 4, 8));
		List<Annotation> excluded = List.of(nodule("A", 0, 100, 0, -1), nodule("A", 3, 0, 0, 4));
		List<Mark> marks = new ArrayList<>(List.of(mark("A", 1, 0, 0, .9), mark("A", 2, 0, 0, .6), mark("A", 100, 2.9, 0, .7),
			mark("A", 100, 3, 0, .95), mark("A", 0, 104, 0, .99), mark("A", 50, 50, 50, .5),
			mark("B", 0, 0, 1, .5), mark("B", 30, 0, 0, .3), mark("B", 0, 40, 0, .5), mark("B", 0, -40, 0, .5)));
		marks.add(mark("C", 500, 0, 0, .8));
		for (int i = 0; i < 100; i++) marks.add(mark("C", i, 300, 0, .01));
		for (int i = 0; i < 100; i++) marks.add(mark("D", i, 300, 0, .3));
		marks.add(mark("D", 0, 0, 0, .05));

		List<String> scans = FrocEvaluation.chooseScans(marks, nodules, excluded, List.of("A", "B", "C", "D"), false);
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, excluded, scans, noBootstrap(), Progress.NONE);
		FrocEvaluation.Counts c = r.counts();
		assertEquals(4, c.scans());
		assertEquals(5, c.nodules());
		assertEquals(4, c.truePositives());
		assertEquals(1, c.falseNegatives());
		assertEquals(106, c.falsePositives());
		assertEquals(6 + 4 + 1 + 100, c.candidates());
		assertEquals(101, c.cappedMarks());
		assertEquals(1, c.excludedHits());
		assertEquals(1, c.doubleDetections());
		assertEquals(0, c.ignoredMarks());
		assertArrayEquals(new double[] { 0, .2, .4, 2.0 / 3, .8, .8, .8 }, r.sensitivity(), EXACT);
		assertEquals((0 + .2 + .4 + 2.0 / 3 + 3 * .8) / 7, r.cpm(), EXACT);
		assertArrayEquals(new double[] { 0, .25, .25, .5, .5, 1.25, 26.5 }, r.curve().fps(), EXACT);
		assertArrayEquals(new double[] { 0, 0, .2, .2, .4, .8, .8 }, r.curve().sensitivity(), EXACT);
		assertArrayEquals(new double[] { Double.POSITIVE_INFINITY, .95, .9, .8, .7, .5, .3 }, r.curve().thresholds(), 0);
		for (int i = 0; i < 7; i++)
			assertEquals(r.sensitivity()[i], r.curve().sensitivityAt(FrocEvaluation.FP_LEVELS[i]), EXACT);

		// Without excluded findings, m5 (.99) and nothing else changes: m2 stays N1's double detection.
		FrocEvaluation.Result plain = FrocEvaluation.evaluate(marks, nodules, null, scans, noBootstrap(), Progress.NONE);
		assertEquals(107, plain.counts().falsePositives());
		assertEquals(0, plain.counts().excludedHits());
	}

	/**
	 * The script computes FPs/scan as (FP/FPtotal)·FPtotal/scans. With 25 false positives and 7
	 * scans, 7/25·25 = 7.000000000000001, so the step at 7 FPs sits at 1.0000000000000002 FPs/scan,
	 * just right of 1: numpy then reads 0 at 1 FP/scan, not the step's top (1). We must do the same.
	 * Scan S0: one nodule; 7 FPs at .9, the hit at .8, 18 FPs at .1; scans S1..S6 have nothing.
	 * Points (0,0), (1.0000000000000002, 0), (1.0000000000000002, 1), (25/7, 1).
	 * Sensitivities: 0, 0, 0, 0 (at 1), then 1, 1, 1.
	 */
	@Test
	void followsTheScriptsFloatingPointAtAStep() throws Exception {
		List<Annotation> nodules = List.of(nodule("S0", 0, 0, 0, 10));
		List<Mark> marks = new ArrayList<>();
		for (int i = 0; i < 7; i++) marks.add(mark("S0", 100 + 10 * i, 0, 0, .9));
		marks.add(mark("S0", 0, 0, 0, .8));
		for (int i = 0; i < 18; i++) marks.add(mark("S0", 0, 100 + 10 * i, 0, .1));
		List<String> scans = List.of("S0", "S1", "S2", "S3", "S4", "S5", "S6");
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, null, scans, noBootstrap(), Progress.NONE);
		assertEquals(25, r.counts().falsePositives());
		assertArrayEquals(new double[] { 0, 0, 0, 0, 1, 1, 1 }, r.sensitivity(), 0);
	}

	/** The cap keeps the first 100 strictly above the 101st score; ties at the cut all go. */
	@Test
	void capTiesAtTheCutAreDropped() {
		List<Mark> allTied = new ArrayList<>();
		for (int i = 0; i < 150; i++) allTied.add(mark("X", i, 0, 0, .5));
		assertEquals(0, FrocEvaluation.keepMostProbable(allTied, 100).size());
		List<Mark> hundred = new ArrayList<>(allTied.subList(0, 100));
		assertEquals(100, FrocEvaluation.keepMostProbable(hundred, 100).size(), "100 marks: no cap");
		List<Mark> mixed = new ArrayList<>();
		for (int i = 0; i < 120; i++) mixed.add(mark("X", i, 0, 0, i)); // scores 0..119; cut = 19; keep 20..119
		List<Mark> kept = FrocEvaluation.keepMostProbable(mixed, 100);
		assertEquals(100, kept.size());
		assertEquals(20, kept.get(0).probability());
		assertEquals(119, kept.get(99).probability());
	}

	/** Default: annotated series with marks. all_series adds the unmarked ones, whose nodules are missed. */
	@Test
	void seriesChoice() throws Exception {
		List<Annotation> nodules = List.of(nodule("A", 0, 0, 0, 10), nodule("B", 0, 0, 0, 10));
		List<Mark> marks = List.of(mark("A", 0, 0, 0, .9), mark("A", 50, 0, 0, .4));
		assertEquals(List.of("A"), FrocEvaluation.chooseScans(marks, nodules, null, null, false));
		List<String> all = FrocEvaluation.chooseScans(marks, nodules, null, null, true);
		assertEquals(List.of("A", "B"), all);
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, null, all, noBootstrap(), Progress.NONE);
		// Hit .9, FP .4; 2 scans, 2 nodules: (0,0) → (0, .5) → (.5, .5). Levels ≥ .5: .5; at 1/8 and 1/4: .5 too.
		assertEquals(1, r.counts().falseNegatives());
		assertArrayEquals(new double[] { .5, .5, .5, .5, .5, .5, .5 }, r.sensitivity(), 0);

		EvaluationException unknown = assertThrows(EvaluationException.class,
			() -> FrocEvaluation.chooseScans(List.of(mark("Z9", 0, 0, 0, .5)), nodules, null, null, false));
		assertTrue(unknown.getMessage().contains("Z9"), unknown.getMessage());
		assertThrows(EvaluationException.class, () -> FrocEvaluation.chooseScans(marks, nodules, null, List.of("A", "A"), false));
		assertThrows(EvaluationException.class, () -> FrocEvaluation.chooseScans(marks, nodules, null, List.of("A"), true));
		// A series list ignores marks elsewhere, as the script does, and says how many.
		FrocEvaluation.Result onlyB = FrocEvaluation.evaluate(marks, nodules, null, List.of("B"), noBootstrap(), Progress.NONE);
		assertEquals(2, onlyB.counts().ignoredMarks());
		assertArrayEquals(new double[7], onlyB.sensitivity(), 0);
	}

	/**
	 * If every scan is the same, every resample is the same set of scans up to multiplicity with
	 * the same proportions… not quite: proportions of identical scans are identical, so every
	 * resample's curve equals the full curve, and the band collapses onto it.
	 */
	@Test
	void bootstrapOfIdenticalScansCollapsesOntoTheCurve() throws Exception {
		List<Annotation> nodules = new ArrayList<>();
		List<Mark> marks = new ArrayList<>();
		for (int s = 0; s < 20; s++) {
			String uid = "S" + s;
			nodules.add(nodule(uid, 0, 0, 0, 10));
			nodules.add(nodule(uid, 100, 0, 0, 10));
			marks.add(mark(uid, 0, 0, 0, .9));
			marks.add(mark(uid, 50, 50, 0, .7));
			marks.add(mark(uid, 50, -50, 0, .2));
		}
		List<String> scans = FrocEvaluation.chooseScans(marks, nodules, null, null, false);
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, null, scans, new FrocEvaluation.Settings(100, 200, 7), Progress.NONE);
		FrocEvaluation.Bootstrap b = r.bootstrap();
		assertNotNull(b);
		assertEquals(200, b.usable());
		for (int i = 0; i < 7; i++) {
			assertEquals(r.sensitivity()[i], b.lowAt(i), EXACT);
			assertEquals(r.sensitivity()[i], b.highAt(i), EXACT);
		}
		assertEquals(r.cpm(), b.cpmLow(), EXACT);
		assertEquals(r.cpm(), b.cpmHigh(), EXACT);
	}

	/** Same seed, same band (whatever the threads); the band brackets the curve's neighbourhood. */
	@Test
	void bootstrapIsSeededAndOrdered() throws Exception {
		List<Annotation> nodules = new ArrayList<>();
		List<Mark> marks = new ArrayList<>();
		java.util.Random random = new java.util.Random(3);
		for (int s = 0; s < 40; s++) {
			String uid = "S" + s;
			nodules.add(nodule(uid, 0, 0, 0, 10));
			if (random.nextBoolean()) marks.add(mark(uid, 1, 0, 0, random.nextDouble()));
			for (int k = 0; k < 5; k++) marks.add(mark(uid, 100 + 10 * k, 0, 0, random.nextDouble()));
		}
		List<String> scans = FrocEvaluation.chooseScans(marks, nodules, null, null, false);
		FrocEvaluation.Settings settings = new FrocEvaluation.Settings(100, 300, 11);
		FrocEvaluation.Result a = FrocEvaluation.evaluate(marks, nodules, null, scans, settings, Progress.NONE);
		FrocEvaluation.Result b = FrocEvaluation.evaluate(marks, nodules, null, scans, settings, Progress.NONE);
		assertArrayEquals(a.bootstrap().low(), b.bootstrap().low(), 0);
		assertArrayEquals(a.bootstrap().high(), b.bootstrap().high(), 0);
		assertTrue(a.bootstrap().cpmLow() <= a.cpm() && a.cpm() <= a.bootstrap().cpmHigh());
		for (int i = 0; i < a.bootstrap().levels().length; i++)
			assertTrue(a.bootstrap().low()[i] <= a.bootstrap().high()[i]);
	}

	/**
	 * Real annotations. Marks exactly on every nodule of the first 300 annotated series (by first
	 * appearance) at probability .9, and one false positive per annotated series at .95, far from
	 * the body. Evaluated scans: the 601 series (each has a mark); nodules: all 1,186; hits: the
	 * nodules of those 300 series (T, counted here); FPs: 601, one per scan.
	 * Curve: (0,0) → .95: (1, 0) → .9: (1, T/1186). At 1/8, 1/4, 1/2: on the flat (0,0)–(1,0): 0;
	 * at 1: the top of the step, T/1186; beyond: T/1186. CPM = 4T/(7·1186).
	 */
	@Test
	void realAnnotations() throws Exception {
		List<Annotation> nodules = Luna16Tables.readAnnotations(SharedData.require("luna/annotations.csv"));
		assertEquals(1186, nodules.size());
		Map<String, List<Annotation>> bySeries = new LinkedHashMap<>(Luna16Tables.bySeries(nodules, Annotation::seriesUid));
		assertEquals(601, bySeries.size());
		List<Mark> marks = new ArrayList<>();
		int t = 0, k = 0;
		for (Map.Entry<String, List<Annotation>> e : bySeries.entrySet()) {
			if (k++ < 300) for (Annotation a : e.getValue()) {
				marks.add(mark(a.seriesUid(), a.x(), a.y(), a.z(), .9));
				t++;
			}
			marks.add(mark(e.getKey(), 5000, 5000, 5000, .95));
		}
		List<String> scans = FrocEvaluation.chooseScans(marks, nodules, null, null, false);
		FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, null, scans, noBootstrap(), Progress.NONE);
		assertEquals(601, r.counts().scans());
		assertEquals(1186, r.counts().nodules());
		assertEquals(t, r.counts().truePositives());
		assertEquals(1186 - t, r.counts().falseNegatives());
		assertEquals(601, r.counts().falsePositives());
		double s = t / 1186.0;
		assertArrayEquals(new double[] { 0, 0, 0, s, s, s, s }, r.sensitivity(), EXACT);
		assertEquals(4 * s / 7, r.cpm(), EXACT);
	}
}
