package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.io.SlicePicture;
import org.lungnodules.phantom.ChestPhantom;

/**
 * Issue #23 §5: the demo's table and picture number the detections the same way. The detections are
 * made by hand at the phantom's true nodules, with probabilities rising with the truth id, so that the
 * rank order (what the picture draws) is the reverse of the truth order (what the table used to print).
 */
class DemoNumberingTest {

	@Test
	void tableAndPictureUseTheSameNumbers() {
		ChestPhantom phantom = ChestPhantom.generate(7, 0, ChestPhantom.Options.defaults().withSize(48, 128, 128).withNodules(3, 3)
			.withDiameterRange(8, 12));
		List<ChestPhantom.Nodule> truth = phantom.nodules();
		assertEquals(3, truth.size());
		List<Candidate> found = new ArrayList<>();
		for (ChestPhantom.Nodule n : truth) {
			double[] irc = n.centerIrc(), xyz = n.centerXyz();
			// truth id 1 gets the lowest probability: rank 1 is the last true nodule
			found.add(new Candidate(found.size() + 1, irc[0], irc[1], irc[2], xyz[0], xyz[1], xyz[2], 100, n.diameterMm(), 0.6 + 0.1 * n.id(),
				0, 0, 0.05 * n.id()));
		}
		// a detection in no true nodule, ranked between the others
		double[] far = phantom.geometry().voxelToWorld(2, 2, 2);
		found.add(new Candidate(99, 2, 2, 2, far[0], far[1], far[2], 10, 4, 0.75, 0, 0, 0.5));
		found.sort((a, b) -> Double.compare(b.probability(), a.probability())); // as AnalysisResult.nodules() orders them

		String table = DemoCommand.table(truth, found);
		List<SlicePicture> panels = DemoCommand.panels(phantom.volume(), found);
		assertEquals(found.size(), panels.size(), "one panel per detection");
		for (int k = 1; k <= found.size(); k++) {
			Candidate c = found.get(k - 1);
			String p = String.format(Locale.ROOT, "%.3f", c.probability());
			String row = table.lines().filter(l -> l.trim().startsWith("#")).toList().get(k - 1).trim();
			assertTrue(row.startsWith("#" + (found.indexOf(c) + 1) + " "), "table row " + k + " is numbered #" + k + ": " + row + "\n" + table);
			assertTrue(row.contains(" " + p + " "), "table #" + k + " shows detection #" + k + "'s probability " + p + ": " + row);
			ChestPhantom.Nodule inside = c.label() == 99 ? null : truth.get(c.label() - 1);
			assertTrue(inside == null ? row.contains("false positive") : row.contains("truth " + inside.id()), row);

			SlicePicture panel = panels.get(k - 1);
			assertTrue(panel.title().startsWith(String.format(Locale.ROOT, "Nodule #%d, p=%.2f", k, c.probability())), panel.title());
			assertEquals((int) Math.round(c.index()), panel.index());
			boolean labelled = false;
			for (SlicePicture.Mark m : panel.marks()) {
				int j = Integer.parseInt(m.label().substring(1));
				Candidate marked = found.get(j - 1);
				assertEquals(marked.row(), m.row(), 1e-9, "mark " + m.label() + " sits on detection " + m.label());
				assertEquals(marked.col(), m.col(), 1e-9, "mark " + m.label() + " sits on detection " + m.label());
				if (marked == c) labelled = true;
			}
			assertTrue(labelled, "panel #" + k + " circles its detection labelled #" + k);
		}
		assertTrue(table.contains("other detections (false positives): 1"), table);
	}

	@Test
	void missedTrueNodulesAreListedByTruthId() {
		ChestPhantom phantom = ChestPhantom.generate(7, 0, ChestPhantom.Options.defaults().withSize(48, 128, 128).withNodules(3, 3)
			.withDiameterRange(8, 12));
		String table = DemoCommand.table(phantom.nodules(), List.of());
		for (ChestPhantom.Nodule n : phantom.nodules())
			assertTrue(table.lines().anyMatch(l -> l.trim().startsWith("missed") && l.contains("truth " + n.id())), table);
	}
}
