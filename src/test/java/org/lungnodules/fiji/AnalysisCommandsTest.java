package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import net.imglib2.img.array.ArrayImgs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;
import org.lungnodules.fiji.LunaCliTest.Outcome;

/**
 * The analysis commands end to end through {@code ./luna}'s entry point, against the real-PyTorch
 * references in ../shared, and their refusals of bad input.
 */
class AnalysisCommandsTest {

	@TempDir
	static Path temp;
	static Path seg, cls, phantomA;

	@BeforeAll
	static void models() {
		seg = SharedData.require("models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state");
		cls = SharedData.require("models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state");
		phantomA = SharedData.require("reference/phantom-a/phantom-a.mhd");
	}

	static Outcome luna(String... args) {
		return LunaCliTest.luna(args);
	}

	/** Parses a CSV with a header into column → values maps, one per row. */
	static List<Map<String, String>> csv(Path file) throws Exception {
		List<String> lines = Files.readAllLines(file);
		String[] head = lines.get(0).split(",");
		List<Map<String, String>> rows = new ArrayList<>();
		for (String line : lines.subList(1, lines.size())) {
			if (line.isBlank()) continue;
			String[] f = line.split(",", -1);
			Map<String, String> row = new LinkedHashMap<>();
			for (int i = 0; i < head.length; i++) row.put(head[i], f[i]);
			rows.add(row);
		}
		return rows;
	}

	static double d(Map<String, String> row, String key) {
		return Double.parseDouble(row.get(key));
	}

	@Test
	void analyzeReproducesThePublishedCandidates() throws Exception {
		Path out = temp.resolve("analyze");
		Outcome o = luna("analyze", "input=" + phantomA, "seg_model=" + seg, "cls_model=" + cls, "output=" + out,
			"annotations=" + SharedData.require("reference/phantom-a/annotations.csv"), "device=cpu");
		assertEquals(0, o.code(), o.err());
		Path written = out.resolve("phantom-a_candidates.csv");
		assertEquals(CandidatesCsv.HEADER, Files.readAllLines(written).get(0));
		List<Map<String, String>> ours = csv(written);
		List<Map<String, String>> expected = csv(SharedData.require("reference/phantom-a/candidates-expected.csv"));
		assertEquals(expected.size(), ours.size(), "one row per component");
		Comparator<Map<String, String>> byCentre = Comparator.comparingDouble((Map<String, String> r) -> d(r, "index"))
			.thenComparingDouble(r -> d(r, "row")).thenComparingDouble(r -> d(r, "col"));
		ours.sort(byCentre);
		expected.sort(byCentre);
		for (int i = 0; i < ours.size(); i++) {
			Map<String, String> a = ours.get(i), e = expected.get(i);
			for (String k : List.of("index", "row", "col")) assertEquals(d(e, k), d(a, k), 0.01, "component " + e.get("label") + " " + k);
			assertEquals(d(e, "voxels"), d(a, "voxels"), 0, "component " + e.get("label"));
			assertEquals(d(e, "p_nodule"), d(a, "probability"), 1e-4, "component " + e.get("label"));
			assertEquals(d(e, "coordX"), d(a, "coordX"), 0.01);
			assertEquals("", a.get("p_malignant"), "no malignancy model, no score");
		}
		// 6 annotated nodules, all found: the confusion table says so.
		assertTrue(Files.exists(out.resolve("phantom-a_confusion.csv")));
		assertTrue(o.out().contains("8 nodule(s)"), o.out());
	}

	@Test
	void classifyMatchesTheReferenceChunks() throws Exception {
		// Points: the reference chunk centres, as world coordinates (identity direction).
		MetaImage header = MetaImage.readHeaderOnly(phantomA);
		Geometry g = header.geometry();
		List<Map<String, String>> expected = csv(SharedData.require("reference/phantom-a/chunks-expected.csv"));
		List<String> lines = new ArrayList<>(List.of("seriesuid,coordX,coordY,coordZ,class"));
		for (Map<String, String> e : expected) {
			double[] w = g.voxelToWorld(d(e, "index"), d(e, "row"), d(e, "col"));
			lines.add(String.format(java.util.Locale.ROOT, "phantom-a,%.6f,%.6f,%.6f,0", w[0], w[1], w[2]));
		}
		lines.add("other-series,0,0,0,0");
		Path points = temp.resolve("points.csv");
		Files.write(points, lines);
		Path out = temp.resolve("classified.csv");
		Outcome o = luna("classify", "input=" + phantomA, "cls_model=" + cls, "points=" + points, "output=" + out, "device=cpu");
		assertEquals(0, o.code(), o.err());
		List<Map<String, String>> ours = csv(out);
		assertEquals(expected.size(), ours.size(), "rows of other series are ignored");
		for (int i = 0; i < ours.size(); i++) {
			assertEquals(d(expected.get(i), "p_nodule"), d(ours.get(i), "probability"), 1e-4, "chunk " + i);
			assertEquals(d(expected.get(i), "logit1"), d(ours.get(i), "logit1"), 1e-3, "chunk " + i);
		}
	}

	@Test
	void importModelKeepsEveryWeight() throws Exception {
		Path out = temp.resolve("cls.pt");
		Outcome o = luna("import-model", "input=" + cls, "kind=cls", "output=" + out);
		assertEquals(0, o.code(), o.err());
		Map<String, Tensor> before = TorchCheckpoint.read(cls).stateDict(), after = TorchCheckpoint.read(out).stateDict();
		assertEquals(before.keySet(), after.keySet());
		for (String k : before.keySet()) {
			assertArrayEquals(before.get(k).shape(), after.get(k).shape(), k);
			assertEquals(before.get(k).data(), after.get(k).data(), k);
		}
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(out).root();
		assertEquals(90L, root.get("epoch"));
		assertEquals("LunaModel", root.get("model_name"));
		// The U-Net is not a classifier: refused, with the mismatch named.
		Outcome wrong = luna("import-model", "input=" + seg, "kind=cls", "output=" + temp.resolve("x.pt"));
		assertEquals(1, wrong.code());
		assertTrue(wrong.err().contains("does not fit") || wrong.err().contains("missing"), wrong.err());
	}

	@Test
	void badInputFailsCleanly() throws Exception {
		// A 2D image is not a CT.
		Path flat = temp.resolve("flat.mhd");
		MetaImage.write(flat, MetaImage.of(ArrayImgs.shorts(64, 64), new double[2], new double[] { 1, 1 }, null), false);
		Outcome o2d = luna("analyze", "input=" + flat, "seg_model=" + seg, "cls_model=" + cls);
		assertEquals(1, o2d.code());
		assertTrue(o2d.err().contains("3D"), o2d.err());

		// A CT smaller than a classifier chunk is refused before any network runs.
		Path small = temp.resolve("small.mhd");
		MetaImage.writeVolume(small, ChestPhantom.generate(1, 0, ChestPhantom.Options.defaults().withSize(20, 64, 64).withNodules(0, 0))
			.volume(), false);
		Outcome oSmall = luna("analyze", "input=" + small, "seg_model=" + seg, "cls_model=" + cls);
		assertEquals(1, oSmall.code());
		assertTrue(oSmall.err().contains("fewer than the 32"), oSmall.err());

		// Missing model file: a bad argument, named.
		Outcome noModel = luna("analyze", "input=" + phantomA, "seg_model=" + temp.resolve("nope.state"), "cls_model=" + cls);
		assertEquals(2, noModel.code());
		assertTrue(noModel.err().contains("seg_model") && noModel.err().contains("nope.state"), noModel.err());

		// The classifier's weights given as the U-Net: refused with the mismatch.
		Outcome wrongModel = luna("analyze", "input=" + small, "seg_model=" + cls, "cls_model=" + cls);
		assertEquals(1, wrongModel.code());
		assertTrue(wrongModel.err().contains(cls.getFileName().toString()), wrongModel.err());

		// An output "folder" that is a file: refused before hours of work.
		Path file = Files.writeString(temp.resolve("not-a-folder"), "x");
		Outcome notWritable = luna("analyze", "input=" + phantomA, "seg_model=" + seg, "cls_model=" + cls, "output=" + file);
		assertEquals(1, notWritable.code());
		assertTrue(notWritable.err().contains("not writable"), notWritable.err());

		// A misspelt key is named.
		Outcome typo = luna("analyze", "input=" + phantomA, "seg_modle=" + seg);
		assertEquals(2, typo.code());
		assertTrue(typo.err().contains("'seg_modle'") && typo.err().contains("seg_model"), typo.err());

		// Bad values.
		assertEquals(2, luna("analyze", "input=" + phantomA, "threshold=1.5").code());
		assertEquals(2, luna("analyze", "input=" + phantomA.getParent(), "shard=3/2").code());
	}
}
