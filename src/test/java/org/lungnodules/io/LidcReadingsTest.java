package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.io.LidcReadings.LidcException;
import org.lungnodules.io.LidcReadings.Nodule;

class LidcReadingsTest {

	@TempDir
	Path dir;

	/** Counts on the real file, against a plain-text count of its elements (no XML parser involved). */
	@Test
	void realFileCountsMatchATextCount() throws IOException {
		Path xml = SharedData.require("real/LIDC-IDRI-0001/reader-annotations.xml");
		String text = Files.readString(xml, StandardCharsets.UTF_8);
		LidcReadings r = LidcReadings.read(xml);

		assertEquals(count(text, "<readingSession>"), r.readings().size());
		assertEquals(count(text, "<nonNodule>"), r.nonNodules().size());
		// A nodule block whose every roi has at most one edgeMap is a < 3 mm point; the others are contoured.
		int small = 0, large = 0, largePoints = 0, largeRois = 0;
		Matcher m = Pattern.compile("<unblindedReadNodule>(.*?)</unblindedReadNodule>", Pattern.DOTALL).matcher(text);
		while (m.find()) {
			String block = m.group(1);
			boolean point = true;
			for (String roi : block.split("<roi>")) if (count(roi, "<edgeMap>") > 1) point = false;
			if (point) small++;
			else {
				large++;
				largePoints += count(block, "<edgeMap>");
				largeRois += count(block, "<roi>");
			}
		}
		assertEquals(small, r.smallNodules().size());
		assertEquals(large, r.nodules().size());
		assertEquals(largeRois, r.nodules().stream().mapToInt(n -> n.rois().size()).sum());
		assertEquals(largePoints, r.nodules().stream().flatMap(n -> n.rois().stream()).mapToInt(LidcReadings.Roi::points).sum());
		// And the facts of this file (its README): 4 readers, one 23 mm nodule seen by all four.
		assertEquals(4, r.readings().size());
		assertEquals(4, large);
		assertEquals(9, small);
		assertEquals(13, r.nonNodules().size());
		assertEquals("1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192", r.seriesUid());
		List<Integer> mal = new ArrayList<>();
		for (Nodule n : r.nodules()) mal.add(n.rating("malignancy"));
		mal.sort(null);
		assertEquals(List.of(4, 5, 5, 5), mal); // annotations_with_malignancy.csv: [5, 5, 5, 4]
		Nodule first = r.nodules().get(0);
		assertEquals("540461523", first.readerId());
		assertEquals(9, first.ratings().size());
		assertEquals(6, first.rating("calcification"));
		// The first contour's first point, read off the file by eye.
		assertEquals(-125.0, first.rois().get(0).z());
		assertEquals(312, first.rois().get(0).xs()[0]);
		assertEquals(355, first.rois().get(0).ys()[0]);
		assertTrue(first.rois().get(0).inclusion());
	}

	@Test
	void missingCharacteristicsAreMissingNotZero() throws IOException {
		Path f = new LidcXml().reader("A").nodule("n1", 0).square(-10, true, 1, 1, 5, 5)
			.reader("B").reader("C").nodule("n2", 3).square(-10, true, 1, 1, 5, 5).nonNodule("x", -12.5, 7, 8).write(dir.resolve("r.xml"));
		LidcReadings r = LidcReadings.read(f);
		assertEquals(3, r.readings().size());
		assertTrue(r.readings().get(1).nodules().isEmpty()); // a reader who marked nothing is still a reading
		Nodule a = r.readings().get(0).nodules().get(0);
		assertFalse(a.hasRatings());
		assertNull(a.rating("malignancy"));
		Nodule c = r.readings().get(2).nodules().get(0);
		assertEquals(3, c.rating("malignancy"));
		assertNull(c.rating("texture"));
		assertEquals(7, r.nonNodules().get(0).x());
		assertEquals(-12.5, r.nonNodules().get(0).z());
	}

	@Test
	void repeatedOrBlankReaderIdsStayDistinct() throws IOException {
		Path f = new LidcXml().reader("X").nodule("1", 3).square(0, true, 1, 1, 5, 5).reader("X").nodule("2", 3).square(0, true, 1, 1, 5, 5)
			.reader("").write(dir.resolve("same.xml"));
		LidcReadings r = LidcReadings.read(f);
		assertEquals(List.of("X", "X (session 2)", "reader3"), r.readings().stream().map(LidcReadings.Reading::readerId).toList());
	}

	@Test
	void worksWithoutTheNamespace() throws IOException {
		String text = new LidcXml().reader("A").nodule("n1", 2).square(0, true, 1, 1, 5, 5).text().replace(" xmlns=\"http://www.nih.gov\"", "");
		Path f = Files.writeString(dir.resolve("plain.xml"), text);
		assertEquals(1, LidcReadings.read(f).nodules().size());
	}

	@Test
	void externalEntityIsRefusedAndNothingIsRead() throws IOException {
		Path secret = Files.writeString(dir.resolve("secret.txt"), "SECRET");
		String xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE LidcReadMessage [<!ENTITY x SYSTEM \"" + secret.toUri() + "\">]>\n" +
			"<LidcReadMessage><readingSession><servicingRadiologistID>&x;</servicingRadiologistID></readingSession></LidcReadMessage>";
		Path f = Files.writeString(dir.resolve("xxe.xml"), xxe);
		LidcException e = assertThrows(LidcException.class, () -> LidcReadings.read(f));
		assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
		assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
		assertFalse(e.getMessage().contains("SECRET"));
	}

	@Test
	void entityExpansionBombIsRefused() throws IOException {
		StringBuilder sb = new StringBuilder("<?xml version=\"1.0\"?>\n<!DOCTYPE LidcReadMessage [<!ENTITY a \"aaaaaaaaaa\">");
		char prev = 'a';
		for (char c = 'b'; c <= 'k'; c++, prev++)
			sb.append("<!ENTITY ").append(c).append(" \"").append(("&" + prev + ";").repeat(10)).append("\">");
		sb.append("]><LidcReadMessage>&k;</LidcReadMessage>");
		Path f = Files.writeString(dir.resolve("bomb.xml"), sb.toString());
		LidcException e = assertThrows(LidcException.class, () -> LidcReadings.read(f));
		assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
	}

	@Test
	void badContentNamesTheFileAndTheElement() throws IOException {
		String good = new LidcXml().reader("R7").nodule("N1", 4).square(-10, true, 1, 1, 5, 5).text();
		assertProblem(good.replace("<imageZposition>-10.0</imageZposition>", ""), "reader R7", "'N1'", "imageZposition");
		assertProblem(good.replace("<imageZposition>-10.0<", "<imageZposition>minus ten<"), "'N1'", "imageZposition", "minus ten");
		assertProblem(good.replace("<imageZposition>-10.0<", "<imageZposition>NaN<"), "'N1'", "imageZposition", "NaN");
		assertProblem(good.replace("<xCoord>5</xCoord>", "<xCoord>5.5</xCoord>"), "'N1'", "xCoord", "5.5");
		assertProblem(good.replace("<xCoord>5</xCoord>", "<xCoord>-3</xCoord>"), "'N1'", "xCoord", "-3");
		assertProblem(good.replace("<xCoord>5</xCoord>", "<xCoord>99999999999</xCoord>"), "xCoord");
		assertProblem(good.replace("<yCoord>5</yCoord>", ""), "'N1'", "yCoord");
		assertProblem(good.replace("<malignancy>4<", "<malignancy>high<"), "'N1'", "malignancy", "high");
		assertProblem(good.replace("<malignancy>4<", "<malignancy>9<"), "malignancy", "9");
		assertProblem(good.replace("<inclusion>TRUE<", "<inclusion>maybe<"), "inclusion", "maybe");
		assertProblem(good.replace("</LidcReadMessage>", ""), "not well-formed");
		assertProblem("<Other/>", "LidcReadMessage");
		assertProblem("<LidcReadMessage/>", "readingSession");
		assertProblem("\u0000\u0001binary garbage", "XML");
	}

	private void assertProblem(String xml, String... words) throws IOException {
		Path f = Files.writeString(dir.resolve("bad.xml"), xml);
		LidcException e = assertThrows(LidcException.class, () -> LidcReadings.read(f));
		assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
		for (String w : words) assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
	}

	@Test
	void emptyAndMissingFilesFailClearly() throws IOException {
		Path empty = Files.createFile(dir.resolve("empty.xml"));
		assertTrue(assertThrows(LidcException.class, () -> LidcReadings.read(empty)).getMessage().startsWith(empty.toString()));
		Path none = dir.resolve("none.xml");
		assertTrue(assertThrows(LidcException.class, () -> LidcReadings.read(none)).getMessage().contains("no such file"));
	}

	@Test
	void pointNodulesKeepTheirPoint() throws IOException {
		Path f = new LidcXml().reader("A").nodule("tiny", 0).roi(-20, true, 30, 40).write(dir.resolve("p.xml"));
		LidcReadings r = LidcReadings.read(f);
		assertTrue(r.nodules().isEmpty());
		assertEquals(1, r.smallNodules().size());
		assertArrayEquals(new int[] { 30, 40 }, new int[] { r.smallNodules().get(0).x(), r.smallNodules().get(0).y() });
	}

	private static int count(String text, String needle) {
		int n = 0;
		for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
		return n;
	}
}
