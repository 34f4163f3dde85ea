package org.lungnodules.training;

import java.util.List;
import java.util.Locale;

import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * Nodule / non-nodule samples for the classifier (book chapters 12 and 14): 1×32×48×48 chunks of
 * clamped HU, label 1 for a nodule, 0 otherwise.
 * <p>
 * Training ({@link #training}) is balanced as the book's {@code ratio_int}: with ratio r every
 * (r+1)-th sample (indices 0, r+1, 2(r+1), …) is a positive, the others negatives; positives cycle
 * when there are fewer than the epoch needs. Both lists are reshuffled every epoch by a pure function
 * of (seed, epoch), and augmentation draws from (seed, epoch, index), so {@code fill(e, i)} is the
 * same in every instance and after a resume. Ratio 0 gives the unbalanced list, shuffled per epoch.
 * <p>
 * Validation ({@link #validation}) is unbalanced: every candidate of the validation series, in the
 * book's order, no augmentation, epoch ignored.
 */
public final class ClassifierSamples extends ChunkSamples {

	/**
	 * @param ratio negatives per positive (book: 1); 0 = unbalanced
	 * @param epochSize samples per epoch (book: 200,000 for ch12, 50,000 for ch14); 0 = the list length
	 */
	public record Settings(int ratio, int epochSize, long seed, Augmentation.Settings augmentation) {
		public Settings {
			if (ratio < 0) throw new IllegalArgumentException("ratio must not be negative: " + ratio);
			if (epochSize < 0) throw new IllegalArgumentException("epoch_size must not be negative: " + epochSize);
		}

		/** Ratio 1, 200,000 samples, seed 0, the book's classifier augmentation. */
		public static Settings defaults() { return new Settings(1, 200_000, 0, Augmentation.Settings.classifier()); }

		public Settings withRatio(int r) { return new Settings(r, epochSize, seed, augmentation); }
		public Settings withEpochSize(int n) { return new Settings(ratio, n, seed, augmentation); }
		public Settings withSeed(long s) { return new Settings(ratio, epochSize, s, augmentation); }
		public Settings withAugmentation(Augmentation.Settings a) { return new Settings(ratio, epochSize, seed, a); }
	}

	private final int ratio;
	private final List<CandidateInfo> all, positives, negatives;
	private final EpochOrder allOrder, positiveOrder, negativeOrder;
	private final boolean shuffled;

	private ClassifierSamples(List<CandidateInfo> all, Crops crops, int ratio, int epochSize, long seed,
		Augmentation.Settings augmentation, boolean shuffled) {
		super(crops, seed, augmentation, epochSize == 0 ? Math.max(1, all.size()) : epochSize);
		this.all = all;
		this.ratio = ratio;
		this.shuffled = shuffled;
		this.positives = all.stream().filter(CandidateInfo::isNodule).toList();
		this.negatives = all.stream().filter(c -> !c.isNodule()).toList();
		if (all.isEmpty()) throw new IllegalArgumentException("No candidates to sample from");
		if (ratio > 0 && positives.isEmpty()) throw new IllegalArgumentException("No nodules among the candidates: cannot balance");
		if (ratio > 0 && negatives.isEmpty())
			throw new IllegalArgumentException("No non-nodule candidates (is candidates.csv missing?): cannot balance");
		this.allOrder = new EpochOrder(seed, 0x41, all.size());
		this.positiveOrder = new EpochOrder(seed, 0x50, positives.size());
		this.negativeOrder = new EpochOrder(seed, 0x4E, negatives.size());
	}

	/** Balanced, shuffled, augmented samples of the training series. */
	public static ClassifierSamples training(LunaData data, Crops crops, Settings settings) {
		return of(data.candidates(false), crops, settings);
	}

	/** Training samples from any candidate list (nodules are the positives). */
	public static ClassifierSamples of(List<CandidateInfo> candidates, Crops crops, Settings settings) {
		return new ClassifierSamples(List.copyOf(candidates), crops, settings.ratio(), settings.epochSize(), settings.seed(),
			settings.augmentation(), true);
	}

	/**
	 * Every candidate of the validation series, book order, unaugmented.
	 *
	 * @param maxSamples 0 for all; else at most this many: all nodules plus evenly spread negatives
	 */
	public static ClassifierSamples validation(LunaData data, Crops crops, int maxSamples) {
		List<CandidateInfo> list = capped(data.candidates(true), maxSamples, CandidateInfo::isNodule);
		return new ClassifierSamples(list, crops, 0, list.size(), 0, Augmentation.Settings.none(), false);
	}

	@Override
	public CandidateInfo candidate(int epoch, int index) {
		if (ratio > 0) return balanced(epoch, index, ratio, positives, positiveOrder, negatives, negativeOrder);
		return shuffled ? all.get(allOrder.at(epoch, index)) : all.get(index % all.size());
	}

	@Override
	boolean label(CandidateInfo c) { return c.isNodule(); }

	/** Size, nodules and a digest of the series: a best F1 on other CTs is not comparable. */
	@Override
	public String identity() {
		return String.format(Locale.ROOT, "%d candidates (%d nodules) of series digest %s%s", all.size(), positives.size(),
			SampleSource.seriesDigest(all.stream().map(CandidateInfo::seriesUid)), ratio > 0 ? ", ratio " + ratio : "");
	}

	public int ratio() { return ratio; }
	public int positiveCount() { return positives.size(); }
	public int negativeCount() { return negatives.size(); }
}
