package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.io.Luna16Tables;

/** The book's match-and-score on a case computed by hand. */
class NoduleMatchingTest {

	static final List<NoduleMatching.Truth> TRUTH = List.of(
		new NoduleMatching.Truth(0, 0, 0, 10, false),     // T1 benign
		new NoduleMatching.Truth(100, 0, 0, 20, true),    // T2 malignant
		new NoduleMatching.Truth(0, 100, 0, 6, false),    // T3 benign
		new NoduleMatching.Truth(0, -200, 0, 8, true));   // T4 malignant, never detected

	static final List<NoduleMatching.Detection> DETECTIONS = List.of(
		new NoduleMatching.Detection(3, 0, 0, 0.9, 0.2),          // 3/10 = 0.3: T1, predicted benign
		new NoduleMatching.Detection(0, 4, 0, 0.3, Double.NaN),   // 4/10: T1, filtered out (T1 keeps the higher class)
		new NoduleMatching.Detection(110, 0, 0, 0.8, 0.9),        // 10/20 = 0.5: T2, predicted malignant
		new NoduleMatching.Detection(100, 14, 0, 0.95, 0.1),      // 14/20 = 0.7 is not < 0.7: unmatched, benign class
		new NoduleMatching.Detection(50, 50, 50, 0.1, Double.NaN), // unmatched, filtered out
		new NoduleMatching.Detection(0, 104.1, 0, 0.9, Double.NaN)); // 4.1/6 = 0.683: T3, no malignancy score = benign

	@Test
	void handComputedConfusion() {
		NoduleMatching.Confusion c = NoduleMatching.matchAndScore(DETECTIONS, TRUTH);
		assertArrayEquals(new long[] { 0, 1, 1, 0 }, c.counts()[0]);
		assertArrayEquals(new long[] { 0, 0, 2, 0 }, c.counts()[1]);
		assertArrayEquals(new long[] { 1, 0, 0, 1 }, c.counts()[2]);
		assertEquals(c.plus(c).get(2, 3), 2);
	}

	@Test
	void edgeCases() {
		// no detections: every nodule is a complete miss
		NoduleMatching.Confusion none = NoduleMatching.matchAndScore(List.of(), TRUTH);
		assertArrayEquals(new long[] { 0, 0, 0, 0 }, none.counts()[0]);
		assertArrayEquals(new long[] { 2, 0, 0, 0 }, none.counts()[1]);
		assertArrayEquals(new long[] { 2, 0, 0, 0 }, none.counts()[2]);
		// no truth: every detection is a non-nodule by its class
		NoduleMatching.Confusion noTruth = NoduleMatching.matchAndScore(DETECTIONS, List.of());
		assertArrayEquals(new long[] { 0, 2, 3, 1 }, noTruth.counts()[0]);
		// one detection matching two nodules counts for both
		NoduleMatching.Confusion both = NoduleMatching.matchAndScore(List.of(new NoduleMatching.Detection(5, 0, 0, 0.9, 0.1)),
			List.of(new NoduleMatching.Truth(0, 0, 0, 10, false), new NoduleMatching.Truth(10, 0, 0, 10, true)));
		assertArrayEquals(new long[] { 0, 0, 1, 0 }, both.counts()[1]);
		assertArrayEquals(new long[] { 0, 0, 1, 0 }, both.counts()[2]);
		assertArrayEquals(new long[] { 0, 0, 0, 0 }, both.counts()[0]);
		// plain annotations count as benign
		assertEquals(false, NoduleMatching.Truth.of(new Luna16Tables.Annotation("s", 1, 2, 3, 4)).malignant());
	}

	@Test
	void tablesAreReadable(@TempDir Path dir) throws IOException {
		NoduleMatching.Confusion c = NoduleMatching.matchAndScore(DETECTIONS, TRUTH);
		assertEquals("truth,complete_miss,filtered_out,predicted_benign,predicted_malignant\n" +
			"non_nodule,0,1,1,0\nbenign,0,0,2,0\nmalignant,1,0,0,1\n", c.toCsv());
		Path f = dir.resolve("confusion.csv");
		c.writeCsv(f);
		assertEquals(c.toCsv(), Files.readString(f));
		String text = c.toText("Total", false);
		String[] lines = text.split("\n");
		assertEquals("Total", lines[0]);
		assertTrue(lines[1].contains("Predicted nodule") && !lines[1].contains("malignant"), text);
		// malignant row: miss 1, filtered 0, nodule 0 + 1
		assertTrue(lines[4].matches("\\s*Malignant \\|\\s+1 \\|\\s+0 \\|\\s+1"), lines[4]);
		assertTrue(lines[2].matches("\\s*Non-nodule \\|\\s+\\|\\s+1 \\|\\s+1"), lines[2]);
		assertTrue(c.toText(null, true).split("\n")[0].contains("Predicted malignant"));
	}
}
