package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.io.Luna16Tables;

/** The hit rule and the report of {@link FineTuneComparison}, on hand-made nodules and components. */
class FineTuneComparisonTest {

	static Candidate at(double x, double y, double z) {
		return new Candidate(1, 0, 0, 0, x, y, z, 10, 3, 0.9, 0, 0, Double.NaN);
	}

	@Test
	void aComponentCentreWithinTheRadiusIsAHit() {
		Luna16Tables.Annotation n = new Luna16Tables.Annotation("s", 10, 20, 30, 8); // radius 4 mm
		assertTrue(FineTuneComparison.hit(n, List.of(at(14, 20, 30))), "on the sphere: 4 mm");
		assertTrue(FineTuneComparison.hit(n, List.of(at(50, 0, 0), at(12, 22, 31))), "3 mm away (2,2,1), after a miss");
		assertFalse(FineTuneComparison.hit(n, List.of(at(13, 23, 30))), "sqrt(18) = 4.24 mm away");
		assertFalse(FineTuneComparison.hit(n, List.of()));
	}

	@Test
	void theReportPutsTheScoresSideBySide() {
		FineTuneComparison.Result r = new FineTuneComparison.Result(new FineTuneComparison.Scores(3, 4, 2, 0.25),
			new FineTuneComparison.Scores(3, 4, 3, 0.5), false, true);
		assertEquals(0.75, r.fineTuned().recall(), 0);
		assertEquals("Validation scans end to end (3 scans, 4 annotated nodule(s) >= 6 mm), initial weights vs fine-tuned (best.pt):\n" +
			"  U-Net recall of nodules >= 6 mm: 2/4 (0.500) vs 3/4 (0.750)\n  FROC CPM: 0.250 vs 0.500", r.report().replace("\r", ""));
		FineTuneComparison.Result none = new FineTuneComparison.Result(new FineTuneComparison.Scores(2, 0, 0, Double.NaN),
			new FineTuneComparison.Scores(2, 0, 0, Double.NaN), true, false);
		assertTrue(none.report().contains("- (no such nodule) (same U-Net on both sides)") && none.report().contains("FROC: not computed"), none.report());
	}
}
