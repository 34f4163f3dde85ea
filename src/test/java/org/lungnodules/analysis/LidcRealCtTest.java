package org.lungnodules.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;

import org.junit.jupiter.api.Test;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * The U-Net against the four radiologists on LIDC-IDRI-0001. The truth of the U-Net's side is
 * PyTorch's probability on slices 82-97 ({@code seg-probability-z82-97.mhd}), which covers the
 * nodule's box; the consensus comes from the XML on summary.json's geometry.
 */
class LidcRealCtTest {

	static final String DIR = "real/LIDC-IDRI-0001/";
	static final String SEG = "models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";
	static final int FIRST = 82, LAST = 97;

	/** Dice, predicted voxels and near-threshold voxels of PyTorch's mask in the nodule's box. */
	static double[] referenceDice(Cluster c, Geometry g, int[] shape) throws IOException {
		@SuppressWarnings("unchecked")
		RandomAccessibleInterval<? extends RealType<?>> ref = (RandomAccessibleInterval<? extends RealType<?>>) MetaImage
			.read(SharedData.require(DIR + "seg-probability-z82-97.mhd")).image();
		RandomAccess<? extends RealType<?>> ra = ref.randomAccess();
		int[][] box = c.grownBox(g, shape, LidcSegmentationEvaluation.MARGIN_MM);
		assertTrue(box[0][0] >= FIRST && box[0][0] + box[1][0] - 1 <= LAST, "box slices " + Arrays.toString(box[0]) + Arrays.toString(box[1]));
		long both = 0, pred = 0, near = 0, truth = c.consensus().count();
		boolean[] unet = new boolean[box[1][0] * box[1][1] * box[1][2]];
		int i = 0;
		for (int z = box[0][0]; z < box[0][0] + box[1][0]; z++)
			for (int y = box[0][1]; y < box[0][1] + box[1][1]; y++)
				for (int x = box[0][2]; x < box[0][2] + box[1][2]; x++) {
					ra.setPosition(new long[] { x, y, z - FIRST });
					float v = ra.get().getRealFloat();
					unet[i++] = v > 0.5f;
					if (v > 0.5f) {
						pred++;
						if (c.consensus().contains(z, y, x)) both++;
					}
					if (Math.abs(v - 0.5f) <= 1e-4) near++;
				}
		boolean[] touching = LidcSegmentationEvaluation.touching(unet, box[1], box[0], c.consensus());
		LidcConsensus.Mask part = LidcConsensus.Mask.of(box[0], box[1], touching);
		return new double[] { 2.0 * both / (pred + truth), pred, near, truth, part.longestAxialDiameterMm(g), part.count() };
	}

	/** The figure for docs/lidc-readings.md, from PyTorch's probability (no DICOM reader needed). */
	@Test
	void referenceFigure() throws IOException {
		Object[] gs = LidcConsensusTest.summaryGeometry();
		Geometry g = (Geometry) gs[0];
		int[] shape = (int[]) gs[1];
		LidcConsensus.Result r = LidcConsensus.of(LidcReadings.read(SharedData.require(DIR + "reader-annotations.xml")), g, shape,
			LidcConsensus.Settings.defaults());
		Cluster c = r.clusters().get(0);
		double[] d = referenceDice(c, g, shape);
		double voxel = 0.703125 * 0.703125 * 2.5;
		System.out.printf("LIDC-IDRI-0001 (PyTorch probability): Dice %.4f, U-Net %.0f mm3, consensus %.0f mm3, readers %s, near %d; " +
			"U-Net touching %.0f mm3, diameter %.2f; consensus %.2f readers %s%n", d[0], d[1] * voxel, c.consensusVolumeMm3(), Arrays.toString(c.readerVolumesMm3()),
			(long) d[2], d[5] * voxel, d[4], c.consensusDiameterMm(), Arrays.toString(c.readerDiametersMm()));
		assertEquals(d[3] * voxel, c.consensusVolumeMm3(), 1e-6);
		// The book's U-Net finds this nodule (candidates-expected.csv: p = 1.0), so its mask overlaps the readers'.
		assertTrue(d[0] > 0.3 && d[0] <= 1, "Dice " + d[0]);
	}

	/**
	 * The engine on the DICOM series, read through CtReader: the same Dice as PyTorch's probability
	 * gives, with only the boxes' slices segmented.
	 */
	@Test
	void dicomSeriesGivesTheReferenceDice() throws IOException {
		Path dicom = SharedData.require(DIR + "dicom");
		CtVolume ct = CtReader.read(dicom).volume();
		Inference.Builder b = Inference.builder().device("cpu");
		ModelFiles.addTo(b, Networks.Kind.SEG, SharedData.require(SEG));
		try (Inference inference = b.build()) {
			LidcSegmentationEvaluation.Result r = LidcSegmentationEvaluation.evaluate(new CtAnalysis(inference, CtAnalysis.Settings.defaults()),
				ct, LidcReadings.read(SharedData.require(DIR + "reader-annotations.xml")), Progress.NONE);
			System.out.print(LidcSegmentationEvaluation.report(r));
			assertEquals(1, r.scores().size());
			LidcSegmentationEvaluation.NoduleScore s = r.scores().get(0);
			assertEquals(4, s.cluster().readers());
			double[] d = referenceDice(s.cluster(), ct.geometry(), ct.shapeIrc());
			assertEquals(d[0], s.dice(), 2 * d[2] / (d[1] + d[3]) + 1e-12);
			assertEquals(d[1] * ct.geometry().spacing()[0] * ct.geometry().spacing()[1] * ct.geometry().spacing()[2], s.unetVolumeMm3(),
				d[2] * 2.5 + 1e-6);
			assertTrue(r.segmentedSlices() < 20, "segmented " + r.segmentedSlices() + " slices");
		}
	}
}
