package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lungnodules.TemporaryHome;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.bench.DemoModelCheck;

/**
 * The goals of the demo weights shipped in the jar, on synthetic CTs that neither their training
 * (seeds 101, 111, 121) nor the validation that picked their checkpoints (seeds 202, 212) used: segmentation
 * recall &ge; 0.9 for nodules of 6 mm and more, malignancy AUC above the diameter-only AUC, and
 * classifier F1 over every candidate. The truth is what the phantom drew.
 * <p>
 * Each goal is asserted as issue #5 states it, the classifier's F1 at p_nodule &ge; 0.5.
 * <p>
 * The classifier is scored with one view per chunk (the published recipe), not the four mirror
 * views {@code demo} averages: on these 30 CTs one view gives 0.922 and still fails the weights
 * before the shipped ones (0.887, 0.843), so the assertion keeps its power at a quarter of the
 * classification time, which is most of this test. The four-view figures (0.936 here, and on other
 * seeds) come from {@code ./luna bench which=demo-models}; that the mirror views are averaged
 * correctly is {@code CtAnalysisInputTest}'s check.
 */
class DemoModelsGoalsTest {

	// The demo weights are copied into the models folder: not the user's.
	@RegisterExtension
	final TemporaryHome home = new TemporaryHome();

	@Test
	void shippedDemoWeightsOnUnseenSyntheticCts() throws Exception {
		DemoModelCheck.Result r = DemoModelCheck.check(Map.of("n", "30", "seg_n", "8", "mal_n", "40", "seed", "303", "mirror", "false"), null);
		String report = r.toString();
		System.out.println("DemoModelsGoalsTest seconds per part: " + r.seconds());

		// The counts are the phantoms' own: every drawn nodule is one candidate and one nodule.
		int drawn = 0, drawn6 = 0, candidates = 0;
		ChestPhantom.Options o = ChestPhantom.Options.defaults().withSize(64, 256, 256).withSpacing(0.7, 0.7, 1.25).withNodules(2, 5)
			.withDiameterRange(4, 25);
		for (int i = 0; i < 30; i++) {
			ChestPhantom p = ChestPhantom.generate(303, i, o);
			drawn += p.nodules().size();
			if (i < 8) drawn6 += (int) p.nodules().stream().filter(n -> n.diameterMm() >= 6).count();
			candidates += p.candidates().size();
		}
		assertEquals(drawn, r.truePositives() + r.falseNegatives(), report);
		assertEquals(candidates, r.truePositives() + r.falseNegatives() + r.falsePositives() + r.trueNegatives(), report);
		assertEquals(drawn6, r.nodules6mm(), report);
		assertTrue(r.malignant() + r.benign() > drawn && r.malignant() > 20 && r.benign() > 20, "malignancy uses 40 CTs' nodules: " + report);

		// The shipped weights, one view: 0.922 (docs/demo-models.md); the ones before them, 0.887 and 0.843, fail this.
		assertTrue(r.f1() >= 0.9, "classifier F1 " + r.f1() + " < 0.9: " + report);
		assertTrue(r.segmentationRecall6mm() >= 0.9, "segmentation recall (>= 6 mm) " + r.segmentationRecall6mm() + " < 0.9: " + report);
		assertTrue(r.malignancyAuc() > r.diameterAuc(), "malignancy AUC " + r.malignancyAuc() + " not above diameter-only " +
			r.diameterAuc() + ": " + report);
	}
}
