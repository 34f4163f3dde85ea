package org.lungnodules.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * Benign / malignant samples for the malignancy classifier (book chapter 14): the nodules of
 * annotations_with_malignancy.csv as 1×32×48×48 chunks, label 1 for malignant (mal_bool).
 * {@link SampleInfo#diameterMm()} carries the annotated diameter for the diameter-only baseline.
 * <p>
 * Training alternates malignant (odd indices) and benign (even indices), each list reshuffled per
 * epoch from (seed, epoch) and cycled. With {@code withNonNodules} it follows the book's
 * MalignantLunaDataset exactly: odd → malignant, index % 4 == 0 → benign nodule, index % 4 == 2 →
 * a non-nodule candidate (label 0), so a quarter of the samples teach "not a nodule is not
 * malignant". Validation: the benign then the malignant nodules of the validation series
 * (the book's {@code ben_list + mal_list}), unaugmented, epoch ignored.
 */
public final class MalignancySamples extends ChunkSamples {

	/**
	 * @param epochSize book: 100,000; 0 = the list length
	 * @param withNonNodules the book's 1-in-4 non-nodule candidates (see the class comment)
	 */
	public record Settings(int epochSize, long seed, Augmentation.Settings augmentation, boolean withNonNodules) {
		/** 100,000 samples, seed 0, the classifier augmentation, nodules only. */
		public static Settings defaults() { return new Settings(100_000, 0, Augmentation.Settings.classifier(), false); }

		public Settings withEpochSize(int n) { return new Settings(n, seed, augmentation, withNonNodules); }
		public Settings withSeed(long s) { return new Settings(epochSize, s, augmentation, withNonNodules); }
		public Settings withAugmentation(Augmentation.Settings a) { return new Settings(epochSize, seed, a, withNonNodules); }
		public Settings withNonNodules(boolean b) { return new Settings(epochSize, seed, augmentation, b); }
	}

	private final boolean balanced, withNonNodules;
	private final List<CandidateInfo> benign, malignant, nonNodules, list;
	private final EpochOrder benignOrder, malignantOrder, nonNoduleOrder;

	private MalignancySamples(List<CandidateInfo> candidates, Crops crops, int epochSize, long seed,
		Augmentation.Settings augmentation, boolean balanced, boolean withNonNodules) {
		super(crops, seed, augmentation, epochSize);
		this.balanced = balanced;
		this.withNonNodules = withNonNodules;
		this.benign = candidates.stream().filter(c -> c.isNodule() && !c.isMalignant()).toList();
		this.malignant = candidates.stream().filter(c -> c.isNodule() && c.isMalignant()).toList();
		this.nonNodules = withNonNodules ? candidates.stream().filter(c -> !c.isNodule()).toList() : List.of();
		List<CandidateInfo> l = new ArrayList<>(benign);
		l.addAll(malignant);
		this.list = List.copyOf(l);
		if (balanced && (benign.isEmpty() || malignant.isEmpty()))
			throw new IllegalArgumentException("Malignancy training needs benign and malignant nodules; found " + benign.size() +
				" benign and " + malignant.size() + " malignant (is annotations_with_malignancy.csv there?)");
		if (withNonNodules && nonNodules.isEmpty()) throw new IllegalArgumentException("No non-nodule candidates to mix in");
		if (list.isEmpty()) throw new IllegalArgumentException("No nodules to sample from");
		this.benignOrder = new EpochOrder(seed, 0x42, benign.size());
		this.malignantOrder = new EpochOrder(seed, 0x4D, malignant.size());
		this.nonNoduleOrder = new EpochOrder(seed, 0x4E, Math.max(1, nonNodules.size()));
	}

	public static MalignancySamples training(LunaData data, Crops crops, Settings s) {
		List<CandidateInfo> c = data.candidates(false);
		int n = s.epochSize() == 0 ? (int) c.stream().filter(CandidateInfo::isNodule).count() : s.epochSize();
		return new MalignancySamples(c, crops, Math.max(1, n), s.seed(), s.augmentation(), true, s.withNonNodules());
	}

	public static MalignancySamples validation(LunaData data, Crops crops) {
		List<CandidateInfo> c = data.candidates(true).stream().filter(CandidateInfo::isNodule).toList();
		return new MalignancySamples(c, crops, Math.max(1, c.size()), 0, Augmentation.Settings.none(), false, false);
	}

	@Override
	public CandidateInfo candidate(int epoch, int index) {
		if (!balanced) return list.get(index % list.size());
		if (index % 2 != 0) return malignant.get(malignantOrder.at(epoch, index / 2));
		if (withNonNodules) {
			if (index % 4 == 0) return benign.get(benignOrder.at(epoch, index / 4));
			return nonNodules.get(nonNoduleOrder.at(epoch, index / 4));
		}
		return benign.get(benignOrder.at(epoch, index / 2));
	}

	@Override
	boolean label(CandidateInfo c) { return c.isMalignant(); }

	@Override
	public String identity() {
		return String.format(Locale.ROOT, "%d malignancy samples (%d benign, %d malignant nodules%s) of series digest %s%s", epochSize(),
			benign.size(), malignant.size(), withNonNodules ? ", " + nonNodules.size() + " non-nodules" : "",
			SampleSource.seriesDigest(list.stream().map(CandidateInfo::seriesUid)), balanced ? ", balanced" : "");
	}

	public int benignCount() { return benign.size(); }
	public int malignantCount() { return malignant.size(); }
}
