package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.fiji.LunaCliTest.Outcome;
import org.lungnodules.io.MetaImage;

/**
 * With no model given and none fetched, the commands that run on a user's scan refuse instead of
 * quietly taking the demo models (trained on synthetic CTs only); {@code models=demo} opts in, and
 * then the output says so. The models folder is an empty temporary one, as on a new user's machine.
 */
class DemoModelRefusalTest {

	@TempDir
	static Path temp;
	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();
	static Path ct, points;
	static String uid;

	@BeforeAll
	static void smallCt() throws Exception {
		ChestPhantom phantom = ChestPhantom.generate(11, 0, ChestPhantom.Options.defaults().withSize(40, 128, 128).withNodules(1, 2)
			.withDiameterRange(8, 12));
		uid = phantom.seriesUid();
		ct = temp.resolve(uid + ".mhd");
		MetaImage.writeVolume(ct, phantom.volume(), false);
		double[] c = phantom.nodules().get(0).centerXyz();
		points = temp.resolve("points.csv");
		Files.writeString(points, "seriesuid,coordX,coordY,coordZ\n" + uid + "," + c[0] + "," + c[1] + "," + c[2] + "\n");
	}

	static void assertRefusal(Outcome o, String... keys) {
		assertEquals(LunaCli.BAD_ARGUMENTS, o.code(), o.out() + o.err());
		for (String k : keys) assertTrue(o.err().contains(k), "the refusal should mention " + k + ": " + o.err());
		assertTrue(o.err().contains("synthetic CTs only"), o.err());
		assertTrue(o.err().contains("models=demo"), o.err());
	}

	@Test
	void commandsOnAUsersScanRefuseToFallBackOnTheDemoModels() {
		assertRefusal(LunaCliTest.luna("analyze", "input=" + ct, "output=" + temp.resolve("refused"), "device=cpu"), "fetch-models",
			"seg_model=", "cls_model=");
		assertFalse(Files.exists(temp.resolve("refused").resolve(CandidatesCsv.fileName(uid))), "nothing is analysed");
		assertRefusal(LunaCliTest.luna("segment", "input=" + ct, "output=" + temp.resolve("p.mhd"), "device=cpu"), "fetch-models",
			"seg_model=");
		assertFalse(Files.exists(temp.resolve("p.mhd")));
		assertRefusal(LunaCliTest.luna("classify", "input=" + ct, "points=" + points, "device=cpu"), "fetch-models", "cls_model=");
		assertRefusal(LunaCliTest.luna("score-malignancy", "input=" + ct, "points=" + points, "device=cpu"), "mal_model=", "train-mal");
	}

	@Test
	void modelsDemoOptsInAndEveryOutputSaysSo() throws Exception {
		Path out = temp.resolve("demo-opt-in");
		Outcome o = LunaCliTest.luna("analyze", "input=" + ct, "output=" + out, "models=demo", "device=cpu");
		assertEquals(0, o.code(), o.err());
		assertTrue(o.out().startsWith(Models.DEMO_WARNING), o.out());
		List<CandidatesCsv.Row> rows = CandidatesCsv.read(out.resolve(CandidatesCsv.fileName(uid)));
		assertFalse(rows.isEmpty(), "the demo U-Net found candidates in a CT with nodules");
		assertTrue(rows.stream().allMatch(r -> r.probability() < 0.5 || !Double.isNaN(r.pMalignant())),
			"models=demo also brings the demo malignancy model: every nodule is scored");
		for (String kind : List.of("seg", "cls", "mal"))
			assertTrue(Files.isRegularFile(home.folder().resolve("models/demo/demo-" + kind + ".pt")), "demo " + kind + " used");

		Outcome classify = LunaCliTest.luna("classify", "input=" + ct, "points=" + points, "models=demo", "device=cpu",
			"output=" + temp.resolve("classified.csv"));
		assertEquals(0, classify.code(), classify.err());
		assertTrue(classify.out().startsWith(Models.DEMO_WARNING), classify.out());

		// A model the user gives is never second-guessed: no warning when every network needed is given.
		Path cls = home.folder().resolve("models/demo/demo-cls.pt");
		Outcome given = LunaCliTest.luna("classify", "input=" + ct, "points=" + points, "cls_model=" + cls, "models=demo", "device=cpu",
			"output=" + temp.resolve("classified2.csv"));
		assertEquals(0, given.code(), given.err());
		assertFalse(given.out().contains("WARNING"), given.out());
	}
}
