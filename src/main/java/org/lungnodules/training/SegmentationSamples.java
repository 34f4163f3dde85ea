package org.lungnodules.training;

import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;

import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * U-Net training samples (book chapter 13, TrainingLuna2dSegmentationDataset): for each sample a
 * nodule of the training series (the list reshuffled per epoch from (seed, epoch) and cycled), its
 * 7×96×96 crop (centre slice ± 3, the published crop rule), cut again at a random row and column
 * offset in 0..31 to 7×64×64; the label is the nodule mask of the middle slice, 1×64×64. Then the
 * 2D augmentation the book runs on the GPU (input and mask moved by one transform, mask > 0.5,
 * noise on the input only), here per sample. Offsets and augmentation draw from
 * (seed, epoch, index), so any (epoch, index) is reproducible.
 * <p>
 * Validation uses whole slices and so has another shape per CT: see {@link SegmentationValidation}.
 */
public final class SegmentationSamples implements SampleSource {

	/** The crop the network sees. */
	public static final int CROP = 64, CONTEXT = 3, CHANNELS = 2 * CONTEXT + 1;

	/**
	 * @param epochSize book: 300,000; 0 = one pass over the nodules
	 */
	public record Settings(int epochSize, long seed, Augmentation.Settings augmentation) {
		/** 300,000 samples, seed 0, the book's segmentation augmentation (offset applied, see {@link Augmentation}). */
		public static Settings defaults() { return new Settings(300_000, 0, Augmentation.Settings.segmentation()); }

		public Settings withEpochSize(int n) { return new Settings(n, seed, augmentation); }
		public Settings withSeed(long s) { return new Settings(epochSize, s, augmentation); }
		public Settings withAugmentation(Augmentation.Settings a) { return new Settings(epochSize, seed, a); }
	}

	private static final int BIG = Crops.SEG_CROP[1];
	private static final int BIG_VOXELS = CHANNELS * BIG * BIG, CUT_VOXELS = CHANNELS * CROP * CROP;

	private final Crops crops;
	private final List<CandidateInfo> nodules;
	private final EpochOrder order;
	private final int epochSize;
	private final long seed;
	private final Augmentation.Settings augmentation;
	private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[][] {
		new float[BIG_VOXELS], new float[BIG * BIG], new float[CUT_VOXELS], new float[CROP * CROP], new float[CROP * CROP] });

	private SegmentationSamples(List<CandidateInfo> nodules, Crops crops, Settings s) {
		if (nodules.isEmpty()) throw new IllegalArgumentException("No nodules in the training series: nothing to segment");
		this.crops = crops;
		this.nodules = List.copyOf(nodules);
		this.epochSize = s.epochSize() == 0 ? nodules.size() : s.epochSize();
		if (epochSize < 1) throw new IllegalArgumentException("epoch_size must be positive: " + s.epochSize());
		this.seed = s.seed();
		this.augmentation = s.augmentation() == null ? Augmentation.Settings.none() : s.augmentation();
		this.order = new EpochOrder(seed, 0x53, nodules.size());
	}

	public static SegmentationSamples training(LunaData data, Crops crops, Settings settings) {
		return new SegmentationSamples(data.candidates(false).stream().filter(CandidateInfo::isNodule).toList(), crops, settings);
	}

	/** The nodule of sample {@code index} in {@code epoch}. */
	public CandidateInfo nodule(int epoch, int index) {
		return nodules.get(order.at(epoch, index));
	}

	@Override
	public int epochSize() { return epochSize; }

	@Override
	public int[] inputShape() { return new int[] { CHANNELS, CROP, CROP }; }

	@Override
	public int[] labelShape() { return new int[] { 1, CROP, CROP }; }

	@Override
	public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException {
		if (index < 0 || index >= epochSize) throw new IndexOutOfBoundsException("Sample " + index + " of an epoch of " + epochSize);
		CandidateInfo n = nodule(epoch, index);
		float[][] s = scratch.get();
		float[] big = s[0], bigMask = s[1], cut = s[2], cutMask = s[3];
		crops.segCrop(n, big, 0, bigMask, 0);
		SplittableRandom rng = Augmentation.sampleRandom(seed, epoch, index);
		int row = rng.nextInt(BIG - CROP), col = rng.nextInt(BIG - CROP);
		for (int c = 0; c < CHANNELS; c++)
			for (int y = 0; y < CROP; y++)
				System.arraycopy(big, (c * BIG + row + y) * BIG + col, cut, (c * CROP + y) * CROP, CROP);
		for (int y = 0; y < CROP; y++)
			System.arraycopy(bigMask, (row + y) * BIG + col, cutMask, y * CROP, CROP);
		Augmentation.augmentSlices(augmentation, rng, cut, 0, CHANNELS, CROP, CROP, cutMask, 0, input, inputOffset, label,
			labelOffset, s[4]);
		return new SampleInfo(true, n.diameterMm(), n.seriesUid());
	}
}
