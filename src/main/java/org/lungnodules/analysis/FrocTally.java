package org.lungnodules.analysis;

import java.util.Arrays;

/**
 * The FROC entries of every scan after matching, arranged so that the curve of any multiset of
 * scans (all scans once, or a bootstrap resample) costs one pass over the entries and one over the
 * distinct probabilities, with no sorting: the distinct probabilities are sorted once, and every
 * entry stores the index of its probability among them.
 * <p>
 * Entries are the script's non-excluded FROC list: one per hit nodule (its best mark's
 * probability) and one per false-positive mark. Missed nodules only add to a scan's lesion count.
 */
final class FrocTally {

	/** Distinct probabilities, highest first. */
	final double[] groupProbability;
	/** Per scan: the probability index of each hit nodule's entry and of each false positive. */
	private final int[][] hitGroups, falsePositiveGroups;
	/** Per scan: nodules, hit or missed (the sensitivity's denominator). */
	private final int[] lesions;

	FrocTally(double[][] hitProbabilities, double[][] falsePositiveProbabilities, int[] lesions) {
		int scans = lesions.length;
		int total = 0;
		for (int s = 0; s < scans; s++) total += hitProbabilities[s].length + falsePositiveProbabilities[s].length;
		double[] all = new double[total];
		int k = 0;
		for (int s = 0; s < scans; s++) {
			for (double p : hitProbabilities[s]) all[k++] = p + 0.0; // -0.0 and 0.0 are one score, as in numpy
			for (double p : falsePositiveProbabilities[s]) all[k++] = p + 0.0;
		}
		Arrays.sort(all);
		int distinct = 0;
		for (int i = 0; i < all.length; i++)
			if (i == 0 || all[i] != all[i - 1]) all[distinct++] = all[i];
		groupProbability = new double[distinct];
		for (int i = 0; i < distinct; i++) groupProbability[i] = all[distinct - 1 - i];
		hitGroups = new int[scans][];
		falsePositiveGroups = new int[scans][];
		for (int s = 0; s < scans; s++) {
			hitGroups[s] = groupsOf(hitProbabilities[s]);
			falsePositiveGroups[s] = groupsOf(falsePositiveProbabilities[s]);
		}
		this.lesions = lesions.clone();
	}

	int scans() { return lesions.length; }

	int groups() { return groupProbability.length; }

	private int[] groupsOf(double[] probabilities) {
		int[] out = new int[probabilities.length];
		for (int i = 0; i < out.length; i++) {
			double p = probabilities[i] + 0.0;
			// groupProbability is descending; search the ascending mirror.
			int lo = 0, hi = groupProbability.length - 1;
			while (lo <= hi) {
				int mid = (lo + hi) >>> 1;
				if (groupProbability[mid] > p) lo = mid + 1;
				else if (groupProbability[mid] < p) hi = mid - 1;
				else { lo = mid; break; }
			}
			out[i] = lo;
		}
		return out;
	}

	/** Per-thread counters, one slot per distinct probability. */
	final class Scratch {
		final long[] hits = new long[groups()], falsePositives = new long[groups()];
	}

	/**
	 * Sensitivities at the ascending FP rates {@code levels} for the scans counted {@code count[s]}
	 * times each ({@code null}: every scan once). The FP rate divides by the resample's number of
	 * scans, which equals the number of scans, as in the script's bootstrap.
	 *
	 * @return false, with {@code out} filled with NaN, when the scans hold no nodule at all
	 */
	boolean sensitivities(int[] count, double[] levels, double[] out, Scratch scratch) {
		Totals t = accumulate(count, scratch);
		if (t.lesions == 0) {
			Arrays.fill(out, Double.NaN);
			clear(scratch);
			return false;
		}
		long cumHits = 0, cumFalse = 0;
		double prevX = 0, prevY = 0; // roc_curve's first point
		int next = 0;
		for (int g = 0; g < groups(); g++) {
			long h = scratch.hits[g], f = scratch.falsePositives[g];
			if (h == 0 && f == 0) continue;
			scratch.hits[g] = 0;
			scratch.falsePositives[g] = 0;
			cumHits += h;
			cumFalse += f;
			double x = fpRate(cumFalse, t), y = sensitivity(cumHits, t);
			// Each level lies at or after the previous point; the first point beyond it closes its segment.
			while (next < levels.length && x > levels[next]) {
				out[next] = prevX == levels[next] ? prevY : FrocCurve.between(prevX, prevY, x, y, levels[next]);
				next++;
			}
			prevX = x;
			prevY = y;
		}
		while (next < levels.length) out[next++] = prevY;
		return true;
	}

	/** The whole curve of all scans once. */
	FrocCurve curve() {
		Scratch scratch = new Scratch();
		Totals t = accumulate(null, scratch);
		int n = groups() + 1;
		double[] xs = new double[n], ys = new double[n], thresholds = new double[n];
		thresholds[0] = Double.POSITIVE_INFINITY;
		long cumHits = 0, cumFalse = 0;
		for (int g = 0; g < groups(); g++) {
			cumHits += scratch.hits[g];
			cumFalse += scratch.falsePositives[g];
			xs[g + 1] = fpRate(cumFalse, t);
			ys[g + 1] = t.lesions == 0 ? Double.NaN : sensitivity(cumHits, t);
			thresholds[g + 1] = groupProbability[g];
		}
		if (t.lesions == 0) ys[0] = Double.NaN;
		return new FrocCurve(xs, ys, thresholds);
	}

	private record Totals(long lesions, long hits, long falsePositives, int scans) {}

	private Totals accumulate(int[] count, Scratch scratch) {
		long lesionTotal = 0, hitTotal = 0, falseTotal = 0;
		for (int s = 0; s < scans(); s++) {
			int c = count == null ? 1 : count[s];
			if (c == 0) continue;
			lesionTotal += (long) c * lesions[s];
			hitTotal += (long) c * hitGroups[s].length;
			falseTotal += (long) c * falsePositiveGroups[s].length;
			for (int g : hitGroups[s]) scratch.hits[g] += c;
			for (int g : falsePositiveGroups[s]) scratch.falsePositives[g] += c;
		}
		return new Totals(lesionTotal, hitTotal, falseTotal, scans());
	}

	private void clear(Scratch scratch) {
		Arrays.fill(scratch.hits, 0);
		Arrays.fill(scratch.falsePositives, 0);
	}

	/**
	 * The script's {@code fpr * (candidates - detected) / images} with {@code fpr = fps / fps[-1]},
	 * in the same order of operations: the round trip through the fraction is not always exact, and
	 * the last bit decides whether a level falls on or just before a vertical step of the curve.
	 * No false positive at all: the script's special case, every point at 0 FPs.
	 */
	private static double fpRate(long cumFalse, Totals t) {
		if (t.falsePositives == 0) return 0;
		double total = t.falsePositives;
		return cumFalse / total * total / t.scans;
	}

	/**
	 * The script's {@code tpr * detected / lesions}, same order of operations. With no nodule hit
	 * the script gets NaN from 0/0 (or fails on an empty list); the sensitivity is then 0.
	 */
	private static double sensitivity(long cumHits, Totals t) {
		if (t.hits == 0) return 0;
		double total = t.hits;
		return cumHits / total * total / t.lesions;
	}
}
