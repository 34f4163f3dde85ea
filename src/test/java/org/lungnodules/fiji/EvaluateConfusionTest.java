package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.analysis.CandidatesCsv;

/** evaluate mode=malignancy on our own candidates tables: ROC plus the book's 3×4 table, by hand. */
class EvaluateConfusionTest {

	@TempDir
	Path temp;

	@Test
	void malignancyModeGivesTheBooksTableOnCandidatesTables() throws Exception {
		Path truth = temp.resolve("annotations_with_malignancy.csv");
		Files.write(truth, List.of(
			"seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,bboxLowX,bboxLowY,bboxLowZ,bboxHighX,bboxHighY,bboxHighZ,len_mal_details",
			"S1,0,0,0,10,True,\"[4, 4]\",-5,-5,-5,5,5,5,2",      // A: malignant, found and called malignant
			"S1,100,0,0,10,False,\"[2]\",95,-5,-5,105,5,5,1",    // B: benign, found but filtered out (p < 0.5)
			"S1,200,0,0,10,False,\"[1, 2]\",195,-5,-5,205,5,5,2", // D: benign, found and called benign
			"S2,0,0,0,10,True,\"[5, 4]\",-5,-5,-5,5,5,5,2"));    // C: a scan not analysed, so not a miss
		Path results = temp.resolve("S1_candidates.csv");
		Files.write(results, List.of(CandidatesCsv.HEADER,
			"S1,1,0,0,0.9,0,0,0,10,5,0.8",     // hits A (1 mm / 10 mm < 0.7): predicted malignant
			"S1,100,2,0,0.3,0,0,0,10,5,",      // hits B with p < 0.5: filtered out, no malignancy score
			"S1,200,0,0,0.9,0,0,0,10,5,0.3",   // hits D: predicted benign
			"S1,50,50,50,0.95,0,0,0,10,5,0.2", // no nodule: a non-nodule predicted benign
			"S1,60,60,60,0.1,0,0,0,10,5,"));   // no nodule: a non-nodule filtered out
		Path out = temp.resolve("eval");
		LunaCliTest.Outcome o = LunaCliTest.luna("evaluate", "results=" + results, "annotations=" + truth, "mode=malignancy",
			"series=S1", "bootstrap=50", "output=" + out);
		assertEquals(0, o.code(), o.err());
		List<String> table = Files.readAllLines(out.resolve("confusion.csv"));
		assertEquals(List.of("truth,complete_miss,filtered_out,predicted_benign,predicted_malignant",
			"non_nodule,0,1,1,0", "benign,0,1,1,0", "malignant,0,0,0,1"), table);
		// ROC over the scored nodules: A (malignant, 0.8) above D (benign, 0.3): AUC 1.
		String summary = Files.readString(out.resolve("summary.json"));
		assertTrue(summary.replace(" ", "").contains("\"auc\":1"), summary);
	}
}
