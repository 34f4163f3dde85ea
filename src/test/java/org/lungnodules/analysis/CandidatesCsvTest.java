package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.TableException;

class CandidatesCsvTest {

	private static Candidate candidate(int label, double p, double pMal) {
		return new Candidate(label, label + 0.25, 10.5, 20.125, -label * 1.1, 2.2, 3.3, 10L * label, 4.5, p, -1, 1, pMal);
	}

	@Test
	void writesSortedRowsAndReadsThemBack(@TempDir Path dir) throws IOException {
		AnalysisResult r = new AnalysisResult("1.2.3", Geometry.unit(), new int[] { 1, 1, 1 },
			List.of(candidate(1, 0.2, Double.NaN), candidate(2, 0.9, 0.75), candidate(3, 0.9, Double.NaN)), null, null, true,
			List.of(), Map.of());
		Path f = CandidatesCsv.write(dir.resolve("out"), r);
		assertEquals(dir.resolve("out").resolve("1.2.3_candidates.csv"), f);
		List<String> lines = Files.readAllLines(f);
		assertEquals(CandidatesCsv.HEADER, lines.get(0));
		assertEquals("1.2.3,-2.2,2.2,3.3,0.9,2.25,10.5,20.125,20,4.5,0.75", lines.get(1));
		assertEquals("1.2.3,-3.3000000000000003,2.2,3.3,0.9,3.25,10.5,20.125,30,4.5,", lines.get(2));
		List<CandidatesCsv.Row> rows = CandidatesCsv.read(f);
		assertEquals(3, rows.size());
		assertEquals(CandidatesCsv.Row.of("1.2.3", r.candidates().get(1)), rows.get(0));
		assertTrue(Double.isNaN(rows.get(1).pMalignant()));
		assertEquals(0.2, rows.get(2).probability());
		try (var files = Files.list(f.getParent())) {
			assertEquals(1, files.count(), "no temp file left behind");
		}
	}

	@Test
	void unsafeSeriesNamesMakeSafeFileNames() {
		assertEquals("a_b_c_candidates.csv", CandidatesCsv.fileName("a/b\\c"));
		assertEquals("_._x_candidates.csv", CandidatesCsv.fileName("../x"));
		assertEquals("unnamed_candidates.csv", CandidatesCsv.fileName(""));
	}

	@Test
	void badTablesNameFileAndLine(@TempDir Path dir) throws IOException {
		Path f = dir.resolve("bad.csv");
		Files.writeString(f, CandidatesCsv.HEADER + "\ns,1,2,3,0.5,1,2,3,4,5,\ns,1,2,x,0.5,1,2,3,4,5,\n");
		TableException e = assertThrows(TableException.class, () -> CandidatesCsv.read(f));
		assertEquals(3, e.line());
		assertTrue(e.getMessage().contains("bad.csv") && e.getMessage().contains("coordZ"), e.getMessage());
		Files.writeString(f, "seriesuid,coordX\ns,1\n");
		assertTrue(assertThrows(TableException.class, () -> CandidatesCsv.read(f)).getMessage().contains("no column 'coordY'"));
	}
}
