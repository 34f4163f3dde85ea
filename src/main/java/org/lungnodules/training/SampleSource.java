package org.lungnodules.training;

import java.io.IOException;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Where a training loop gets its samples: a fixed number per epoch, each addressed by (epoch, index)
 * so that a resumed run sees exactly the same order, and each filled into caller-owned arrays so
 * that loading allocates nothing per sample.
 * <p>
 * Implementations are thread-safe: loops may fill a batch from several threads.
 */
public interface SampleSource {

	/** Samples per epoch. */
	int epochSize();

	/** Shape of one input, without the batch axis: {1, 32, 48, 48} for chunks, {7, 64, 64} for U-Net crops. */
	int[] inputShape();

	/**
	 * Shape of one label, without the batch axis: {} (a class index 0/1, stored as a float) for the
	 * classifiers, {1, 64, 64} (a 0/1 mask) for segmentation.
	 */
	int[] labelShape();

	/**
	 * Fills sample {@code index} of {@code epoch} into {@code input} at {@code inputOffset} and its
	 * label into {@code label} at {@code labelOffset}. Deterministic for a given source seed, epoch
	 * and index (augmentation included).
	 *
	 * @return what the metrics need to know about the sample
	 */
	SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException;

	/**
	 * Which samples these are, for telling whether a best score was measured on the same ones: by
	 * default the kind of source and its size. Sources that know their data say more.
	 */
	default String identity() {
		return getClass().getSimpleName() + " of " + epochSize() + " samples";
	}

	/**
	 * A digest of which series samples come from, for {@link #identity()}: the same number of samples
	 * from other CTs must not look like the same samples. Independent of order and repeats.
	 */
	static String seriesDigest(Stream<String> seriesUids) {
		return String.format(Locale.ROOT, "%08x", seriesUids.distinct().sorted().toList().hashCode());
	}

	/** Per-sample facts for metrics: the class, and the nodule diameter for the diameter-only baseline. */
	record SampleInfo(boolean positive, double diameterMm, String seriesUid) {}
}
