package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.LidcSegmentationEvaluation;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.LidcXml;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * mode=segmentation on phantom-a with the book's U-Net, against readings written here: two readers
 * outline nodule 2 (centre irc 38, 68, 200; 10 mm) with the square x 193..207, y 61..75 on slices
 * 36..40. The expected Dice comes from PyTorch's own probability volume (seg-probability.mhd),
 * not from our network.
 */
class LidcSegmentationEvaluationTest {

	static final String SEG = "models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";
	static final String PHANTOM = "reference/phantom-a/";

	@TempDir
	Path dir;
	@org.junit.jupiter.api.extension.RegisterExtension
	static final org.lungnodules.TemporaryHome home = new org.lungnodules.TemporaryHome();

	private Path readings() throws IOException {
		LidcXml x = new LidcXml();
		for (String reader : new String[] { "R1", "R2" }) {
			x.reader(reader).nodule("n", 3);
			for (int k = 36; k <= 40; k++) x.square(-300 + k * 1.25, true, 193, 61, 207, 75);
		}
		return x.write(dir.resolve("phantom-readings.xml"));
	}

	@Test
	void sliceRangeEqualsPyTorchAndDiceMatchesTheReference() throws IOException {
		CtVolume ct = MetaImage.readVolume(SharedData.require(PHANTOM + "phantom-a.mhd"));
		@SuppressWarnings("unchecked")
		RandomAccessibleInterval<? extends RealType<?>> ref = (RandomAccessibleInterval<? extends RealType<?>>) MetaImage
			.read(SharedData.require(PHANTOM + "seg-probability.mhd")).image();
		RandomAccess<? extends RealType<?>> ra = ref.randomAccess();
		Inference.Builder b = Inference.builder().device("cpu");
		ModelFiles.addTo(b, Networks.Kind.SEG, SharedData.require(SEG));
		try (Inference inference = b.build()) {
			CtAnalysis analysis = new CtAnalysis(inference, CtAnalysis.Settings.defaults());
			// A range at the volume's start: the clamped context must equal the whole-CT run's.
			float[] p = analysis.segmentSlices(ct, 0, 2, Progress.NONE);
			double worst = 0;
			for (int z = 0; z <= 2; z++)
				for (int y = 0; y < 256; y++)
					for (int x = 0; x < 256; x++) {
						ra.setPosition(new long[] { x, y, z });
						worst = Math.max(worst, Math.abs(ra.get().getRealFloat() - p[(z * 256 + y) * 256 + x]));
					}
			assertTrue(worst <= 1e-4, "largest difference " + worst);

			LidcSegmentationEvaluation.Result r = LidcSegmentationEvaluation.evaluate(analysis, ct, LidcReadings.read(readings()), Progress.NONE);
			assertEquals(1, r.scores().size());
			LidcSegmentationEvaluation.NoduleScore s = r.scores().get(0);
			// Box: the square grown by 5 mm = 8 pixels in-plane, 4 slices in z.
			assertEquals(List.of(32, 53, 185), List.of(s.boxStart()[0], s.boxStart()[1], s.boxStart()[2]));
			assertEquals(List.of(13, 31, 31), List.of(s.boxSize()[0], s.boxSize()[1], s.boxSize()[2]));
			assertEquals(13, r.segmentedSlices()); // only the box's slices went through the U-Net

			long both = 0, pred = 0, near = 0;
			for (int z = 32; z <= 44; z++)
				for (int y = 53; y <= 83; y++)
					for (int x = 185; x <= 215; x++) {
						ra.setPosition(new long[] { x, y, z });
						float v = ra.get().getRealFloat();
						boolean truth = z >= 36 && z <= 40 && y >= 61 && y <= 75 && x >= 193 && x <= 207;
						if (v > 0.5f) pred++;
						if (v > 0.5f && truth) both++;
						if (Math.abs(v - 0.5f) <= 1e-4) near++;
					}
			long truthCount = 5L * 15 * 15;
			double expected = 2.0 * both / (pred + truthCount);
			assertTrue(pred > 0, "the U-Net finds the phantom's nodule");
			assertEquals(expected, s.dice(), 2.0 * near / (pred + truthCount) + 1e-12);
			assertEquals(truthCount * 0.7 * 0.7 * 1.25, s.cluster().consensusVolumeMm3(), 1e-6);
			assertEquals(pred * 0.7 * 0.7 * 1.25, s.unetVolumeMm3(), near * 0.7 * 0.7 * 1.25 + 1e-6);
		}
	}

	@Test
	void commandWritesTheTableAndRefusesMissingInputs() throws IOException {
		Path ctFile = SharedData.require(PHANTOM + "phantom-a.mhd"), seg = SharedData.require(SEG), xml = readings();
		Path out = dir.resolve("out");
		LunaCliTest.Outcome o = LunaCliTest.luna("evaluate", "mode=segmentation", "input=" + ctFile, "readings=" + xml, "seg_model=" + seg,
			"output=" + out, "device=cpu");
		assertEquals(0, o.code(), o.err());
		List<String> lines = Files.readAllLines(out.resolve("segmentation.csv"));
		assertEquals(LidcSegmentationEvaluation.CSV_HEADER, lines.get(0));
		assertEquals(2, lines.size());
		String[] f = lines.get(1).split(",");
		assertEquals("phantom-a", f[0]);
		assertEquals("2", f[2]); // two readers
		assertEquals("32", f[7]);
		assertEquals("44", f[8]);
		double dice = Double.parseDouble(f[9]);
		assertTrue(dice > 0 && dice <= 1, lines.get(1));
		assertTrue(Files.readString(out.resolve("report.txt")).contains("Dice"));

		// No U-Net given and none fetched (an empty models folder): refused, never the demo U-Net.
		LunaCliTest.Outcome noModel = LunaCliTest.luna("evaluate", "mode=segmentation", "input=" + ctFile, "readings=" + xml, "output=" + out);
		assertEquals(LunaCli.BAD_ARGUMENTS, noModel.code(), noModel.err());
		assertTrue(noModel.err().contains("seg_model=") && noModel.err().contains("fetch-models") && noModel.err().contains("synthetic"),
			noModel.err());
		LunaCliTest.Outcome noXml = LunaCliTest.luna("evaluate", "mode=segmentation", "input=" + ctFile, "seg_model=" + seg, "output=" + out);
		assertTrue(noXml.code() != 0 && noXml.err().contains("readings="), noXml.err());
		Path wrong = new LidcXml().reader("R").nodule("n", 3).square(100, true, 1, 1, 5, 5).write(dir.resolve("wrong.xml"));
		LunaCliTest.Outcome off = LunaCliTest.luna("evaluate", "mode=segmentation", "input=" + ctFile, "readings=" + wrong, "seg_model=" + seg,
			"output=" + out, "device=cpu");
		assertTrue(off.code() != 0 && off.err().contains("wrong.xml") && off.err().contains("roi 1"), off.err());
	}
}
