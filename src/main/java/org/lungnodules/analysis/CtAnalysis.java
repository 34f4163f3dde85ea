package org.lungnodules.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import net.imglib2.Cursor;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.lungnodules.Progress;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.NoduleClassifier;

/**
 * The end-to-end analysis of one CT by the published recipe: segment every slice with the U-Net,
 * group the mask into components, classify each component's chunk, optionally score malignancy.
 * <p>
 * <b>Segmentation.</b> The input of slice z is slices z−3..z+3 (indices clamped to the volume), HU
 * clamped to [−1000, 1000], in batches of {@link Settings#batchSlices()} slices. Each slice is
 * converted once into a small ring of clamped slices that consecutive batches share. The U-Net needs
 * heights and widths that are multiples of 4: other sizes are padded at the bottom and right with
 * −1000 HU (air) and the padding is cut from the output. (The reference CTs are 256² or 512², so no
 * padding happens there; near a padded edge results are those of a CT surrounded by air.)
 * <p>
 * <b>Fast mode</b> ({@link Settings#fast()}, off by default) runs the U-Net only where the lungs
 * are: on slices that contain air enclosed by the body (widened by {@value #FAST_SLICE_MARGIN}
 * slices on each side), each slice cut to one box per lung (or one for both when the mediastinum
 * between them is narrow) around the enclosed air of the nearby slices, plus
 * {@value #FAST_PIXEL_MARGIN} pixels (more than the U-Net's reach, aligned to its pooling grid).
 * Slices and pixels it skips get probability 0. Inside the lungs the probabilities equal the
 * recipe's up to float rounding, so the same nodules are found there; outside (chest wall, spine,
 * abdomen, shoulders, air) the output differs (0 instead of the U-Net's values), so components
 * there are not found or are cut. On LIDC-IDRI-0001 it segments 42 % of the pixels. It uses
 * PyTorch's default memory layout like the recipe: with glibc's heaps kept
 * ({@code nn.EngineEnvironment}) that runs the U-Net at 75–83 GFLOP/s against 44–52 for channels-last.
 * <p>
 * <b>Orientation.</b> The networks always see the CT in LUNA16's orientation (axial slices, voxel x
 * toward the patient's left, y toward posterior, z toward superior), whatever order its file stores
 * the voxels in: every public method here takes the CT as it was read, reorients it exactly
 * ({@link Reorientation}: axes permuted and flipped, no interpolation; refused beyond 30° of
 * obliquity) and gives its answers back on the input's grid: voxel positions (index, row, col),
 * probability and label volumes refer to the image as the user opened it, world coordinates are the
 * same either way. Component labels are numbered in the canonical volume's scan order, so a CT gets
 * the same components, labels and probabilities however its file stores it. This is the one place
 * where the analysis takes a CT; training takes its CTs through {@code training.LoadedCt}, which
 * reorients the same way.
 * <p>
 * <b>Threads.</b> One analysis at a time per instance; the {@link Inference} it uses serializes its
 * own calls anyway.
 */
public final class CtAnalysis {

	/** Context slices on each side of the segmented slice. */
	public static final int CONTEXT = 3;
	public static final String SEGMENTING = "Segmenting", GROUPING = "Grouping", CLASSIFYING = "Classifying",
		SCORING_MALIGNANCY = "Scoring malignancy";
	/** Chunk size (index, row, col) the classifiers take. */
	public static final int[] CHUNK = { NoduleClassifier.DEPTH, NoduleClassifier.HEIGHT, NoduleClassifier.WIDTH };

	/** Lung-like air is at least this dense (air around the patient is about −1000 HU). */
	static final float LUNG_LOW = -950;
	/** Above this, a voxel is body (soft tissue or denser); below, air. */
	static final float BODY_HU = -500;
	/** Slices whose enclosed air covers less than this fraction of their pixels are skipped in fast mode. */
	static final double MIN_LUNG_FRACTION = 0.001;
	/**
	 * More lung-like air than this fraction of a slice connected to the image border means the
	 * lungs reach the border; the skin's blurred edge alone is about 0.5 % of a 512² slice.
	 */
	static final double LUNG_CUT_FRACTION = 0.03;
	/** Lungs count as cut by the field of view only if body also covers this fraction of one image side. */
	static final double CUT_SIDE_FRACTION = 0.2;
	/**
	 * Pockets of enclosed air smaller than this fraction of a slice (131 pixels of 512², about 65 mm² at
	 * 0.7 mm) are not lung for the fast mode's boxes.
	 */
	static final double MIN_POCKET_FRACTION = 0.0005;
	/**
	 * Extra slices kept on each side of the lung slices, and pixels around the box of the enclosed
	 * air. The U-Net sees 20 pixels to each side (two 3×3 convs at each of three scales: 2 + 4 + 8 +
	 * 4 + 2) plus at most 3 of pooling alignment, so with 32 pixels of margin its output on the air
	 * and 8 pixels beyond equals the recipe's.
	 */
	static final int FAST_SLICE_MARGIN = 2 * CONTEXT, FAST_PIXEL_MARGIN = 32;
	/**
	 * Columns without enclosed air that split a fast-mode slice into two boxes: more than both boxes'
	 * margins, so that the boxes do not overlap, plus 16 columns saved at least.
	 */
	static final int FAST_SPLIT_GAP = 2 * FAST_PIXEL_MARGIN + 16;
	/** Fast-mode box sides are rounded up to multiples of this, so that few shapes reach the network. */
	static final int FAST_BOX_QUANTUM = 16;
	/** A fast-mode slice's box holds the enclosed air of the lung slices this close to it. */
	static final int FAST_BOX_SLICES = CONTEXT;
	private static final int CHUNKS_PER_CALL = 16;

	/**
	 * Analysis settings.
	 *
	 * @param segmentationThreshold mask = probability &gt; this (0.5)
	 * @param malignancyThreshold malignancy is scored for candidates with p_nodule &ge; this (0.5)
	 * @param batchSlices U-Net slices per batch (8, the published value)
	 * @param fast the optional faster segmentation (see the class comment); off by default
	 * @param keepVolumes keep the probability and label volumes in the result
	 * @param mirror also classify each chunk's in-plane mirror images and average the probabilities (off in
	 *        the published recipe; see {@link #classify})
	 */
	public record Settings(double segmentationThreshold, double malignancyThreshold, int batchSlices, boolean fast,
		boolean keepVolumes, boolean mirror) {

		public Settings {
			if (!(segmentationThreshold >= 0 && segmentationThreshold < 1))
				throw new IllegalArgumentException("Segmentation threshold must be in [0, 1): " + segmentationThreshold);
			if (!(malignancyThreshold >= 0 && malignancyThreshold <= 1))
				throw new IllegalArgumentException("Malignancy threshold must be in [0, 1]: " + malignancyThreshold);
			if (batchSlices < 1 || batchSlices > 1024) throw new IllegalArgumentException("Batch size must be 1..1024: " + batchSlices);
		}

		/** The published recipe: 0.5, 0.5, batches of 8, not fast, volumes kept, one view per chunk. */
		public static Settings defaults() { return new Settings(0.5, 0.5, 8, false, true, false); }

		/** Fast mode with larger batches. */
		public Settings withFast(boolean on) {
			return new Settings(segmentationThreshold, malignancyThreshold, on && batchSlices == 8 ? 16 : batchSlices, on, keepVolumes, mirror);
		}

		public Settings withKeepVolumes(boolean keep) {
			return new Settings(segmentationThreshold, malignancyThreshold, batchSlices, fast, keep, mirror);
		}

		public Settings withBatchSlices(int n) {
			return new Settings(segmentationThreshold, malignancyThreshold, n, fast, keepVolumes, mirror);
		}

		public Settings withThresholds(double segmentation, double malignancy) {
			return new Settings(segmentation, malignancy, batchSlices, fast, keepVolumes, mirror);
		}

		public Settings withMirror(boolean on) {
			return new Settings(segmentationThreshold, malignancyThreshold, batchSlices, fast, keepVolumes, on);
		}
	}

	private final Inference inference;
	private final Settings settings;
	private final List<String> warnings = new ArrayList<>();
	private long segmentedPixels;

	/** @param inference must hold the SEG and CLS networks; MAL is optional */
	public CtAnalysis(Inference inference, Settings settings) {
		this.inference = Objects.requireNonNull(inference, "inference");
		this.settings = settings == null ? Settings.defaults() : settings;
	}

	public Settings settings() { return settings; }

	/**
	 * Runs all stages on {@code input}, reoriented (see the class comment); the result is on the
	 * input's grid.
	 *
	 * @throws IllegalArgumentException if the CT is smaller than a classifier chunk (32×48×48) or too
	 *         large for one Java array, before any network runs
	 * @throws Reorientation.Refused if the CT is stored more than 30° off the patient axes
	 * @throws IllegalStateException if the segmentation or classifier network is missing
	 * @throws Progress.Canceled if {@code progress} asks to stop
	 */
	public AnalysisResult analyze(CtVolume input, Progress progress) {
		Progress p = progress == null ? Progress.NONE : progress;
		Reorientation orientation = Reorientation.of(input);
		CtVolume ct = orientation.canonical();
		checkShape(ct);
		if (!inference.hasNetwork(Networks.Kind.CLS))
			throw new IllegalStateException("The analysis needs the nodule classifier, but none was loaded");
		warnings.clear();
		Map<String, Double> seconds = new LinkedHashMap<>();

		long t0 = System.nanoTime();
		float[] probability = segmentCanonical(ct, p);
		long t1 = System.nanoTime();
		seconds.put(SEGMENTING, (t1 - t0) / 1e9);

		p.report(GROUPING, 0);
		byte[] eroded = Grouping.thresholdAndErode(probability, ct.shapeIrc(), settings.segmentationThreshold());
		// Not kept, the probability (4 bytes a voxel) goes before the labels (4 more) are made: on a 512×512×700
		// CT that is 0.73 GB less at the peak.
		if (!settings.keepVolumes()) probability = null;
		p.checkCanceled();
		Grouping.Labels labels = Grouping.label(eroded, ct.shapeIrc());
		eroded = null;
		List<Candidate> candidates = describe(ct, labels, p);
		p.report(GROUPING, 1);
		long t2 = System.nanoTime();
		seconds.put(GROUPING, (t2 - t1) / 1e9);

		candidates = classifyCanonical(ct, candidates, p);
		long t3 = System.nanoTime();
		seconds.put(CLASSIFYING, (t3 - t2) / 1e9);

		boolean malignancy = inference.hasNetwork(Networks.Kind.MAL);
		if (malignancy) {
			candidates = scoreCanonical(ct, candidates, p);
			seconds.put(SCORING_MALIGNANCY, (System.nanoTime() - t3) / 1e9);
		}
		boolean keep = settings.keepVolumes();
		List<Candidate> onInput = new ArrayList<>(candidates.size());
		for (Candidate c : candidates) onInput.add(toInput(orientation, c));
		return new AnalysisResult(input.seriesUid(), input.geometry(), input.shapeIrc(), onInput, keep ? orientation.toInput(probability) : null,
			keep ? orientation.toInput(labels.labels()) : null, malignancy, warnings, seconds);
	}

	/**
	 * The segment and group stages only: the components of the U-Net's mask, as {@link #analyze}
	 * finds them (centres, world positions, sizes), without classifying them; the book's candidate
	 * generation for training a classifier. Positions are on the input's grid. Needs only the
	 * segmentation network.
	 *
	 * @throws Reorientation.Refused if the CT is stored more than 30° off the patient axes
	 */
	public List<Candidate> components(CtVolume input, Progress progress) {
		Progress p = progress == null ? Progress.NONE : progress;
		Reorientation orientation = Reorientation.of(input);
		CtVolume ct = orientation.canonical();
		checkShape(ct);
		warnings.clear();
		float[] probability = segmentCanonical(ct, p);
		p.report(GROUPING, 0);
		byte[] eroded = Grouping.thresholdAndErode(probability, ct.shapeIrc(), settings.segmentationThreshold());
		probability = null; // as in analyze: gone before the labels are made
		p.checkCanceled();
		Grouping.Labels labels = Grouping.label(eroded, ct.shapeIrc());
		eroded = null;
		List<Candidate> candidates = describe(ct, labels, p);
		p.report(GROUPING, 1);
		List<Candidate> onInput = new ArrayList<>(candidates.size());
		for (Candidate c : candidates) onInput.add(toInput(orientation, c));
		return onInput;
	}

	/** A candidate found on the canonical volume, with its voxel position on the input's grid (world position and scores kept). */
	private static Candidate toInput(Reorientation r, Candidate c) {
		if (r.isIdentity()) return c;
		double[] irc = r.toInputIrc(c.index(), c.row(), c.col());
		return new Candidate(c.label(), irc[0], irc[1], irc[2], c.x(), c.y(), c.z(), c.voxels(), c.diameterMm(), c.probability(),
			c.logitNonNodule(), c.logitNodule(), c.pMalignant());
	}

	/** Input candidates with their voxel positions on the canonical grid, to crop chunks there. */
	private static List<Candidate> toCanonical(Reorientation r, List<Candidate> candidates) {
		if (r.isIdentity()) return candidates;
		List<Candidate> out = new ArrayList<>(candidates.size());
		for (Candidate c : candidates) {
			double[] irc = r.toCanonicalIrc(c.index(), c.row(), c.col());
			out.add(new Candidate(c.label(), irc[0], irc[1], irc[2], c.x(), c.y(), c.z(), c.voxels(), c.diameterMm(), c.probability(),
				c.logitNonNodule(), c.logitNodule(), c.pMalignant()));
		}
		return out;
	}

	/**
	 * Refuses CTs the recipe cannot analyze, with a message naming the series and the sizes (of the CT
	 * in LUNA16's orientation, which the networks see).
	 *
	 * @throws Reorientation.Refused if the CT is stored more than 30° off the patient axes
	 */
	public static void checkUsable(CtVolume ct) {
		checkShape(Reorientation.of(ct).canonical());
	}

	private static void checkShape(CtVolume ct) {
		int[] shape = ct.shapeIrc();
		String[] axes = { "slices (z)", "rows (y)", "columns (x)" };
		for (int a = 0; a < 3; a++)
			if (shape[a] < CHUNK[a])
				throw new IllegalArgumentException("The CT " + name(ct) + " is " + shape[0] + "×" + shape[1] + "×" + shape[2] +
					" (z×y×x) voxels: it has " + shape[a] + " " + axes[a] + ", fewer than the " + CHUNK[a] +
					" of a classifier chunk (32×48×48), so it cannot be analyzed");
		long voxels = (long) shape[0] * shape[1] * shape[2];
		if (voxels > Integer.MAX_VALUE - 8)
			throw new IllegalArgumentException("The CT " + name(ct) + " has " + voxels + " voxels, more than one analysis can hold (" +
				(Integer.MAX_VALUE - 8) + ")");
	}

	private static String name(CtVolume ct) {
		return ct.seriesUid().isEmpty() ? "(unnamed)" : ct.seriesUid();
	}

	// ---------------------------------------------------------------- segmentation

	/**
	 * The U-Net probability of every voxel, C order (index, row, col) on the input's grid; the U-Net
	 * runs on the axial slices of the reoriented CT.
	 *
	 * @throws Reorientation.Refused if the CT is stored more than 30° off the patient axes
	 * @throws Progress.Canceled if {@code progress} asks to stop (checked between batches)
	 */
	public float[] segment(CtVolume input, Progress progress) {
		Reorientation r = Reorientation.of(input);
		return r.toInput(segmentCanonical(r.canonical(), progress));
	}

	private float[] segmentCanonical(CtVolume ct, Progress progress) {
		Progress p = progress == null ? Progress.NONE : progress;
		int d = ct.depth(), h = ct.height(), w = ct.width();
		long voxels = (long) d * h * w;
		if (voxels > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("The CT " + name(ct) + " is too large: " + voxels + " voxels");
		p.report(SEGMENTING, 0);
		int batch = settings.batchSlices();
		List<Box> boxes = settings.fast() ? fastBoxes(ct, batch, p) : wholeSlices(0, d, h, w, batch);
		float[] out = new float[(int) voxels];
		segmentBoxes(ct, boxes, out, 0, p);
		return out;
	}

	/**
	 * The U-Net probability of axial slices {@code zFrom..zTo} (inclusive) only, C order, slice
	 * {@code zFrom} first, <b>on the CT in LUNA16's orientation</b> ({@link Reorientation#canonical()}:
	 * slice numbers count from inferior to superior; for a CT stored so, as LUNA16's and most DICOM
	 * series are, that is its own grid). The recipe segments each slice from its own 7-slice context,
	 * so these values equal the same slices of the canonical volume's whole segmentation in the default
	 * mode, at a fraction of its cost (fast mode's lung boxes are not used here).
	 *
	 * @throws Reorientation.Refused if the CT is stored more than 30° off the patient axes
	 */
	public float[] segmentSlices(CtVolume input, int zFrom, int zTo, Progress progress) {
		CtVolume ct = Reorientation.of(input).canonical();
		Progress p = progress == null ? Progress.NONE : progress;
		int d = ct.depth(), h = ct.height(), w = ct.width();
		if (zFrom < 0 || zTo >= d || zFrom > zTo)
			throw new IllegalArgumentException("Slices " + zFrom + ".." + zTo + " are not a range inside the CT's 0.." + (d - 1));
		long voxels = (long) (zTo - zFrom + 1) * h * w;
		if (voxels > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("Too many voxels for one array: " + voxels);
		p.report(SEGMENTING, 0);
		float[] out = new float[(int) voxels];
		segmentBoxes(ct, wholeSlices(zFrom, zTo + 1, h, w, settings.batchSlices()), out, zFrom, p);
		return out;
	}

	/**
	 * Runs the U-Net over the boxes; slice z goes to {@code out} at plane z - zBase. Consecutive boxes whose
	 * slices span fewer than a batch go to the network in one call, so that its streams share them (fast
	 * mode's boxes hold one slice each, and a slice may have one box per lung).
	 */
	private void segmentBoxes(CtVolume ct, List<Box> boxes, float[] out, int zBase, Progress p) {
		int d = ct.depth(), h = ct.height(), w = ct.width();
		int batch = settings.batchSlices();
		SliceRing ring = new SliceRing(ct, batch + 2 * CONTEXT);
		List<float[]> buffers = new ArrayList<>();
		segmentedPixels = 0;
		for (int i = 0; i < boxes.size();) {
			p.checkCanceled();
			int first = boxes.get(i).slices[0], j = i + 1;
			while (j < boxes.size() && last(boxes.get(j)) - first < batch) j++;
			List<Inference.SegInput> inputs = new ArrayList<>(j - i);
			for (int k = i; k < j; k++) {
				Box box = boxes.get(k);
				int y0 = box.y0, x0 = box.x0, bh = box.height, bw = box.width, n = box.slices.length;
				// Multiples of 4 for the two 2×2 poolings; the extra rows and columns are air.
				int ph = (bh + 3) / 4 * 4, pw = (bw + 3) / 4 * 4, planeIn = ph * pw;
				int size = n * SEG_CHANNELS * planeIn;
				if (buffers.size() <= k - i) buffers.add(new float[0]);
				float[] input = buffers.get(k - i);
				if (input.length < size) buffers.set(k - i, input = new float[size]);
				if (ph != bh || pw != bw) Arrays.fill(input, 0, size, CtVolume.HU_MIN);
				for (int s = 0; s < n; s++) {
					int z = box.slices[s];
					for (int c = 0; c < SEG_CHANNELS; c++) {
						float[] slice = ring.get(Math.max(0, Math.min(d - 1, z - CONTEXT + c)));
						int dst = (s * SEG_CHANNELS + c) * planeIn;
						for (int y = 0; y < bh; y++) System.arraycopy(slice, (y0 + y) * w + x0, input, dst + y * pw, bw);
					}
				}
				inputs.add(new Inference.SegInput(input, n, ph, pw));
				segmentedPixels += (long) n * planeIn;
			}
			List<float[]> results = inference.segment(inputs);
			for (int k = i; k < j; k++) {
				Box box = boxes.get(k);
				float[] result = results.get(k - i);
				int pw = inputs.get(k - i).w(), planeIn = inputs.get(k - i).h() * pw;
				for (int s = 0; s < box.slices.length; s++) {
					int z = box.slices[s];
					for (int y = 0; y < box.height; y++)
						System.arraycopy(result, s * planeIn + y * pw, out, ((z - zBase) * h + box.y0 + y) * w + box.x0, box.width);
				}
			}
			p.report(SEGMENTING, j / (double) boxes.size());
			i = j;
		}
		if (ring.nanCount > 0)
			warnings.add("The CT " + name(ct) + " has " + ring.nanCount + " NaN voxel(s) among the segmented slices; they were treated as -1000 HU");
	}

	private static int last(Box b) { return b.slices[b.slices.length - 1]; }

	private static final int SEG_CHANNELS = 2 * CONTEXT + 1;

	/** One U-Net batch: these slices, each cut to the same in-plane box (rows y0.., columns x0..). */
	private record Box(int[] slices, int y0, int x0, int height, int width) {}

	/** The recipe: every slice from {@code from} to {@code to} (exclusive), whole, in batches of {@code batch}. */
	private static List<Box> wholeSlices(int from, int to, int h, int w, int batch) {
		List<Box> boxes = new ArrayList<>();
		for (int start = from; start < to; start += batch) {
			int[] slices = new int[Math.min(batch, to - start)];
			for (int i = 0; i < slices.length; i++) slices[i] = start + i;
			boxes.add(new Box(slices, 0, 0, h, w));
		}
		return boxes;
	}

	/**
	 * Whole clamped slices of the last few z's: a batch needs its own slices plus three on each side,
	 * so a ring of batch + 6 slots converts each slice once.
	 */
	private static final class SliceRing {
		private final CtVolume ct;
		private final float[][] slots;
		private final int[] zOf;
		long nanCount;

		SliceRing(CtVolume ct, int size) {
			this.ct = ct;
			this.slots = new float[size][ct.height() * ct.width()];
			this.zOf = new int[size];
			Arrays.fill(zOf, -1);
		}

		float[] get(int z) {
			int k = z % slots.length;
			if (zOf[k] != z) {
				nanCount += readClamped(ct, z, 0, 0, ct.height(), ct.width(), slots[k]);
				zOf[k] = z;
			}
			return slots[k];
		}
	}

	/**
	 * Reads the box (z, y0..y0+h, x0..x0+w) with HU clamped to [−1000, 1000] and NaN as −1000.
	 *
	 * @return the number of NaN voxels met
	 */
	static long readClamped(CtVolume ct, int z, int y0, int x0, int h, int w, float[] dst) {
		Cursor<? extends RealType<?>> c = Views.flatIterable(Views.interval(ct.image(),
			new long[] { x0, y0, z }, new long[] { x0 + w - 1L, y0 + h - 1L, z })).cursor();
		long nans = 0;
		for (int i = 0; c.hasNext(); i++) {
			float v = c.next().getRealFloat();
			if (v != v) {
				nans++;
				v = CtVolume.HU_MIN;
			}
			dst[i] = v < CtVolume.HU_MIN ? CtVolume.HU_MIN : (v > CtVolume.HU_MAX ? CtVolume.HU_MAX : v);
		}
		return nans;
	}

	/**
	 * The fast mode's boxes, one slice each. A slice has lung if enough of its pixels are air enclosed by
	 * the body ({@link #enclosedAir}); the slices with lung, plus {@link #FAST_SLICE_MARGIN} on each side,
	 * are segmented. Slice z is cut to the enclosed air of the lung slices within {@link #FAST_SLICE_MARGIN}
	 * of it (the eroded mask at z looks at z±1, and at the apex and the bases a slice's own lung can be
	 * pockets too small to count), plus {@link #FAST_PIXEL_MARGIN} pixels: one box for all of it, or one per
	 * group of columns where the air's columns have a gap wider than {@link #FAST_SPLIT_GAP} (the
	 * mediastinum between the two lungs). Falls back to the whole CT when no slice has lung, so a CT
	 * outside the test's assumptions is still fully segmented.
	 */
	private List<Box> fastBoxes(CtVolume ct, int batch, Progress p) {
		int d = ct.depth(), h = ct.height(), w = ct.width();
		float[] slice = new float[h * w];
		AirScan scan = new AirScan(h, w);
		boolean[] lung = new boolean[d];
		// Per lung slice and column, the first and last row of enclosed air (h, -1 where there is none).
		short[][] top = new short[d][], bottom = new short[d][];
		boolean any = false;
		for (int z = 0; z < d; z++) {
			if (z % 16 == 0) p.checkCanceled();
			readClamped(ct, z, 0, 0, h, w, slice);
			int[] air = scan.enclosedAir(slice);
			lung[z] = air != null && air[4] >= MIN_LUNG_FRACTION * slice.length;
			if (lung[z]) {
				any = true;
				top[z] = scan.columnTop.clone();
				bottom[z] = scan.columnBottom.clone();
			}
		}
		if (!any) {
			warnings.add("Fast mode found no lung in " + name(ct) + "; the whole CT was segmented");
			return wholeSlices(0, d, h, w, batch);
		}
		List<Box> boxes = new ArrayList<>();
		int[] lo = new int[w], hi = new int[w];
		for (int z = 0; z < d; z++) {
			boolean keep = false;
			for (int k = Math.max(0, z - FAST_SLICE_MARGIN); k <= Math.min(d - 1, z + FAST_SLICE_MARGIN) && !keep; k++) keep = lung[k];
			if (!keep) continue;
			Arrays.fill(lo, h);
			Arrays.fill(hi, -1);
			for (int k = Math.max(0, z - FAST_BOX_SLICES); k <= Math.min(d - 1, z + FAST_BOX_SLICES); k++)
				if (lung[k])
					for (int x = 0; x < w; x++) {
						lo[x] = Math.min(lo[x], top[k][x]);
						hi[x] = Math.max(hi[x], bottom[k][x]);
					}
			int x = 0;
			while (x < w) {
				if (hi[x] < 0) {
					x++;
					continue;
				}
				int xlo = x, xhi = x, ylo = h, yhi = -1;
				for (int gap = 0; x < w && gap <= FAST_SPLIT_GAP; x++) {
					if (hi[x] < 0) {
						gap++;
						continue;
					}
					gap = 0;
					xhi = x;
					ylo = Math.min(ylo, lo[x]);
					yhi = Math.max(yhi, hi[x]);
				}
				int[] ys = widen(ylo, yhi, h), xs = widen(xlo, xhi, w);
				boxes.add(new Box(new int[] { z }, ys[0], xs[0], ys[1], xs[1]));
			}
		}
		return boxes;
	}

	/**
	 * Finds air enclosed by the body in one slice: pixels below {@link #BODY_HU} that cannot be
	 * reached from the image border through such pixels (the lungs, the airways, bowel gas). The
	 * air around the patient is reached from the border and left out, and so is the blurred ring of
	 * intermediate values at the skin, which is why this does not simply count lung-like HU values.
	 * If the lungs touch the image border (a field of view cut through the chest) they are reached
	 * from the border too; that is recognised by a lot of lung-like (not −1000 HU) air among the
	 * reached pixels together with body on the image border, and then all lung-like air counts.
	 */
	static final class AirScan {
		private final int h, w;
		private final boolean[] outside, seen;
		private final int[] queue;
		/** After {@link #enclosedAir}: per column, the first and the last row of enclosed air (h and -1 if none). */
		final short[] columnTop, columnBottom;

		AirScan(int h, int w) {
			this.h = h;
			this.w = w;
			outside = new boolean[h * w];
			seen = new boolean[h * w];
			queue = new int[h * w];
			columnTop = new short[w];
			columnBottom = new short[w];
		}

		/** @return {ylo, yhi, xlo, xhi, pixel count} of the enclosed air, or null if there is none */
		int[] enclosedAir(float[] s) {
			Arrays.fill(outside, false);
			int head = 0, tail = 0;
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					if ((y == 0 || x == 0 || y == h - 1 || x == w - 1) && s[y * w + x] < BODY_HU && !outside[y * w + x]) {
						outside[y * w + x] = true;
						queue[tail++] = y * w + x;
					}
			long lungLikeOutside = 0;
			while (head < tail) {
				int i = queue[head++], y = i / w, x = i % w;
				if (s[i] >= LUNG_LOW) lungLikeOutside++;
				if (x > 0) tail = visit(s, i - 1, tail);
				if (x < w - 1) tail = visit(s, i + 1, tail);
				if (y > 0) tail = visit(s, i - w, tail);
				if (y < h - 1) tail = visit(s, i + w, tail);
			}
			// Lungs cut by the field of view also put their chest wall on the image border. Without body on the
			// border the lung-like air outside is something else: on real CTs the air around the patient is
			// noisy, and pads and blankets are lung-like (6-11 % of every slice of LIDC-IDRI-0001), which made
			// every slice look cut and the fast mode segment whole slices.
			boolean lungCut = lungLikeOutside > LUNG_CUT_FRACTION * s.length && bodyAcrossASide(s);
			// The pockets of air enclosed by the body (4-connected), each kept only if it is large enough: on
			// real CTs the table, clothes and skin folds hold many small ones, which spread the box over the
			// whole body (on LIDC-IDRI-0001, pockets of 1 to 100 pixels at the table widened it by ~40 %).
			int ylo = h, yhi = -1, xlo = w, xhi = -1, count = 0;
			Arrays.fill(columnTop, (short) h);
			Arrays.fill(columnBottom, (short) -1);
			Arrays.fill(seen, false);
			long minPixels = (long) Math.ceil(MIN_POCKET_FRACTION * s.length);
			for (int start = 0; start < s.length; start++) {
				if (seen[start] || !enclosed(s, start, lungCut)) continue;
				seen[start] = true;
				head = 0;
				tail = 0;
				queue[tail++] = start;
				while (head < tail) {
					int i = queue[head++], y = i / w, x = i % w;
					if (x > 0) tail = visitEnclosed(s, i - 1, tail, lungCut);
					if (x < w - 1) tail = visitEnclosed(s, i + 1, tail, lungCut);
					if (y > 0) tail = visitEnclosed(s, i - w, tail, lungCut);
					if (y < h - 1) tail = visitEnclosed(s, i + w, tail, lungCut);
				}
				if (tail < minPixels) continue;
				count += tail;
				for (int q = 0; q < tail; q++) {
					int i = queue[q], y = i / w, x = i % w;
					if (columnTop[x] > y) columnTop[x] = (short) y;
					if (columnBottom[x] < y) columnBottom[x] = (short) y;
					if (y < ylo) ylo = y;
					if (y > yhi) yhi = y;
					if (x < xlo) xlo = x;
					if (x > xhi) xhi = x;
				}
			}
			return count == 0 ? null : new int[] { ylo, yhi, xlo, xhi, count };
		}

		private boolean enclosed(float[] s, int i, boolean lungCut) {
			return s[i] < BODY_HU && (lungCut ? s[i] >= LUNG_LOW : !outside[i]);
		}

		private int visitEnclosed(float[] s, int j, int tail, boolean lungCut) {
			if (!seen[j] && enclosed(s, j, lungCut)) {
				seen[j] = true;
				queue[tail++] = j;
			}
			return tail;
		}

		/**
		 * Whether body (at least {@link #BODY_HU}) covers {@link #CUT_SIDE_FRACTION} of one image side: a field of
		 * view cut through the chest puts the chest wall across the side, while an arm or the table touching
		 * the border covers a few percent (6 % of one side in LIDC-IDRI-0001's upper slices).
		 */
		private boolean bodyAcrossASide(float[] s) {
			int top = 0, bottom = 0, left = 0, right = 0;
			for (int x = 0; x < w; x++) {
				if (s[x] >= BODY_HU) top++;
				if (s[(h - 1) * w + x] >= BODY_HU) bottom++;
			}
			for (int y = 0; y < h; y++) {
				if (s[y * w] >= BODY_HU) left++;
				if (s[y * w + w - 1] >= BODY_HU) right++;
			}
			return Math.max(top, bottom) >= CUT_SIDE_FRACTION * w || Math.max(left, right) >= CUT_SIDE_FRACTION * h;
		}

		private int visit(float[] s, int j, int tail) {
			if (!outside[j] && s[j] < BODY_HU) {
				outside[j] = true;
				queue[tail++] = j;
			}
			return tail;
		}
	}

	/**
	 * [lo, hi] plus the margin, as {start, length} with start a multiple of 4 (so the U-Net's 2×2
	 * pooling grid is the full image's, which keeps results inside the box identical to the recipe's)
	 * and length a multiple of 4 unless the box reaches the end of the axis (then it is padded with
	 * air exactly as the full image would be).
	 */
	private static int[] widen(int lo, int hi, int size) {
		int start = Math.max(0, lo - FAST_PIXEL_MARGIN) / 4 * 4;
		int end = Math.min(size, (hi + 1 + FAST_PIXEL_MARGIN + 3) / 4 * 4);
		end = Math.min(size, start + (end - start + FAST_BOX_QUANTUM - 1) / FAST_BOX_QUANTUM * FAST_BOX_QUANTUM);
		return new int[] { start, end - start };
	}

	// ---------------------------------------------------------------- grouping

	/**
	 * Threshold, erode and label by the published recipe (see {@link Grouping}), on the reoriented CT:
	 * {@code probability} and the labels returned are on the input's grid (C order), the labels
	 * numbered as {@link #analyze} numbers them.
	 */
	public static Grouping.Labels group(CtVolume input, float[] probability, double threshold, Progress progress) {
		Reorientation r = Reorientation.of(input);
		Grouping.Labels l = groupCanonical(r.canonical().shapeIrc(), r.toCanonical(probability), threshold, progress);
		return r.isIdentity() ? l : new Grouping.Labels(input.shapeIrc(), r.toInput(l.labels()), l.count(), l.sizes());
	}

	private static Grouping.Labels groupCanonical(int[] shape, float[] probability, double threshold, Progress progress) {
		byte[] eroded = Grouping.thresholdAndErode(probability, shape, threshold);
		if (progress != null) progress.checkCanceled();
		return Grouping.label(eroded, shape);
	}

	/**
	 * Centre, world position and size of each component, in label order; probabilities are filled in
	 * by {@link #classify}. Streams the CT once, only over slices holding a label.
	 */
	List<Candidate> describe(CtVolume ct, Grouping.Labels labels, Progress p) {
		Grouping.CentreAccumulator acc = new Grouping.CentreAccumulator(labels);
		int h = ct.height(), w = ct.width();
		float[] slice = new float[h * w];
		long nans = 0;
		for (int z = 0; z < ct.depth(); z++) {
			if (!Grouping.sliceHasLabels(labels, z)) continue;
			if (p != null) p.checkCanceled();
			nans += readClamped(ct, z, 0, 0, h, w, slice);
			acc.addSlice(z, slice);
		}
		if (nans > 0 && warnings.stream().noneMatch(s -> s.contains("NaN")))
			warnings.add("The CT " + name(ct) + " has NaN voxels inside candidates; they were weighted as -1000 HU");
		Geometry g = ct.geometry();
		double[] spacing = g.spacing();
		double voxelVolume = spacing[0] * spacing[1] * spacing[2];
		List<Candidate> out = new ArrayList<>(labels.count());
		for (int l = 1; l <= labels.count(); l++) {
			double[] irc = acc.centre(l);
			double[] xyz = g.voxelToWorld(irc[0], irc[1], irc[2]);
			long n = labels.sizes()[l - 1];
			double diameter = 2 * Math.cbrt(3 * n * voxelVolume / (4 * Math.PI));
			out.add(new Candidate(l, irc[0], irc[1], irc[2], xyz[0], xyz[1], xyz[2], n, diameter, Double.NaN, Double.NaN, Double.NaN,
				Double.NaN));
		}
		return out;
	}

	// ---------------------------------------------------------------- classification

	/**
	 * Classifies the chunk at each candidate's rounded centre; returns the candidates with p_nodule and logits.
	 * Candidates' voxel positions are on the input's grid (and stay so); the chunk is cropped from the
	 * reoriented CT around the same voxel, rounded there.
	 * <p>
	 * With {@link Settings#mirror()} each chunk is also classified mirrored left-right, up-down and both, and
	 * p_nodule is the mean of the four probabilities; the logits reported are then log(1 − p) and log(p),
	 * whose softmax is that mean. The networks were trained with random flips, so a mirror image is as valid
	 * an input as the chunk, and the answers differ by the network's own noise: averaging them took the demo
	 * classifier's F1 on unseen synthetic CTs from 0.87 to 0.91 (docs/demo-models.md). It costs four times the
	 * classification time (still small next to the segmentation's).
	 */
	public List<Candidate> classify(CtVolume input, List<Candidate> candidates, Progress progress) {
		Reorientation r = Reorientation.of(input);
		List<Candidate> scored = classifyCanonical(r.canonical(), toCanonical(r, candidates), progress);
		if (r.isIdentity()) return scored;
		List<Candidate> out = new ArrayList<>(candidates.size());
		for (int i = 0; i < candidates.size(); i++) {
			Candidate a = candidates.get(i), b = scored.get(i);
			out.add(new Candidate(a.label(), a.index(), a.row(), a.col(), a.x(), a.y(), a.z(), a.voxels(), a.diameterMm(), b.probability(),
				b.logitNonNodule(), b.logitNodule(), a.pMalignant()));
		}
		return out;
	}

	private List<Candidate> classifyCanonical(CtVolume ct, List<Candidate> candidates, Progress progress) {
		Progress p = progress == null ? Progress.NONE : progress;
		List<Candidate> out = new ArrayList<>(candidates.size());
		p.report(CLASSIFYING, 0);
		forEachChunkBatch(ct, candidates, p, CLASSIFYING, (batch, chunks) -> {
			Inference.Classification c = inference.classify(chunks, batch.size());
			float[] mean = null;
			if (settings.mirror()) {
				mean = c.probabilities().clone();
				// left-right, then also up-down, then up-down only: the three other in-plane views
				for (int view = 0; view < 3; view++) {
					if (view == 1) mirrorUpDown(chunks, batch.size());
					else mirrorLeftRight(chunks, batch.size());
					float[] q = inference.classify(chunks, batch.size()).probabilities();
					for (int k = 0; k < 2 * batch.size(); k++) mean[k] += q[k];
				}
			}
			for (int i = 0; i < batch.size(); i++) {
				Candidate a = batch.get(i);
				double pNodule = c.positive(i), logitOther = c.logits()[2 * i], logitNodule = c.logits()[2 * i + 1];
				if (mean != null) {
					pNodule = mean[2 * i + 1] / 4;
					// (floored so that a unanimous 0 or 1 gives a large finite logit, not -Infinity)
					logitOther = Math.log(Math.max(1 - pNodule, Double.MIN_NORMAL));
					logitNodule = Math.log(Math.max(pNodule, Double.MIN_NORMAL));
				}
				out.add(new Candidate(a.label(), a.index(), a.row(), a.col(), a.x(), a.y(), a.z(), a.voxels(), a.diameterMm(),
					pNodule, logitOther, logitNodule, a.pMalignant()));
			}
		});
		return out;
	}

	/** Reverses the y (row) axis of the first {@code count} chunks in place. */
	static void mirrorUpDown(float[] chunks, int count) {
		int w = CHUNK[2], h = CHUNK[1];
		float[] row = new float[w];
		for (int slice = 0, slices = count * CHUNK[0]; slice < slices; slice++)
			for (int lo = slice * h * w, hi = lo + (h - 1) * w; lo < hi; lo += w, hi -= w) {
				System.arraycopy(chunks, lo, row, 0, w);
				System.arraycopy(chunks, hi, chunks, lo, w);
				System.arraycopy(row, 0, chunks, hi, w);
			}
	}

	/** Reverses the x (column) axis of the first {@code count} chunks in place. */
	static void mirrorLeftRight(float[] chunks, int count) {
		int w = CHUNK[2];
		for (int row = 0, rows = count * CHUNK[0] * CHUNK[1]; row < rows; row++)
			for (int lo = row * w, hi = lo + w - 1; lo < hi; lo++, hi--) {
				float t = chunks[lo];
				chunks[lo] = chunks[hi];
				chunks[hi] = t;
			}
	}

	/**
	 * Malignancy probability for candidates with p_nodule &ge; the malignancy threshold; others keep NaN.
	 * Candidates' voxel positions are on the input's grid; chunks are cropped from the reoriented CT.
	 */
	public List<Candidate> scoreMalignancy(CtVolume input, List<Candidate> candidates, Progress progress) {
		Reorientation r = Reorientation.of(input);
		List<Candidate> scored = scoreCanonical(r.canonical(), toCanonical(r, candidates), progress);
		if (r.isIdentity()) return scored;
		List<Candidate> out = new ArrayList<>(candidates.size());
		for (int i = 0; i < candidates.size(); i++) {
			Candidate a = candidates.get(i), b = scored.get(i);
			out.add(b.hasMalignancy() ? a.withMalignancy(b.pMalignant()) : a);
		}
		return out;
	}

	private List<Candidate> scoreCanonical(CtVolume ct, List<Candidate> candidates, Progress progress) {
		Progress p = progress == null ? Progress.NONE : progress;
		List<Candidate> selected = new ArrayList<>();
		for (Candidate c : candidates)
			if (c.probability() >= settings.malignancyThreshold()) selected.add(c);
		Map<Integer, Double> scores = new LinkedHashMap<>();
		p.report(SCORING_MALIGNANCY, 0);
		forEachChunkBatch(ct, selected, p, SCORING_MALIGNANCY, (batch, chunks) -> {
			Inference.Classification c = inference.malignancy(chunks, batch.size());
			for (int i = 0; i < batch.size(); i++) scores.put(batch.get(i).label(), (double) c.positive(i));
		});
		List<Candidate> out = new ArrayList<>(candidates.size());
		for (Candidate c : candidates) out.add(scores.containsKey(c.label()) ? c.withMalignancy(scores.get(c.label())) : c);
		return out;
	}

	private interface ChunkConsumer {
		void accept(List<Candidate> batch, float[] chunks);
	}

	/** Crops chunks in groups of {@link #CHUNKS_PER_CALL}, checking cancel and reporting between groups. */
	private static void forEachChunkBatch(CtVolume ct, List<Candidate> candidates, Progress p, String stage, ChunkConsumer consumer) {
		float[] chunks = new float[CHUNKS_PER_CALL * Inference.CHUNK_VOXELS];
		for (int start = 0; start < candidates.size(); start += CHUNKS_PER_CALL) {
			p.checkCanceled();
			List<Candidate> batch = candidates.subList(start, Math.min(candidates.size(), start + CHUNKS_PER_CALL));
			for (int i = 0; i < batch.size(); i++) {
				int[] startIrc = ct.cropStart(batch.get(i).roundedCentreIrc(), CHUNK);
				ct.copyBox(startIrc, CHUNK, chunks, i * Inference.CHUNK_VOXELS, CtVolume.HU_MIN, CtVolume.HU_MAX);
			}
			consumer.accept(batch, chunks);
			p.report(stage, (start + batch.size()) / (double) candidates.size());
		}
	}

	/** Pixels the U-Net computed in the last segmentation (slices × padded box area), for GFLOP/s figures. */
	public long lastSegmentedPixels() { return segmentedPixels; }

	/** Warnings of the last analysis (also in its result). */
	public List<String> warnings() { return List.copyOf(warnings); }
}
