package org.lungnodules.analysis;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * ROC curves and their area for a score that should be higher for positives (malignant nodules),
 * with a bootstrap interval. Tied scores enter together (one diagonal step), so the area is the
 * trapezoid rule's, which equals the Mann–Whitney probability that a random positive outscores a
 * random negative with ties counted as one half (scikit-learn's roc_auc_score gives the same).
 */
public final class RocAnalysis {

	private RocAnalysis() {}

	/**
	 * @param fpr, tpr   from (0, 0) to (1, 1), one point per distinct score, highest score first
	 * @param thresholds the score of each point (+∞ for the first)
	 */
	public record Roc(double[] fpr, double[] tpr, double[] thresholds, double auc, int positives, int negatives) {
		public Roc {
			fpr = fpr.clone();
			tpr = tpr.clone();
			thresholds = thresholds.clone();
		}

		@Override
		public double[] fpr() { return fpr.clone(); }

		@Override
		public double[] tpr() { return tpr.clone(); }

		@Override
		public double[] thresholds() { return thresholds.clone(); }
	}

	/** The area with its bootstrap percentile interval (resampling the items with replacement). */
	public record Interval(double auc, double low, double high, int samples, int usable, long seed) {}

	/** The ROC curve; needs at least one positive and one negative. */
	public static Roc curve(double[] scores, boolean[] positive) {
		int n = check(scores, positive);
		Integer[] order = new Integer[n];
		for (int i = 0; i < n; i++) order[i] = i;
		Arrays.sort(order, (a, b) -> Double.compare(scores[b] + 0.0, scores[a] + 0.0));
		int positives = 0;
		for (boolean p : positive) if (p) positives++;
		int negatives = n - positives;
		if (positives == 0 || negatives == 0)
			throw new IllegalArgumentException("A ROC curve needs positives and negatives; got " + positives + " and " + negatives);
		double[] fpr = new double[n + 1], tpr = new double[n + 1], thr = new double[n + 1];
		thr[0] = Double.POSITIVE_INFINITY;
		int points = 1, tp = 0, fp = 0;
		double auc = 0;
		for (int i = 0; i < n; ) {
			double s = scores[order[i]] + 0.0;
			int j = i;
			while (j < n && scores[order[j]] + 0.0 == s) {
				if (positive[order[j]]) tp++;
				else fp++;
				j++;
			}
			fpr[points] = fp / (double) negatives;
			tpr[points] = tp / (double) positives;
			thr[points] = s;
			auc += (fpr[points] - fpr[points - 1]) * (tpr[points] + tpr[points - 1]) / 2;
			points++;
			i = j;
		}
		return new Roc(Arrays.copyOf(fpr, points), Arrays.copyOf(tpr, points), Arrays.copyOf(thr, points), auc,
			positives, negatives);
	}

	/** The area alone. */
	public static double auc(double[] scores, boolean[] positive) {
		return curve(scores, positive).auc();
	}

	/**
	 * The area and its interval: {@code samples} resamples of the items with replacement, each
	 * resample's area, and the sorted values at ⌊Pz·n⌋ and ⌊(1−Pz)·n⌋ with Pz = (1 − confidence)/2,
	 * the same rule as the LUNA16 script's FROC band. Resamples lacking a class have no area and are
	 * left out ({@code usable} counts the others).
	 */
	public static Interval bootstrap(double[] scores, boolean[] positive, int samples, long seed, double confidence) {
		int n = check(scores, positive);
		double auc = auc(scores, positive);
		if (samples <= 0) return new Interval(auc, Double.NaN, Double.NaN, 0, 0, seed);
		SplittableRandom random = new SplittableRandom(seed);
		double[] areas = new double[samples];
		double[] s = new double[n];
		boolean[] p = new boolean[n];
		int usable = 0;
		for (int b = 0; b < samples; b++) {
			int positives = 0;
			for (int k = 0; k < n; k++) {
				int i = random.nextInt(n);
				s[k] = scores[i];
				p[k] = positive[i];
				if (p[k]) positives++;
			}
			if (positives == 0 || positives == n) continue;
			areas[usable++] = auc(s, p);
		}
		double[] bounds = FrocEvaluation.percentileBounds(Arrays.copyOf(areas, usable), confidence);
		return new Interval(auc, bounds[1], bounds[2], samples, usable, seed);
	}

	private static int check(double[] scores, boolean[] positive) {
		if (scores.length != positive.length)
			throw new IllegalArgumentException(scores.length + " scores but " + positive.length + " labels");
		for (double v : scores)
			if (!Double.isFinite(v)) throw new IllegalArgumentException("A score is not finite: " + v);
		return scores.length;
	}
}
