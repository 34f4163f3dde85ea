package org.lungnodules.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.lungnodules.Progress;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.Mark;

/**
 * The LUNA16 detection score, computed as the challenge's evaluation script
 * (noduleCADEvaluationLUNA16.py) computes it, so that our numbers can stand next to published ones.
 * <p>
 * Per scan: keep at most {@value #MAX_MARKS_PER_SCAN} marks, the most probable (marks tied with the
 * first one left out are all dropped, as the script's strict {@code >} does); a mark hits a nodule
 * when its squared distance to the centre is below the squared radius (diameter &lt; 0 means 10 mm);
 * a hit nodule enters the FROC with its best mark's probability, further marks on it are double
 * detections, neither hits nor false positives. A mark on two nodules counts for both. Then marks
 * still unclaimed that lie on an excluded finding are dropped (the nodules are looked at first, so a
 * mark on a nodule and an excluded finding is a hit). Every other mark is a false positive. Missed
 * nodules count only in the sensitivity's denominator.
 * <p>
 * The curve is {@link FrocCurve}; the sensitivities at 1/8 … 8 FPs/scan are numpy's linear
 * interpolation of it and CPM is their mean. The script itself reads the curve on a grid of 10,001
 * points and prints no CPM; we interpolate at the seven rates themselves (the grid misses 0.25…4 by
 * up to 0.0004 FPs/scan). The 95% band is the script's bootstrap: resample the scans with
 * replacement, rebuild the curve, and take the sorted values at ⌊0.025·n⌋ and ⌊0.975·n⌋ for each FP
 * rate; the CPM interval is the same percentile of the resamples' CPMs.
 */
public final class FrocEvaluation {

	/** The seven FP rates of the CPM. */
	public static final double[] FP_LEVELS = { 0.125, 0.25, 0.5, 1, 2, 4, 8 };
	/** Their names as keys (summary.json): "0.125" … "8". */
	public static final List<String> FP_LEVEL_NAMES = List.of("0.125", "0.25", "0.5", "1", "2", "4", "8");
	public static final int MAX_MARKS_PER_SCAN = 100;
	public static final double CONFIDENCE = 0.95;
	/** The band is computed at 2^(k/40), k = -120..120: smooth on a log axis, with the seven rates on it. */
	static final int LEVELS_PER_OCTAVE = 40;

	private FrocEvaluation() {}

	/**
	 * @param maxMarksPerScan  the script uses 100; ≤ 0 keeps every mark
	 * @param bootstrapSamples 0 for no confidence band
	 */
	public record Settings(int maxMarksPerScan, int bootstrapSamples, long seed) {
		public Settings {
			if (bootstrapSamples < 0) throw new IllegalArgumentException("bootstrap samples must be ≥ 0, not " + bootstrapSamples);
		}

		public static Settings defaults() {
			return new Settings(MAX_MARKS_PER_SCAN, 1000, 42);
		}
	}

	/**
	 * The script's "candidate detection results".
	 *
	 * @param candidates       marks kept on the evaluated scans (after the per-scan cap)
	 * @param excludedHits     marks dropped because they lie on an excluded finding
	 * @param doubleDetections further marks on an already hit nodule
	 * @param cappedMarks      marks dropped by the per-scan cap
	 * @param ignoredMarks     marks on series that are not evaluated
	 */
	public record Counts(int scans, int nodules, int truePositives, int falsePositives, int falseNegatives,
		int candidates, int excludedHits, int doubleDetections, int cappedMarks, int ignoredMarks) {

		public double candidatesPerScan() {
			return scans == 0 ? 0 : (double) candidates / scans;
		}
	}

	/**
	 * The bootstrap band: at each of {@code levels} (ascending FP rates, the seven of the CPM among
	 * them) the mean and the percentile bounds of the resampled sensitivities.
	 *
	 * @param usable resamples that held at least one nodule (the others have no sensitivity)
	 */
	public record Bootstrap(int samples, int usable, long seed, double confidence, double[] levels, double[] mean,
		double[] low, double[] high, double cpmLow, double cpmHigh) {

		/** The bounds at FP_LEVELS[i]. */
		public double lowAt(int i) { return low[levelIndex(i)]; }

		public double highAt(int i) { return high[levelIndex(i)]; }

		private int levelIndex(int i) {
			return Arrays.binarySearch(levels, FP_LEVELS[i]);
		}
	}

	/**
	 * @param sensitivity at FP_LEVELS, over all scans
	 * @param cpm         mean of {@code sensitivity}
	 * @param bootstrap   null when no resampling was asked for
	 */
	public record Result(List<String> scans, Counts counts, FrocCurve curve, double[] sensitivity, double cpm,
		Bootstrap bootstrap) {}

	// ---------------------------------------------------------------- choosing the scans

	/**
	 * The scans to evaluate. With a series list: exactly those (scans not in the annotations have no
	 * nodules; marks on other series are ignored, as the script does). Without: the series known
	 * from the annotations (and excluded findings) that have marks, or all of them if
	 * {@code allSeries}, in which case the scans without marks count with 0 marks. A series with
	 * marks that the annotations do not know is refused: it is either a scan without nodules, which
	 * needs the series list to be counted, or results of another data set.
	 */
	public static List<String> chooseScans(List<Mark> marks, List<Annotation> nodules, List<Annotation> excluded,
		List<String> seriesList, boolean allSeries) throws EvaluationException {
		if (seriesList != null) {
			if (allSeries) throw new EvaluationException("Give either a series list or all_series=true, not both");
			Set<String> seen = new HashSet<>();
			for (String s : seriesList)
				if (!seen.add(s)) throw new EvaluationException("The series list names " + s + " twice");
			if (seriesList.isEmpty()) throw new EvaluationException("The series list is empty");
			return List.copyOf(seriesList);
		}
		Set<String> known = new LinkedHashSet<>();
		for (Annotation a : nodules) known.add(a.seriesUid());
		if (excluded != null) for (Annotation a : excluded) known.add(a.seriesUid());
		Set<String> marked = new LinkedHashSet<>();
		for (Mark m : marks) marked.add(m.seriesUid());
		List<String> unknown = new ArrayList<>();
		for (String s : marked) if (!known.contains(s)) unknown.add(s);
		if (!unknown.isEmpty())
			throw new EvaluationException(unknown.size() + " series of the results are not in the annotations" +
				(excluded != null ? " nor the excluded findings" : "") + ", e.g. " + unknown.get(0) +
				". If they are scans without nodules, list every evaluated scan with series=FILE (LUNA16's seriesuids.csv).");
		List<String> out = new ArrayList<>();
		for (String s : known) if (allSeries || marked.contains(s)) out.add(s);
		if (out.isEmpty()) throw new EvaluationException("No series to evaluate: the results have no marks");
		return out;
	}

	// ---------------------------------------------------------------- evaluation

	public static Result evaluate(List<Mark> marks, List<Annotation> nodules, List<Annotation> excluded,
		List<String> scans, Settings settings, Progress progress) throws EvaluationException {
		if (scans.isEmpty()) throw new EvaluationException("No scans to evaluate");
		Map<String, Integer> scanIndex = new HashMap<>();
		for (String s : scans)
			if (scanIndex.putIfAbsent(s, scanIndex.size()) != null) throw new EvaluationException("Scan " + s + " is listed twice");
		int n = scans.size();
		List<List<Mark>> marksOf = perScan(n);
		int ignoredMarks = 0;
		for (Mark m : marks) {
			Integer i = scanIndex.get(m.seriesUid());
			if (i == null) ignoredMarks++;
			else marksOf.get(i).add(m);
		}
		List<List<Annotation>> nodulesOf = group(nodules, scanIndex, n), excludedOf = group(excluded, scanIndex, n);

		double[][] hitP = new double[n][], falseP = new double[n][];
		int[] lesions = new int[n];
		int nodulesTotal = 0, tp = 0, fp = 0, fn = 0, candidates = 0, excludedHits = 0, doubles = 0, capped = 0;
		for (int s = 0; s < n; s++) {
			List<Mark> kept = keepMostProbable(marksOf.get(s), settings.maxMarksPerScan());
			capped += marksOf.get(s).size() - kept.size();
			candidates += kept.size();
			boolean[] claimed = new boolean[kept.size()];
			List<Double> hits = new ArrayList<>();
			for (Annotation a : nodulesOf.get(s)) {
				nodulesTotal++;
				lesions[s]++;
				double best = Double.NaN;
				int matches = 0;
				for (int k = 0; k < kept.size(); k++) {
					Mark m = kept.get(k);
					if (!hits(a, m)) continue;
					matches++;
					if (matches == 1 || m.probability() > best) best = m.probability();
					claimed[k] = true; // may already be claimed by a neighbouring nodule: a hit for both
				}
				if (matches > 1) doubles += matches - 1;
				if (matches > 0) {
					tp++;
					hits.add(best);
				}
				else fn++;
			}
			for (Annotation a : excludedOf.get(s))
				for (int k = 0; k < kept.size(); k++)
					if (!claimed[k] && hits(a, kept.get(k))) {
						claimed[k] = true;
						excludedHits++;
					}
			List<Double> falses = new ArrayList<>();
			for (int k = 0; k < kept.size(); k++)
				if (!claimed[k]) falses.add(kept.get(k).probability());
			fp += falses.size();
			hitP[s] = toArray(hits);
			falseP[s] = toArray(falses);
		}
		if (nodulesTotal == 0)
			throw new EvaluationException("The " + n + " evaluated scans hold no nodule: a sensitivity needs at least one");
		Counts counts = new Counts(n, nodulesTotal, tp, fp, fn, candidates, excludedHits, doubles, capped, ignoredMarks);

		FrocTally tally = new FrocTally(hitP, falseP, lesions);
		double[] sensitivity = new double[FP_LEVELS.length];
		tally.sensitivities(null, FP_LEVELS, sensitivity, tally.new Scratch());
		Bootstrap bootstrap = settings.bootstrapSamples() > 0 ? bootstrap(tally, settings, progress) : null;
		return new Result(List.copyOf(scans), counts, tally.curve(), sensitivity, cpm(sensitivity), bootstrap);
	}

	/** The script's mean of the seven sensitivities (a plain left-to-right sum, as numpy's for 7 values). */
	static double cpm(double[] sevenSensitivities) {
		double sum = 0;
		for (double v : sevenSensitivities) sum += v;
		return sum / sevenSensitivities.length;
	}

	/** A nodule is hit when the mark lies strictly inside its sphere; an unknown diameter (-1) means 10 mm. */
	static boolean hits(Annotation a, Mark m) {
		double diameter = a.diameterMm() < 0 ? 10.0 : a.diameterMm();
		double radius = diameter / 2.0;
		double dx = a.x() - m.x(), dy = a.y() - m.y(), dz = a.z() - m.z();
		return dx * dx + dy * dy + dz * dz < radius * radius;
	}

	/**
	 * The script's cap: with more than {@code max} marks, keep those strictly more probable than the
	 * (max+1)-th highest, in file order. Ties at the cut are all dropped, so fewer than max may stay.
	 */
	static List<Mark> keepMostProbable(List<Mark> marks, int max) {
		if (max <= 0 || marks.size() <= max) return marks;
		double[] p = new double[marks.size()];
		for (int i = 0; i < p.length; i++) p[i] = marks.get(i).probability();
		Arrays.sort(p);
		double cut = p[p.length - 1 - max];
		List<Mark> out = new ArrayList<>(max);
		for (Mark m : marks)
			if (m.probability() > cut && out.size() < max) out.add(m);
		return out;
	}

	// ---------------------------------------------------------------- bootstrap

	/** FP rates of the band: 2^(k/40) for k = -120..120, exact powers of two at the seven CPM rates. */
	static double[] bandLevels() {
		int octaves = 6;
		double[] levels = new double[octaves * LEVELS_PER_OCTAVE + 1];
		for (int k = 0; k < levels.length; k++) {
			int step = k - 3 * LEVELS_PER_OCTAVE;
			levels[k] = step % LEVELS_PER_OCTAVE == 0 ? Math.scalb(1.0, step / LEVELS_PER_OCTAVE)
				: Math.pow(2, step / (double) LEVELS_PER_OCTAVE);
		}
		return levels;
	}

	private static Bootstrap bootstrap(FrocTally tally, Settings settings, Progress progress) {
		int samples = settings.bootstrapSamples(), n = tally.scans();
		double[] levels = bandLevels();
		int[] cpmIndex = new int[FP_LEVELS.length];
		for (int i = 0; i < cpmIndex.length; i++) cpmIndex[i] = Arrays.binarySearch(levels, FP_LEVELS[i]);
		// One seed per resample, drawn in order: the result does not depend on how threads share the work.
		SplittableRandom master = new SplittableRandom(settings.seed());
		long[] seeds = new long[samples];
		for (int i = 0; i < samples; i++) seeds[i] = master.nextLong();
		double[][] sens = new double[samples][];
		double[] cpms = new double[samples];
		boolean[] usable = new boolean[samples];
		int workers = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), samples / 16));
		AtomicInteger done = new AtomicInteger();
		IntStream.range(0, workers).parallel().forEach(w -> {
			FrocTally.Scratch scratch = tally.new Scratch();
			int[] count = new int[n];
			double[] seven = new double[FP_LEVELS.length];
			for (int i = w; i < samples; i += workers) {
				progress.checkCanceled();
				SplittableRandom random = new SplittableRandom(seeds[i]);
				Arrays.fill(count, 0);
				for (int k = 0; k < n; k++) count[random.nextInt(n)]++;
				double[] out = new double[levels.length];
				usable[i] = tally.sensitivities(count, levels, out, scratch);
				sens[i] = out;
				for (int j = 0; j < seven.length; j++) seven[j] = out[cpmIndex[j]];
				cpms[i] = cpm(seven);
				int d = done.incrementAndGet();
				if (d % 50 == 0) synchronized (progress) {
					progress.report("FROC bootstrap", d / (double) samples);
				}
			}
		});
		progress.report("FROC bootstrap", 1);

		int valid = 0;
		for (boolean u : usable) if (u) valid++;
		double[] mean = new double[levels.length], low = new double[levels.length], high = new double[levels.length];
		double[] column = new double[valid];
		for (int l = 0; l < levels.length; l++) {
			int k = 0;
			for (int i = 0; i < samples; i++) if (usable[i]) column[k++] = sens[i][l];
			double[] bounds = percentileBounds(column, CONFIDENCE);
			mean[l] = bounds[0];
			low[l] = bounds[1];
			high[l] = bounds[2];
		}
		int k = 0;
		for (int i = 0; i < samples; i++) if (usable[i]) column[k++] = cpms[i];
		double[] cpmBounds = percentileBounds(column, CONFIDENCE);
		return new Bootstrap(samples, valid, settings.seed(), CONFIDENCE, levels, mean, low, high, cpmBounds[1], cpmBounds[2]);
	}

	/**
	 * The script's compute_mean_ci: mean, and the sorted values at ⌊Pz·n⌋ and ⌊(1−Pz)·n⌋ with
	 * Pz = (1 − confidence)/2 (indices clamped to the array). Sorts {@code values} in place.
	 * NaN for all three when there is no value.
	 */
	static double[] percentileBounds(double[] values, double confidence) {
		if (values.length == 0) return new double[] { Double.NaN, Double.NaN, Double.NaN };
		Arrays.sort(values);
		double sum = 0;
		for (double v : values) sum += v;
		double pz = (1.0 - confidence) / 2.0;
		int lo = Math.min(values.length - 1, (int) Math.floor(pz * values.length));
		int hi = Math.min(values.length - 1, (int) Math.floor((1.0 - pz) * values.length));
		return new double[] { sum / values.length, values[lo], values[hi] };
	}

	// ---------------------------------------------------------------- helpers

	private static <T> List<List<T>> perScan(int n) {
		List<List<T>> out = new ArrayList<>(n);
		for (int i = 0; i < n; i++) out.add(new ArrayList<>());
		return out;
	}

	private static List<List<Annotation>> group(List<Annotation> rows, Map<String, Integer> scanIndex, int n) {
		List<List<Annotation>> out = perScan(n);
		if (rows != null)
			for (Annotation a : rows) {
				Integer i = scanIndex.get(a.seriesUid());
				if (i != null) out.get(i).add(a);
			}
		return out;
	}

	private static double[] toArray(List<Double> values) {
		double[] out = new double[values.size()];
		for (int i = 0; i < out.length; i++) out[i] = values.get(i);
		return out;
	}
}
