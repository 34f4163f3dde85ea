package org.lungnodules.phantom;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.phantom.ChestPhantom.Nodule;
import org.lungnodules.ct.CtVolume;

class PhantomDatasetTest {

	/** Small CTs keep the test fast; small nodules so they fit the small chests. */
	private static PhantomDataset.Options small() {
		return PhantomDataset.Options.defaults().withPhantom(ChestPhantom.Options.defaults().withSize(40, 128, 128)
			.withDiameterRange(3, 10).withNodules(1, 3).withCandidatesPerCt(120));
	}

	private static List<CSVRecord> read(Path csv, String... header) throws IOException {
		try (CSVParser p = CSVParser.parse(csv, java.nio.charset.StandardCharsets.UTF_8,
			CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build())) {
			assertEquals(List.of(header), p.getHeaderNames(), csv.getFileName().toString());
			return p.getRecords();
		}
	}

	@Test
	void tablesDescribeTheGeneratedPhantoms(@TempDir Path dir) throws IOException {
		List<Double> progress = new ArrayList<>();
		PhantomDataset.Result result = PhantomDataset.write(dir, 11, 3, small().withImages(false).withProgress(progress::add));
		assertFalse(result.cancelled());
		assertEquals(3, result.seriesUids().size());
		assertEquals(1.0, progress.get(progress.size() - 1), 1e-12);
		for (int i = 1; i < progress.size(); i++) assertTrue(progress.get(i) >= progress.get(i - 1));

		List<CSVRecord> ann = read(dir.resolve("annotations.csv"), "seriesuid", "coordX", "coordY", "coordZ", "diameter_mm");
		List<CSVRecord> mal = read(dir.resolve("annotations_with_malignancy.csv"), "seriesuid", "coordX", "coordY", "coordZ",
			"diameter_mm", "mal_bool", "mal_details", "bboxLowX", "bboxLowY", "bboxLowZ", "bboxHighX", "bboxHighY", "bboxHighZ",
			"len_mal_details");
		List<CSVRecord> cand = read(dir.resolve("candidates.csv"), "seriesuid", "coordX", "coordY", "coordZ", "class");
		assertEquals(result.noduleCount(), ann.size());
		assertTrue(ann.size() >= 3, "nodules written: " + ann.size());
		assertEquals(ann.size(), mal.size());
		assertEquals(result.candidateCount(), cand.size());

		// Regenerating CT i in memory gives exactly the rows written for it.
		int row = 0;
		for (int i = 0; i < 3; i++) {
			ChestPhantom p = ChestPhantom.generate(11, i, small().phantom());
			assertEquals(ChestPhantom.seriesUid(11, i), result.seriesUids().get(i));
			for (Nodule n : p.nodules()) {
				CSVRecord a = ann.get(row), m = mal.get(row++);
				assertEquals(p.seriesUid(), a.get("seriesuid"));
				assertEquals(n.centerXyz()[0], Double.parseDouble(a.get("coordX")), 1e-3);
				assertEquals(n.centerXyz()[2], Double.parseDouble(m.get("coordZ")), 1e-3);
				assertEquals(n.diameterMm(), Double.parseDouble(a.get("diameter_mm")), 1e-3);
				// mal_bool follows the book's rule on mal_details.
				String details = m.get("mal_details");
				assertTrue(details.matches("\\[\\d(, \\d)*\\]"), details);
				String[] ratings = details.substring(1, details.length() - 1).split(", ");
				int high = 0;
				for (String r : ratings) if (Integer.parseInt(r) >= 4) high++;
				assertEquals(high >= 2 ? "True" : "False", m.get("mal_bool"));
				assertEquals(ratings.length, Integer.parseInt(m.get("len_mal_details")));
				for (String axis : new String[] { "X", "Y", "Z" })
					assertTrue(Double.parseDouble(m.get("bboxLow" + axis)) <= Double.parseDouble(m.get("coord" + axis)) + 1e-3 &&
						Double.parseDouble(m.get("bboxHigh" + axis)) >= Double.parseDouble(m.get("coord" + axis)) - 1e-3);
			}
		}
		assertEquals(ann.size(), row);

		int positives = 0, negatives = 0;
		Set<String> uids = new HashSet<>(result.seriesUids());
		for (CSVRecord c : cand) {
			assertTrue(uids.contains(c.get("seriesuid")));
			if (c.get("class").equals("1")) positives++;
			else {
				assertEquals("0", c.get("class"));
				negatives++;
			}
		}
		assertEquals(ann.size(), positives);
		assertTrue(negatives >= 50 * positives, negatives + " : " + positives);
		try (var files = Files.list(dir)) {
			assertEquals(3, files.count(), "only the three tables, no temp files");
		}
	}

	@Test
	void cancelKeepsAConsistentSmallerDataset(@TempDir Path dir) throws IOException {
		AtomicInteger polls = new AtomicInteger();
		PhantomDataset.Result result = PhantomDataset.write(dir, 3, 5, small().withImages(false)
			.withProgress(p -> { if (p >= 1.0 / 5) polls.set(1000); })
			.withCancel(() -> polls.get() >= 1000));
		assertTrue(result.cancelled());
		assertEquals(1, result.seriesUids().size());
		List<CSVRecord> cand = read(dir.resolve("candidates.csv"), "seriesuid", "coordX", "coordY", "coordZ", "class");
		for (CSVRecord c : cand) assertEquals(result.seriesUids().get(0), c.get("seriesuid"));
	}

	@Test
	void writesOneMetaImagePerCt(@TempDir Path dir) throws IOException {
		PhantomDataset.Result result;
		try {
			result = PhantomDataset.write(dir, 5, 2, small());
		} catch (UnsupportedOperationException e) {
			Assumptions.abort("MetaImage writer not merged yet: " + e.getMessage());
			return;
		}
		for (String uid : result.seriesUids()) {
			Path mhd = dir.resolve(uid + ".mhd");
			assertTrue(Files.isRegularFile(mhd), mhd.toString());
			String header = Files.readString(mhd);
			assertTrue(header.contains("MET_SHORT"), header);
			CtVolume back;
			try {
				back = org.lungnodules.io.MetaImage.readVolume(mhd);
			} catch (UnsupportedOperationException e) {
				continue; // reader not merged yet; the header check above still ran
			}
			ChestPhantom p = ChestPhantom.generate(5, result.seriesUids().indexOf(uid), small().phantom());
			assertArrayEquals(p.volume().shapeIrc(), back.shapeIrc());
			assertArrayEquals(p.geometry().origin(), back.geometry().origin(), 1e-4);
			float[] a = new float[40 * 128 * 128], b = new float[a.length];
			p.volume().copyBox(new int[3], p.volume().shapeIrc(), a, 0, -5000, 5000);
			back.copyBox(new int[3], back.shapeIrc(), b, 0, -5000, 5000);
			assertArrayEquals(a, b);
		}
	}
}
