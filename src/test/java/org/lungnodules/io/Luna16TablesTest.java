package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.SharedData;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.Candidate;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.io.Luna16Tables.MalignancyAnnotation;
import org.lungnodules.io.Luna16Tables.Mark;

class Luna16TablesTest {

	@TempDir
	Path tmp;

	private static final String ANN_HEADER = "seriesuid,coordX,coordY,coordZ,diameter_mm\n";
	private static final String CAND_HEADER = "seriesuid,coordX,coordY,coordZ,class\n";

	private Path write(String name, String text) throws IOException {
		Path p = tmp.resolve(name);
		Files.writeString(p, text, StandardCharsets.UTF_8);
		return p;
	}

	// ------------------------------------------------------------ real LUNA16 files

	@Test
	void realAnnotationsHave1186NodulesIn601Series() throws IOException {
		Path csv = SharedData.require("luna/annotations.csv");
		List<Annotation> all = Luna16Tables.readAnnotations(csv);
		assertEquals(1186, all.size());
		assertEquals(601, Luna16Tables.bySeries(all, Annotation::seriesUid).size());

		// First data row, copied from the file's text.
		assertEquals(new Annotation("1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860",
			-128.6994211, -175.3192718, -298.3875064, 5.651470635), all.get(0));
		// Last row, copied from the file's text.
		assertEquals(new Annotation("1.3.6.1.4.1.14519.5.2.1.6279.6001.997611074084993415992563148335",
			-21.95847826, 33.48609566, -155.2920257, 23.80291305), all.get(all.size() - 1));
		// And one row in the middle checked against a naive split of the raw line.
		List<String> lines = Files.readAllLines(csv);
		String[] raw = lines.get(600).split(",");
		Annotation a = all.get(599);
		assertEquals(raw[0], a.seriesUid());
		assertEquals(Double.parseDouble(raw[1]), a.x());
		assertEquals(Double.parseDouble(raw[2]), a.y());
		assertEquals(Double.parseDouble(raw[3]), a.z());
		assertEquals(Double.parseDouble(raw[4]), a.diameterMm());
	}

	@Test
	void realMalignancyTableHas1182RowsOf378Malignant() throws IOException {
		Path csv = SharedData.require("luna/annotations_with_malignancy.csv");
		List<MalignancyAnnotation> all = Luna16Tables.readMalignancy(csv);
		assertEquals(1182, all.size());
		assertEquals(378, all.stream().filter(MalignancyAnnotation::malignant).count());
		assertEquals(600, Luna16Tables.bySeries(all, MalignancyAnnotation::seriesUid).size());

		MalignancyAnnotation first = all.get(0);
		assertEquals(new MalignancyAnnotation("1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860",
			-128.6994211, -175.31927180000002, -298.38750639999995, 5.651470635, true,
			new double[] { -131.89648, -178.25976125, -299.8000036716461 },
			new double[] { -125.4511675, -172.45898, -296.2000037670135 }, new int[] { 4, 2, 4, 2 }), first);

		MalignancyAnnotation last = all.get(all.size() - 1);
		assertEquals("1.3.6.1.4.1.14519.5.2.1.6279.6001.309955999522338651429118207446", last.seriesUid());
		assertEquals(-96.74440568, last.x());
		assertEquals(37.57394502, last.y());
		assertEquals(-138.16042969999998, last.z());
		assertEquals(9.008401966000001, last.diameterMm());
		assertFalse(last.malignant());
		assertArrayEquals(new int[] { 1, 1, 1, 1 }, last.ratings());
		assertArrayEquals(new double[] { -101.796875, 32.796875, -142.505005 }, last.bboxLow());
		assertArrayEquals(new double[] { -91.25, 42.640625, -133.130005 }, last.bboxHigh());

		// The book's rule behind mal_bool: at least two readers rated malignancy 4 or 5.
		for (MalignancyAnnotation m : all) {
			long high = java.util.Arrays.stream(m.ratings()).filter(r -> r >= 4).count();
			assertEquals(high >= 2, m.malignant(), m::toString);
		}
	}

	@Test
	void realMalignancyTableRoundTrips() throws IOException {
		List<MalignancyAnnotation> all = Luna16Tables.readMalignancy(SharedData.require("luna/annotations_with_malignancy.csv"));
		Path out = tmp.resolve("sub/annotations_with_malignancy.csv");
		Luna16Tables.writeMalignancy(out, all);
		assertEquals(all, Luna16Tables.readMalignancy(out));
		// Our file keeps the book's header, so the book's code (csv.reader by position) reads it too.
		assertEquals("seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,bboxLowX,bboxLowY,bboxLowZ," +
			"bboxHighX,bboxHighY,bboxHighZ,len_mal_details", Files.readAllLines(out).get(0));
		assertTrue(Files.readAllLines(out).get(1).contains(",True,\"[4, 2, 4, 2]\","));
	}

	@Test
	void realMergeStartsWithTheLargestMalignantNodule() throws IOException {
		List<MalignancyAnnotation> mal = Luna16Tables.readMalignancy(SharedData.require("luna/annotations_with_malignancy.csv"));
		List<CandidateInfo> merged = Luna16Tables.candidateInfoList(mal, List.of(), null);
		assertEquals(1182, merged.size());
		// From the raw file: the largest True row is 32.27003025 mm in series ...287966244644280690737019247886.
		assertEquals("1.3.6.1.4.1.14519.5.2.1.6279.6001.287966244644280690737019247886", merged.get(0).seriesUid());
		assertEquals(32.27003025, merged.get(0).diameterMm());
		assertTrue(merged.subList(0, 378).stream().allMatch(CandidateInfo::isMalignant));
		assertTrue(merged.subList(378, 1182).stream().noneMatch(CandidateInfo::isMalignant));
	}

	// ------------------------------------------------------------ merging and grouping

	@Test
	void mergeKeepsAnnotatedNodulesAndClassZeroCandidatesInTheBooksOrder() {
		double[] lo = { 0, 0, 0 }, hi = { 1, 1, 1 };
		List<MalignancyAnnotation> nodules = List.of(
			new MalignancyAnnotation("s1", 1, 2, 3, 5.0, true, lo, hi),
			new MalignancyAnnotation("s2", 4, 5, 6, 10.0, false, lo, hi),
			new MalignancyAnnotation("s1", 7, 8, 9, 8.0, true, lo, hi),
			new MalignancyAnnotation("s3", 0, 0, 0, 8.0, true, lo, hi));
		List<Candidate> candidates = List.of(
			new Candidate("s1", 10, 0, 0, false),
			new Candidate("s2", 1, 0, 0, false),
			new Candidate("s1", 20, 0, 0, false),
			new Candidate("s1", 20, -1, 0, false),
			new Candidate("s2", 4, 5, 6, true)); // class 1: the annotation stands for it
		List<CandidateInfo> merged = Luna16Tables.candidateInfoList(nodules, candidates, null);
		// Worked out by hand: Python sorts the tuples (isNodule, hasAnnotation, isMal, diameter, uid, xyz) descending.
		List<CandidateInfo> expected = List.of(
			new CandidateInfo(true, true, true, 8.0, "s3", 0, 0, 0),
			new CandidateInfo(true, true, true, 8.0, "s1", 7, 8, 9),
			new CandidateInfo(true, true, true, 5.0, "s1", 1, 2, 3),
			new CandidateInfo(true, true, false, 10.0, "s2", 4, 5, 6),
			new CandidateInfo(false, false, false, 0.0, "s2", 1, 0, 0),
			new CandidateInfo(false, false, false, 0.0, "s1", 20, 0, 0),
			new CandidateInfo(false, false, false, 0.0, "s1", 20, -1, 0),
			new CandidateInfo(false, false, false, 0.0, "s1", 10, 0, 0));
		assertEquals(expected, merged);

		List<CandidateInfo> onDisk = Luna16Tables.candidateInfoList(nodules, candidates, Set.of("s2"));
		assertEquals(List.of(expected.get(3), expected.get(4)), onDisk);
	}

	@Test
	void mergeWithoutMalignancyCountsEveryNoduleBenign() {
		List<Annotation> nodules = List.of(new Annotation("a", 1, 1, 1, 4.0), new Annotation("b", 2, 2, 2, 6.0));
		List<Candidate> candidates = List.of(new Candidate("a", 3, 3, 3, false), new Candidate("a", 1, 1, 1, true));
		List<CandidateInfo> merged = Luna16Tables.candidateInfoListWithoutMalignancy(nodules, candidates, null);
		assertEquals(List.of(
			new CandidateInfo(true, true, false, 6.0, "b", 2, 2, 2),
			new CandidateInfo(true, true, false, 4.0, "a", 1, 1, 1),
			new CandidateInfo(false, false, false, 0.0, "a", 3, 3, 3)), merged);
	}

	@Test
	void readCandidateInfoListPicksTheTableKindFromItsHeader() throws IOException {
		Path cands = write("candidates.csv", CAND_HEADER + "a,1,2,3,0\nb,4,5,6,0\na,7,8,9,1\n");
		Path ann = write("annotations.csv", ANN_HEADER + "a,7,8,9,5.5\n");
		Path mal = tmp.resolve("mal.csv");
		Luna16Tables.writeMalignancy(mal, List.of(new MalignancyAnnotation("a", 7, 8, 9, 5.5, true,
			new double[] { 6, 7, 8 }, new double[] { 8, 9, 10 }, new int[] { 5, 4, 3 })));

		List<CandidateInfo> fromMal = Luna16Tables.readCandidateInfoList(mal, cands, Set.of("a"));
		assertEquals(List.of(new CandidateInfo(true, true, true, 5.5, "a", 7, 8, 9),
			new CandidateInfo(false, false, false, 0.0, "a", 1, 2, 3)), fromMal);

		List<CandidateInfo> fromAnn = Luna16Tables.readCandidateInfoList(ann, cands, null);
		assertEquals(List.of(new CandidateInfo(true, true, false, 5.5, "a", 7, 8, 9),
			new CandidateInfo(false, false, false, 0.0, "b", 4, 5, 6),
			new CandidateInfo(false, false, false, 0.0, "a", 1, 2, 3)), fromAnn);
	}

	@Test
	void bySeriesKeepsFirstSeenOrder() {
		List<Annotation> rows = List.of(new Annotation("z", 1, 0, 0, 1), new Annotation("a", 2, 0, 0, 1),
			new Annotation("z", 3, 0, 0, 1), new Annotation("m", 4, 0, 0, 1), new Annotation("a", 5, 0, 0, 1));
		Map<String, List<Annotation>> g = Luna16Tables.bySeries(rows, Annotation::seriesUid);
		assertEquals(List.of("z", "a", "m"), new ArrayList<>(g.keySet()));
		assertEquals(List.of(1.0, 3.0), g.get("z").stream().map(Annotation::x).collect(Collectors.toList()));
		assertEquals(List.of(2.0, 5.0), g.get("a").stream().map(Annotation::x).collect(Collectors.toList()));
	}

	// ------------------------------------------------------------ round trips

	@Test
	void writersRoundTrip() throws IOException {
		List<Annotation> ann = List.of(new Annotation("1.2.3", -128.6994211, 0.1 + 0.2, 1e-7, 5.651470635),
			new Annotation("uid,with \"comma\"", 1e20, -0.0, 3, 0));
		Path a = tmp.resolve("annotations.csv");
		Luna16Tables.writeAnnotations(a, ann);
		assertEquals(ann, Luna16Tables.readAnnotations(a));

		List<Annotation> excluded = List.of(new Annotation("x", 1, 2, 3, -1));
		Path e = tmp.resolve("annotations_excluded.csv");
		Luna16Tables.writeAnnotations(e, excluded);
		assertEquals(excluded, Luna16Tables.readExcludedAnnotations(e));

		List<Candidate> cands = List.of(new Candidate("s", 1.5, -2.25, 3, true), new Candidate("s", 4, 5, 6, false));
		Path c = tmp.resolve("candidates.csv");
		Luna16Tables.writeCandidates(c, cands);
		assertEquals(cands, Luna16Tables.readCandidates(c));
		assertEquals(List.of(cands.get(1)), Luna16Tables.readCandidates(c, k -> !k.isNodule()));

		List<Mark> marks = List.of(new Mark("s", 1, 2, 3, 0.123456789), new Mark("t", -1, -2, -3, 1));
		Path r = tmp.resolve("results.csv");
		Luna16Tables.writeResults(r, marks);
		assertEquals(marks, Luna16Tables.readResults(r));
		assertEquals("seriesuid,coordX,coordY,coordZ,probability", Files.readAllLines(r).get(0));
	}

	@Test
	void writesReplaceAtomicallyAndLeaveNoTempFiles() throws IOException {
		Path a = write("annotations.csv", "old content");
		Luna16Tables.writeAnnotations(a, List.of(new Annotation("s", 1, 2, 3, 4)));
		assertEquals(List.of(new Annotation("s", 1, 2, 3, 4)), Luna16Tables.readAnnotations(a));
		try (Stream<Path> files = Files.list(tmp)) {
			assertEquals(List.of(a), files.collect(Collectors.toList()));
		}
		assertThrows(IllegalArgumentException.class,
			() -> Luna16Tables.writeAnnotations(a, List.of(new Annotation("s", Double.NaN, 2, 3, 4))));
		assertEquals(1, Luna16Tables.readAnnotations(a).size(), "a refused write must keep the old file");
	}

	// ------------------------------------------------------------ tolerated variations

	@Test
	void crlfQuotedFieldsReorderedAndExtraColumnsAreRead() throws IOException {
		Path p = write("crlf.csv", "note,diameter_mm,\"coordZ\",coordY,coordX,seriesuid\r\n" +
			"\"a, b\",\"4.5\",3,2,1,\"1.2.840\"\r\n" +
			"\"two\r\nlines\",6, -3 ,-2.,-.5,1.2.840\r\n");
		assertEquals(List.of(new Annotation("1.2.840", 1, 2, 3, 4.5), new Annotation("1.2.840", -0.5, -2, -3, 6)),
			Luna16Tables.readAnnotations(p));
	}

	@Test
	void byteOrderMarkAndBlankLinesAreTolerated() throws IOException {
		Path p = write("bom.csv", "\uFEFF" + ANN_HEADER + "\ns,1,2,3,4\n\n");
		assertEquals(List.of(new Annotation("s", 1, 2, 3, 4)), Luna16Tables.readAnnotations(p));
	}

	@Test
	void headerOnlyIsAnEmptyTable() throws IOException {
		assertEquals(List.of(), Luna16Tables.readCandidates(write("c.csv", CAND_HEADER)));
	}

	@Test
	void resultsIgnoreExtraColumns() throws IOException {
		Path p = write("submission.csv", "probability,seriesuid,coordX,coordY,coordZ,diameter_mm,voxels\n0.75,s,1,2,3,6.5,120\n");
		assertEquals(List.of(new Mark("s", 1, 2, 3, 0.75)), Luna16Tables.readResults(p));
	}

	// ------------------------------------------------------------ errors

	private TableException fails(Path p, Class<?> reader) {
		return assertThrows(TableException.class, () -> {
			if (reader == Annotation.class) Luna16Tables.readAnnotations(p);
			else if (reader == Candidate.class) Luna16Tables.readCandidates(p);
			else if (reader == MalignancyAnnotation.class) Luna16Tables.readMalignancy(p);
			else if (reader == Mark.class) Luna16Tables.readResults(p);
			else Luna16Tables.readExcludedAnnotations(p);
		});
	}

	@Test
	void missingColumnNamesFileAndColumn() throws IOException {
		Path p = write("no-z.csv", "seriesuid,coordX,coordY,diameter_mm\ns,1,2,3\n");
		TableException e = fails(p, Annotation.class);
		assertTrue(e.getMessage().contains("no-z.csv"), e.getMessage());
		assertTrue(e.getMessage().contains("'coordZ'"), e.getMessage());
		assertEquals(p, e.file());

		TableException m = fails(write("no-box.csv", ANN_HEADER.trim() + ",mal_bool\ns,1,2,3,4,True\n"), MalignancyAnnotation.class);
		assertTrue(m.getMessage().contains("'bboxLowX'"), m.getMessage());
		TableException r = fails(write("no-p.csv", ANN_HEADER + "s,1,2,3,4\n"), Mark.class);
		assertTrue(r.getMessage().contains("'probability'"), r.getMessage());
	}

	@Test
	void junkNumberGivesTheLineCountingTheHeaderAsLineOne() throws IOException {
		Path p = write("junk.csv", ANN_HEADER + "s,1,2,3,4\ns,1,2x,3,4\ns,1,2,3,4\n");
		TableException e = fails(p, Annotation.class);
		assertEquals(3, e.line());
		assertTrue(e.getMessage().contains("junk.csv, line 3"), e.getMessage());
		assertTrue(e.getMessage().contains("coordY") && e.getMessage().contains("'2x'"), e.getMessage());
	}

	@Test
	void lineNumbersArePhysicalAcrossBlankLinesCrlfAndQuotedLineBreaks() throws IOException {
		Path p = write("lines.csv", "note,seriesuid,coordX,coordY,coordZ,diameter_mm\r\n" +
			"\r\n" + // line 2 blank
			"\"multi\r\nline\",s,1,2,3,4\r\n" + // lines 3-4
			"x,s,1,2,3,4\r\n" + // line 5
			"x,s,1,2,oops,4\r\n"); // line 6
		assertEquals(6, fails(p, Annotation.class).line());
		Path bom = write("bom-bad.csv", "\uFEFF" + ANN_HEADER + "s,1,2,3,4\ns,1,2,3,\n");
		assertEquals(3, fails(bom, Annotation.class).line());
	}

	@ParameterizedTest
	@ValueSource(strings = { "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "0x1p3", "1.5d", "", "1,5", "1 2" })
	void nonFiniteOrJunkCoordinatesAreRejected(String value) throws IOException {
		String field = value.contains(",") ? "\"" + value + "\"" : value;
		Path p = write("bad.csv", ANN_HEADER + "s,1,2,3,4\ns," + field + ",2,3,4\n");
		TableException e = fails(p, Annotation.class);
		assertEquals(3, e.line(), e.getMessage());
		assertTrue(e.getMessage().contains("coordX"), e.getMessage());
	}

	@Test
	void wrongFieldCountIsRejected() throws IOException {
		TableException few = fails(write("few.csv", ANN_HEADER + "s,1,2,3\n"), Annotation.class);
		assertEquals(2, few.line());
		assertTrue(few.getMessage().contains("expected 5 fields"), few.getMessage());
		assertEquals(3, fails(write("many.csv", ANN_HEADER + "s,1,2,3,4\ns,1,2,3,4,5\n"), Annotation.class).line());
	}

	@Test
	void negativeDiameterIsRejectedExceptMinusOneInTheExcludedTable() throws IOException {
		Path minusOne = write("minus-one.csv", ANN_HEADER + "s,1,2,3,-1\n");
		TableException e = fails(minusOne, Annotation.class);
		assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("diameter_mm"), e.getMessage());
		assertEquals(List.of(new Annotation("s", 1, 2, 3, -1)), Luna16Tables.readExcludedAnnotations(minusOne));
		assertEquals(2, fails(write("minus-two.csv", ANN_HEADER + "s,1,2,3,-2\n"), Object.class).line());
	}

	@Test
	void unknownClassValueIsRejected() throws IOException {
		for (String cls : new String[] { "2", "-1", "1.0", "True", "" }) {
			TableException e = fails(write("cls.csv", CAND_HEADER + "s,1,2,3,0\ns,1,2,3,1\ns,1,2,3," + cls + "\n"), Candidate.class);
			assertEquals(4, e.line(), cls);
			assertTrue(e.getMessage().contains("class"), e.getMessage());
		}
	}

	@Test
	void malignancyFieldsAreChecked() throws IOException {
		String header = "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,bboxLowX,bboxLowY,bboxLowZ," +
			"bboxHighX,bboxHighY,bboxHighZ,len_mal_details\n";
		String good = "s,1,2,3,4,True,\"[4, 4]\",0,0,0,5,5,5,2\n";
		assertEquals(1, Luna16Tables.readMalignancy(write("ok.csv", header + good)).size());
		assertEquals(3, fails(write("b1.csv", header + good + "s,1,2,3,4,yes,\"[4, 4]\",0,0,0,5,5,5,2\n"),
			MalignancyAnnotation.class).line());
		assertEquals(3, fails(write("b2.csv", header + good + "s,1,2,3,4,True,\"[4, 4]\",0,0,0,5,5,5,3\n"),
			MalignancyAnnotation.class).line());
		assertEquals(3, fails(write("b3.csv", header + good + "s,1,2,3,4,True,\"[4, x]\",0,0,0,5,5,5,2\n"),
			MalignancyAnnotation.class).line());
		assertEquals(2, fails(write("b4.csv", header + "s,1,2,3,4,True,\"[4, 4]\",0,0,NaN,5,5,5,2\n"),
			MalignancyAnnotation.class).line());
	}

	@Test
	void emptyFileIsRejected() throws IOException {
		TableException e = fails(write("empty.csv", ""), Annotation.class);
		assertTrue(e.getMessage().contains("empty.csv") && e.getMessage().contains("empty"), e.getMessage());
		assertThrows(TableException.class, () -> Luna16Tables.readCandidates(write("blank.csv", "\n\n")));
	}

	@Test
	void brokenFilesFailCleanly() throws IOException {
		TableException missing = fails(tmp.resolve("nope.csv"), Annotation.class);
		assertTrue(missing.getMessage().contains("nope.csv"), missing.getMessage());

		// An unbalanced quote runs to the end of the file.
		TableException quote = fails(write("quote.csv", ANN_HEADER + "s,1,2,3,4\n\"s,1,2,3,4\ns,1,2,3,4\n"), Annotation.class);
		assertTrue(quote.getMessage().contains("quote.csv"), quote.getMessage());

		// A record far longer than any real row is refused instead of being buffered whole.
		Path huge = write("huge.csv", ANN_HEADER + "s,1,2,3,\"" + "9".repeat(CsvTable.MAX_RECORD_CHARS + 10));
		assertTrue(fails(huge, Annotation.class).getMessage().contains("longer than"));

		Path binary = tmp.resolve("binary.csv");
		Files.write(binary, new byte[] { 's', 'e', 'r', (byte) 0xff, (byte) 0xfe, ',', '\n' });
		assertTrue(fails(binary, Annotation.class).getMessage().contains("UTF-8"));

		TableException dup = fails(write("dup.csv", "seriesuid,coordX,coordY,coordZ,diameter_mm,coordx\n"), Annotation.class);
		assertTrue(dup.getMessage().contains("twice"), dup.getMessage());
	}
}
