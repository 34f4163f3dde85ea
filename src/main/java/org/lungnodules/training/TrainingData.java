package org.lungnodules.training;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.lungnodules.nn.Networks;

/**
 * The samples a train-* command feeds its loop: a LUNA16-style dataset folder, read through the disk
 * cache when one was prepared (so training never re-reads whole CTs), else cropped from the CTs.
 */
public final class TrainingData implements Closeable {

	private final LunaData data;
	private final Crops crops;
	private final LidcMasks masks;

	private TrainingData(LunaData data, Crops crops, LidcMasks masks) {
		this.data = data;
		this.crops = crops;
		this.masks = masks;
	}

	/** @param cache a folder filled by prepare-cache, or null to crop from the CTs directly */
	public static TrainingData open(Path dataFolder, Path cache, LunaData.Options options) throws IOException {
		LunaData data = LunaData.open(dataFolder, options == null ? LunaData.Options.defaults() : options);
		Crops crops = cache == null ? Crops.fromCts(data) : ChunkCache.open(cache, data);
		return new TrainingData(data, crops, null);
	}

	/**
	 * {@link #open(Path, Path, LunaData.Options)} with segmentation masks from the LIDC readings
	 * where a series has them ({@code train-seg masks=lidc}, see {@link LidcMasks}). Crops come from
	 * the CTs: the prepared cache stores threshold masks, so it cannot be combined with this.
	 *
	 * @param readingsFolder a folder of LIDC XML files, or null for the XML files next to the CTs
	 */
	public static TrainingData openWithLidcMasks(Path dataFolder, Path cache, LunaData.Options options, Path readingsFolder) throws IOException {
		if (cache != null)
			throw new IOException("masks=lidc crops from the CTs: the cache " + cache + " holds the threshold masks; leave cache= empty");
		LunaData data = LunaData.open(dataFolder, options == null ? LunaData.Options.defaults() : options);
		LidcMasks masks = LidcMasks.find(data, readingsFolder);
		return new TrainingData(data, Crops.fromCts(data, 2, masks), masks);
	}

	/** Where the segmentation masks come from, for the log: null with the threshold masks only. */
	public String maskSummary() {
		return masks == null ? null : masks.summary();
	}

	/** The crops the sources read (for tests and tools). */
	public Crops crops() { return crops; }

	public LunaData data() { return data; }

	/**
	 * The training source of {@code settings.kind}: balanced for cls/mal (the classifier with
	 * {@code settings.ratio} non-nodules per nodule, the book's ratio_int), nodule crops for seg, shuffled
	 * by {@code settings.seed} and augmented by the transforms {@code settings.augment} keeps of the
	 * recipe's (see {@link Augmentation.Settings#only}). {@code epochSize} 0 = the recipe's.
	 */
	public SampleSource training(TrainingSettings settings, int epochSize) {
		long seed = settings.seed;
		String augment = settings.augment;
		switch (settings.kind) {
			case CLS: {
				ClassifierSamples.Settings s = ClassifierSamples.Settings.defaults().withSeed(seed).withRatio(settings.ratio);
				s = s.withAugmentation(s.augmentation().only(augment));
				return ClassifierSamples.training(data, crops, epochSize > 0 ? s.withEpochSize(epochSize) : s);
			}
			case MAL: {
				MalignancySamples.Settings s = MalignancySamples.Settings.defaults().withSeed(seed);
				s = s.withAugmentation(s.augmentation().only(augment));
				return MalignancySamples.training(data, crops, epochSize > 0 ? s.withEpochSize(epochSize) : s);
			}
			default: {
				SegmentationSamples.Settings s = SegmentationSamples.Settings.defaults().withSeed(seed);
				s = s.withAugmentation(s.augmentation().only(augment));
				return SegmentationSamples.training(data, crops, epochSize > 0 ? s.withEpochSize(epochSize) : s);
			}
		}
	}

	/**
	 * The validation source, or null when the split has no validation data: every candidate of the
	 * validation series for cls, their nodules for mal, and whole nodule slices for seg (which must
	 * then all have one in-plane size, as LUNA16's 512×512 do).
	 */
	public SampleSource validation(Networks.Kind kind, int maxSamples) throws IOException {
		if (data.validationSeries().isEmpty()) return null;
		switch (kind) {
			case CLS: return ClassifierSamples.validation(data, crops, maxSamples);
			case MAL: return MalignancySamples.validation(data, crops);
			default: {
				SegmentationValidation v = SegmentationValidation.of(data, crops);
				return v.slices().isEmpty() ? null : new WholeSlices(v);
			}
		}
	}

	@Override
	public void close() throws IOException {
		if (crops instanceof Closeable) ((Closeable) crops).close();
	}

	/** All validation slices as one source; the loop batches them like any other samples. */
	private static final class WholeSlices implements SampleSource {
		private final SegmentationValidation validation;
		private final List<SegmentationValidation.Slice> slices;
		private final int height, width;

		WholeSlices(SegmentationValidation v) {
			validation = v;
			slices = v.slices();
			height = slices.get(0).height();
			width = slices.get(0).width();
			for (SegmentationValidation.Slice s : slices)
				if (s.height() != height || s.width() != width)
					throw new IllegalArgumentException("Validation CTs have different slice sizes (" + height + "×" + width + " and " +
						s.height() + "×" + s.width() + " in " + s.seriesUid() + "); segmentation validation needs one size");
		}

		@Override
		public int epochSize() { return slices.size(); }

		@Override
		public int[] inputShape() { return new int[] { SegmentationSamples.CHANNELS, height, width }; }

		@Override
		public int[] labelShape() { return new int[] { 1, height, width }; }

		@Override
		public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException {
			return validation.fill(slices.get(index), input, inputOffset, label, labelOffset);
		}

		@Override
		public String identity() {
			// The slices are chosen by the masks, so the series and the slice count say which ones they are.
			return slices.size() + " whole " + height + "×" + width + " slices of series digest " +
				SampleSource.seriesDigest(slices.stream().map(SegmentationValidation.Slice::seriesUid));
		}
	}
}
