package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.phantom.ChestPhantom;

/**
 * {@code ./luna demo} on a machine with an empty models folder: it must fall back to the demo weights
 * in the jar and find a real nodule of the synthetic CT. The truth comes from regenerating the same
 * phantom, not from the demo's own summary.
 */
class DemoWeightsTest {

	@TempDir
	Path temp;
	/** An empty models folder, so the demo must fall back on the weights in the jar. */
	@RegisterExtension
	final TemporaryHome home = new TemporaryHome();

	@Test
	void demoFindsATrueNoduleWithTheShippedWeights() throws Exception {
		long seed = 2026;
		int[] zyx = { 64, 256, 256 };
		Path out = temp.resolve("demo");
		LunaCliTest.Outcome o = LunaCliTest.luna("demo", "output=" + out, "seed=" + seed, "size=" + zyx[0] + "," + zyx[1] + "," + zyx[2],
			"device=cpu");
		assertEquals(0, o.code(), o.err());
		for (String kind : List.of("seg", "cls", "mal"))
			assertTrue(Files.isRegularFile(home.folder().resolve("models/demo/demo-" + kind + ".pt")), "demo weights of " + kind + " used");

		// The same CT as DemoCommand makes: its nodules are the truth.
		ChestPhantom truth = ChestPhantom.generate(seed, 0, ChestPhantom.Options.defaults().withSize(zyx[0], zyx[1], zyx[2])
			.withNodules(3, 5).withDiameterRange(6, 25));
		List<CandidatesCsv.Row> rows = CandidatesCsv.read(out.resolve(CandidatesCsv.fileName(truth.seriesUid())));
		int hits = 0;
		for (ChestPhantom.Nodule n : truth.nodules()) {
			double[] c = n.centerXyz();
			for (CandidatesCsv.Row r : rows) {
				double d = Math.sqrt(Math.pow(r.x() - c[0], 2) + Math.pow(r.y() - c[1], 2) + Math.pow(r.z() - c[2], 2));
				if (r.probability() >= 0.5 && d < n.diameterMm() / 2) {
					hits++;
					break;
				}
			}
		}
		assertTrue(hits >= 1, "no true nodule among the detections with p >= 0.5: " + rows.size() + " rows, truth " + truth.nodules().size() +
			" nodules\n" + o.out());
	}
}
