package org.lungnodules.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.lungnodules.Progress;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.analysis.LidcConsensus.Mask;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.LidcReadings;

/**
 * How well the U-Net's mask (probability &gt; the segmentation threshold) matches the radiologists'
 * consensus, nodule by nodule: Dice, volume and longest axial diameter.
 * <p>
 * Volumes and diameters are reported for the U-Net's voxels in the box, and for its parts that touch
 * the consensus (see {@link NoduleScore}).
 * <p>
 * Each nodule is judged inside its <b>box</b>: the bounding box of all its readers' masks grown
 * by {@link #MARGIN_MM} (5 mm) on every side, at least one voxel, clipped to the CT. The margin
 * lets over-segmentation next to the nodule count against Dice and volume, while the U-Net's marks
 * elsewhere in the lungs (other nodules, vessels) do not: those are the detector's business
 * (FROC), not the segmentation's.
 * <p>
 * Only the slices of the boxes are segmented ({@link CtAnalysis#segmentSlices}): each slice's
 * probability depends on its own 7-slice context only, so it is the same as in a whole-CT run.
 * <p>
 * Everything here is computed on the CT in LUNA16's orientation ({@link Reorientation}), the volume
 * the U-Net sees, so {@code slice_first}/{@code slice_last} and the boxes count axial slices from
 * inferior to superior: the CT's own slices when it is stored so (LUNA16, DICOM series, dcm2niix's
 * NIfTI files), not those of a CT stored in coronal or sagittal planes or with z reversed.
 */
public final class LidcSegmentationEvaluation {

	/** The box margin around the readers' masks. */
	public static final double MARGIN_MM = 5.0;

	public static final String CSV_HEADER = "seriesuid,nodule,readers,coordX,coordY,coordZ,mal_bool,slice_first,slice_last,dice," +
		"volume_unet_mm3,volume_unet_touching_mm3,volume_consensus_mm3,volume_readers_mm3,diameter_unet_mm,diameter_consensus_mm,diameter_readers_mm";

	/**
	 * One nodule's scores. Dice and {@code unetVolumeMm3} count every U-Net voxel in the box;
	 * {@code touchingVolumeMm3} and {@code unetDiameterMm} only the U-Net's connected parts
	 * (6-connected, within the box) that touch the consensus, which is the U-Net's nodule without
	 * unrelated marks that happen to fall into the box. Reader arrays are in the cluster's reader order.
	 */
	public record NoduleScore(int nodule, Cluster cluster, int[] boxStart, int[] boxSize, double dice, double unetVolumeMm3,
		double touchingVolumeMm3, double unetDiameterMm) {}

	public record Result(String seriesUid, List<NoduleScore> scores, int segmentedSlices, int totalSlices, double threshold,
		List<String> warnings) {

		/** Mean Dice over the nodules (NaN when there are none). */
		public double meanDice() {
			return scores.stream().mapToDouble(NoduleScore::dice).average().orElse(Double.NaN);
		}
	}

	private LidcSegmentationEvaluation() {}

	/**
	 * Scores the U-Net of {@code analysis} against the readings' consensus nodules on {@code ct}.
	 *
	 * @throws LidcReadings.LidcException if the readings do not fit the CT (a contour off every slice)
	 */
	public static Result evaluate(CtAnalysis analysis, CtVolume input, LidcReadings readings, Progress progress) throws IOException {
		Progress p = progress == null ? Progress.NONE : progress;
		CtVolume ct = Reorientation.of(input).canonical();
		Geometry g = ct.geometry();
		int[] shape = ct.shapeIrc();
		LidcConsensus.Result clusters = LidcConsensus.of(readings, g, shape, LidcConsensus.Settings.defaults());
		List<String> warnings = new ArrayList<>(clusters.warnings());
		if (!readings.seriesUid().isEmpty() && !ct.seriesUid().isEmpty() && !readings.seriesUid().equals(ct.seriesUid()))
			warnings.add("The readings are of series " + readings.seriesUid() + " but the CT is " + ct.seriesUid());
		double threshold = analysis.settings().segmentationThreshold();

		// Slices to segment: the union of the boxes' slice ranges, as contiguous runs.
		List<int[][]> boxes = new ArrayList<>();
		boolean[] wanted = new boolean[shape[0]];
		for (Cluster c : clusters.clusters()) {
			int[][] box = c.grownBox(g, shape, MARGIN_MM);
			boxes.add(box);
			for (int z = box[0][0]; z < box[0][0] + box[1][0]; z++) wanted[z] = true;
		}
		float[][] planes = new float[shape[0]][];
		int plane = shape[1] * shape[2], segmented = 0;
		for (int z = 0; z < shape[0]; z++) {
			if (!wanted[z]) continue;
			int end = z;
			while (end + 1 < shape[0] && wanted[end + 1]) end++;
			float[] prob = analysis.segmentSlices(ct, z, end, p);
			for (int k = z; k <= end; k++) planes[k] = Arrays.copyOfRange(prob, (k - z) * plane, (k - z + 1) * plane);
			segmented += end - z + 1;
			z = end;
		}
		warnings.addAll(analysis.warnings());

		List<NoduleScore> scores = new ArrayList<>();
		for (int i = 0; i < boxes.size(); i++) {
			Cluster c = clusters.clusters().get(i);
			int[] start = boxes.get(i)[0], size = boxes.get(i)[1];
			boolean[] unet = new boolean[size[0] * size[1] * size[2]];
			long both = 0, predicted = 0, truth = 0;
			for (int a = 0; a < size[0]; a++)
				for (int r = 0; r < size[1]; r++)
					for (int q = 0; q < size[2]; q++) {
						int z = start[0] + a, y = start[1] + r, x = start[2] + q;
						boolean pr = planes[z][y * shape[2] + x] > threshold;
						boolean tr = c.consensus().contains(z, y, x);
						unet[(a * size[1] + r) * size[2] + q] = pr;
						if (pr) predicted++;
						if (tr) truth++;
						if (pr && tr) both++;
					}
			double dice = predicted + truth == 0 ? 1.0 : 2.0 * both / (predicted + truth);
			Mask unetMask = Mask.of(start, size, unet);
			Mask touching = Mask.of(start, size, touching(unet, size, start, c.consensus()));
			scores.add(new NoduleScore(i + 1, c, start, size, dice, unetMask.volumeMm3(g), touching.volumeMm3(g),
				touching.longestAxialDiameterMm(g)));
		}
		return new Result(ct.seriesUid(), List.copyOf(scores), segmented, shape[0], threshold, List.copyOf(warnings));
	}

	/** The voxels of {@code mask} (box C order) 6-connected to a voxel that is also in {@code consensus}. */
	static boolean[] touching(boolean[] mask, int[] size, int[] start, Mask consensus) {
		boolean[] out = new boolean[mask.length];
		int plane = size[1] * size[2];
		java.util.ArrayDeque<Integer> queue = new java.util.ArrayDeque<>();
		for (int i = 0; i < mask.length; i++)
			if (mask[i] && consensus.contains(start[0] + i / plane, start[1] + (i / size[2]) % size[1], start[2] + i % size[2])) {
				out[i] = true;
				queue.add(i);
			}
		while (!queue.isEmpty()) {
			int i = queue.poll();
			int z = i / plane, y = (i / size[2]) % size[1], x = i % size[2];
			int[][] steps = { { -1, 0, 0 }, { 1, 0, 0 }, { 0, -1, 0 }, { 0, 1, 0 }, { 0, 0, -1 }, { 0, 0, 1 } };
			for (int[] d : steps) {
				int zz = z + d[0], yy = y + d[1], xx = x + d[2];
				if (zz < 0 || yy < 0 || xx < 0 || zz >= size[0] || yy >= size[1] || xx >= size[2]) continue;
				int j = (zz * size[1] + yy) * size[2] + xx;
				if (mask[j] && !out[j]) {
					out[j] = true;
					queue.add(j);
				}
			}
		}
		return out;
	}

	/** Writes the per-nodule CSV ({@link #CSV_HEADER}) atomically. */
	public static void writeCsv(Path file, Result r) throws IOException {
		AtomicFiles.writeText(file, w -> {
			w.write(CSV_HEADER + "\n");
			for (NoduleScore s : r.scores()) {
				Cluster c = s.cluster();
				w.write(String.format(Locale.ROOT, "%s,%d,%d,%.3f,%.3f,%.3f,%s,%d,%d,%.4f,%.1f,%.1f,%.1f,%s,%.2f,%.2f,%s%n", r.seriesUid(), s.nodule(),
					c.readers(), c.centre()[0], c.centre()[1], c.centre()[2], c.malignant() ? "True" : "False", s.boxStart()[0],
					s.boxStart()[0] + s.boxSize()[0] - 1, s.dice(), s.unetVolumeMm3(), s.touchingVolumeMm3(), c.consensusVolumeMm3(),
					join(c.readerVolumesMm3(), "%.1f"),
					s.unetDiameterMm(), c.consensusDiameterMm(), join(c.readerDiametersMm(), "%.2f")));
			}
		});
	}

	/** The one-page text summary. */
	public static String report(Result r) {
		StringBuilder s = new StringBuilder();
		s.append(String.format(Locale.ROOT, "U-Net segmentation against the LIDC readers' consensus (>= 50%% agreement), series %s%n", r.seriesUid()));
		s.append(String.format(Locale.ROOT, "mask = probability > %s; %d of %d slices segmented; box = readers' masks + %.0f mm%n", r.threshold(),
			r.segmentedSlices(), r.totalSlices(), MARGIN_MM));
		if (r.scores().isEmpty()) s.append("No contoured nodule (3 mm or more) in the readings: nothing to score.\n");
		for (NoduleScore n : r.scores()) {
			Cluster c = n.cluster();
			s.append(String.format(Locale.ROOT,
				"Nodule %d (%d reader(s)) at %.1f, %.1f, %.1f mm: Dice %.3f; volume U-Net %.0f mm3 in the box (%.0f touching the consensus), " +
					"consensus %.0f, readers %s; longest axial diameter U-Net %.1f mm, consensus %.1f, readers %s%n",
				n.nodule(), c.readers(), c.centre()[0], c.centre()[1], c.centre()[2], n.dice(), n.unetVolumeMm3(), n.touchingVolumeMm3(),
				c.consensusVolumeMm3(),
				join(c.readerVolumesMm3(), "%.0f"), n.unetDiameterMm(), c.consensusDiameterMm(), join(c.readerDiametersMm(), "%.1f")));
		}
		if (!r.scores().isEmpty()) s.append(String.format(Locale.ROOT, "Mean Dice: %.3f%n", r.meanDice()));
		for (String w : r.warnings()) s.append("Warning: ").append(w).append('\n');
		return s.toString();
	}

	private static String join(double[] v, String format) {
		StringBuilder b = new StringBuilder();
		for (double d : v) b.append(b.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, format, d));
		return b.toString();
	}
}
