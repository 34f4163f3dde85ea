package org.lungnodules.training;

import java.io.IOException;
import java.util.List;

import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * What the classifier and malignancy sources share: a 1×32×48×48 chunk per sample, a 0/1 label,
 * an optional augmentation, and a rule that names the candidate of (epoch, index).
 */
abstract class ChunkSamples implements SampleSource {

	static final int CHUNK_VOXELS = Crops.CHUNK[0] * Crops.CHUNK[1] * Crops.CHUNK[2];

	private final Crops crops;
	private final long seed;
	private final Augmentation.Settings augmentation;
	private final int epochSize;
	private final ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[CHUNK_VOXELS]);

	ChunkSamples(Crops crops, long seed, Augmentation.Settings augmentation, int epochSize) {
		if (epochSize < 1) throw new IllegalArgumentException("An epoch needs at least one sample, not " + epochSize);
		this.crops = crops;
		this.seed = seed;
		this.augmentation = augmentation == null ? Augmentation.Settings.none() : augmentation;
		this.epochSize = epochSize;
	}

	/** The candidate of sample {@code index} in {@code epoch}. */
	public abstract CandidateInfo candidate(int epoch, int index);

	/** The label (true = 1) of a candidate. */
	abstract boolean label(CandidateInfo c);

	@Override
	public int epochSize() { return epochSize; }

	@Override
	public int[] inputShape() { return new int[] { 1, Crops.CHUNK[0], Crops.CHUNK[1], Crops.CHUNK[2] }; }

	@Override
	public int[] labelShape() { return new int[0]; }

	public Augmentation.Settings augmentation() { return augmentation; }

	@Override
	public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException {
		if (index < 0 || index >= epochSize)
			throw new IndexOutOfBoundsException("Sample " + index + " of an epoch of " + epochSize);
		CandidateInfo c = candidate(epoch, index);
		if (augmentation.isNone()) {
			crops.chunk(c, input, inputOffset);
		}
		else {
			float[] raw = scratch.get();
			crops.chunk(c, raw, 0);
			Augmentation.augmentChunk(augmentation, Augmentation.sampleRandom(seed, epoch, index), raw, 0,
				Crops.CHUNK[0], Crops.CHUNK[1], Crops.CHUNK[2], input, inputOffset);
		}
		boolean positive = label(c);
		label[labelOffset] = positive ? 1f : 0f;
		return new SampleInfo(positive, c.diameterMm(), c.seriesUid());
	}

	/**
	 * The book's balanced order with {@code ratio} negatives per positive: sample i is a positive
	 * when i is a multiple of ratio+1 (positive number i / (ratio+1)), else negative number
	 * i - 1 - i / (ratio+1); both numbers index this epoch's shuffle of their list, modulo its
	 * length, so the (few) positives cycle and the negatives continue where they left off.
	 */
	static CandidateInfo balanced(int epoch, int index, int ratio, List<CandidateInfo> positives, EpochOrder positiveOrder,
		List<CandidateInfo> negatives, EpochOrder negativeOrder) {
		int positiveNumber = index / (ratio + 1);
		if (index % (ratio + 1) != 0)
			return negatives.get(negativeOrder.at(epoch, index - 1L - positiveNumber));
		return positives.get(positiveOrder.at(epoch, positiveNumber));
	}

	/**
	 * At most {@code max} of {@code all} for a capped validation set: every positive (up to the cap)
	 * and then negatives evenly spread over the list, so a cap keeps recall measurable. Order kept.
	 */
	static List<CandidateInfo> capped(List<CandidateInfo> all, int max, java.util.function.Predicate<CandidateInfo> positive) {
		if (max <= 0 || all.size() <= max) return all;
		List<CandidateInfo> pos = all.stream().filter(positive).toList();
		List<CandidateInfo> neg = all.stream().filter(positive.negate()).toList();
		if (pos.size() >= max) return pos.subList(0, max);
		int room = max - pos.size();
		java.util.Set<CandidateInfo> keep = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
		keep.addAll(pos);
		for (int i = 0; i < room; i++)
			keep.add(neg.get((int) ((long) i * neg.size() / room)));
		return all.stream().filter(keep::contains).toList();
	}
}
