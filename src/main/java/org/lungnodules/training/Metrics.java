package org.lungnodules.training;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Epoch metrics in the published runs' form: the same names (TensorBoard tags), the same
 * definitions and log lines like the book's.
 * <p>
 * Where the published code would divide by zero (no positive predicted, no sample of a class) we
 * report 0 for precision, recall and F1 (as its segmentation code does) and NaN for a class mean
 * over no samples.
 */
public final class Metrics {

	private Metrics() {}

	/** One epoch of one split: metric name → value, in a fixed order, plus the book's log lines. */
	public record Result(int epoch, String split, Map<String, Double> values, String logText) {
		public double get(String name) {
			Double v = values.get(name);
			if (v == null) throw new IllegalArgumentException("no metric " + name + " in " + values.keySet());
			return v;
		}
	}

	/**
	 * Classifier metrics. A sample is predicted positive when its positive-class probability is
	 * above the negative one (the book's argmax: ties go to class 0).
	 *
	 * @param positive the true class of each sample
	 * @param pPositive softmax probability of the positive class
	 * @param loss per-sample cross-entropy
	 * @param diameterMm for the diameter-only baseline AUC, or null to skip it
	 * @param withAuc add {@code auc} (malignancy); the published nodule classifier logs none
	 */
	public static Result classification(int epoch, String split, boolean[] positive, float[] pPositive, float[] loss,
		double[] diameterMm, boolean withAuc) {
		int n = positive.length;
		int negCount = 0, posCount = 0, negCorrect = 0, posCorrect = 0;
		double lossAll = 0, lossNeg = 0, lossPos = 0;
		for (int i = 0; i < n; i++) {
			boolean predictedPositive = pPositive[i] > 1 - pPositive[i];
			lossAll += loss[i];
			if (positive[i]) {
				posCount++;
				lossPos += loss[i];
				if (predictedPositive) posCorrect++;
			} else {
				negCount++;
				lossNeg += loss[i];
				if (!predictedPositive) negCorrect++;
			}
		}
		int tp = posCorrect, fp = negCount - negCorrect, fn = posCount - posCorrect;
		double precision = tp + fp == 0 ? 0 : tp / (double) (tp + fp);
		double recall = tp + fn == 0 ? 0 : tp / (double) (tp + fn);
		double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

		Map<String, Double> v = new LinkedHashMap<>();
		v.put("loss/all", n == 0 ? Double.NaN : lossAll / n);
		v.put("loss/neg", negCount == 0 ? Double.NaN : lossNeg / negCount);
		v.put("loss/pos", posCount == 0 ? Double.NaN : lossPos / posCount);
		v.put("correct/all", n == 0 ? Double.NaN : 100.0 * (posCorrect + negCorrect) / n);
		v.put("correct/neg", negCount == 0 ? Double.NaN : 100.0 * negCorrect / negCount);
		v.put("correct/pos", posCount == 0 ? Double.NaN : 100.0 * posCorrect / posCount);
		v.put("pr/precision", precision);
		v.put("pr/recall", recall);
		v.put("pr/f1_score", f1);
		v.put("count/neg", (double) negCount);
		v.put("count/pos", (double) posCount);
		if (withAuc) {
			double[] scores = new double[n];
			for (int i = 0; i < n; i++) scores[i] = pPositive[i];
			v.put("auc", rocAuc(positive, scores));
			if (diameterMm != null) v.put("auc_diameter", rocAuc(positive, diameterMm));
		}

		String neg = withAuc ? "ben" : "neg", pos = withAuc ? "mal" : "pos";
		StringBuilder log = new StringBuilder();
		log.append(String.format(Locale.ROOT, "E%d %-8s %.4f loss, %5.1f%% correct, %.4f precision, %.4f recall, %.4f f1 score",
			epoch, split, v.get("loss/all"), v.get("correct/all"), precision, recall, f1));
		if (withAuc) {
			log.append(String.format(Locale.ROOT, ", %.4f auc", v.get("auc")));
			if (v.containsKey("auc_diameter")) log.append(String.format(Locale.ROOT, " (diameter only: %.4f auc)", v.get("auc_diameter")));
		}
		log.append('\n').append(String.format(Locale.ROOT, "E%d %-8s %.4f loss, %5.1f%% correct (%d of %d)",
			epoch, split + "_" + neg, v.get("loss/neg"), v.get("correct/neg"), negCorrect, negCount));
		log.append('\n').append(String.format(Locale.ROOT, "E%d %-8s %.4f loss, %5.1f%% correct (%d of %d)",
			epoch, split + "_" + pos, v.get("loss/pos"), v.get("correct/pos"), posCorrect, posCount));
		return new Result(epoch, split, v, log.toString());
	}

	/**
	 * Segmentation metrics over pixels (the book's): tp, fn and fp summed over the epoch, as
	 * percentages of the labelled pixels, and precision / recall / F1 from those sums.
	 *
	 * @param loss per-sample soft Dice loss (without the false-negative term)
	 */
	public static Result segmentation(int epoch, String split, float[] loss, double[] tp, double[] fn, double[] fp) {
		double sumTp = sum(tp), sumFn = sum(fn), sumFp = sum(fp), lossAll = 0;
		for (float l : loss) lossAll += l;
		double labelled = sumTp + sumFn;
		double div = labelled == 0 ? 1 : labelled;
		double precision = sumTp + sumFp == 0 ? 0 : sumTp / (sumTp + sumFp);
		double recall = labelled == 0 ? 0 : sumTp / labelled;
		double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
		Map<String, Double> v = new LinkedHashMap<>();
		v.put("loss/all", loss.length == 0 ? Double.NaN : lossAll / loss.length);
		v.put("percent_all/tp", 100 * sumTp / div);
		v.put("percent_all/fn", 100 * sumFn / div);
		v.put("percent_all/fp", 100 * sumFp / div);
		v.put("pr/precision", precision);
		v.put("pr/recall", recall);
		v.put("pr/f1_score", f1);
		String log = String.format(Locale.ROOT, "E%d %-8s %.4f loss, %.4f precision, %.4f recall, %.4f f1 score%n" +
			"E%d %-8s %.4f loss, %5.1f%% tp, %5.1f%% fn, %9.1f%% fp",
			epoch, split, v.get("loss/all"), precision, recall, f1,
			epoch, split + "_all", v.get("loss/all"), v.get("percent_all/tp"), v.get("percent_all/fn"), v.get("percent_all/fp"));
		return new Result(epoch, split, v, log);
	}

	/**
	 * Area under the ROC curve, exactly: the probability that a random positive scores above a
	 * random negative, ties counting one half (Mann–Whitney). The published code approximates the
	 * same area with 100 thresholds; this is the limit it approaches. NaN without both classes.
	 */
	public static double rocAuc(boolean[] positive, double[] score) {
		int n = positive.length;
		Integer[] order = new Integer[n];
		for (int i = 0; i < n; i++) order[i] = i;
		Arrays.sort(order, (a, b) -> Double.compare(score[a], score[b]));
		long pos = 0, neg = 0;
		double rankSumPos = 0;
		for (int i = 0; i < n;) {
			int j = i;
			while (j < n && score[order[j]] == score[order[i]]) j++;
			double midRank = (i + 1 + j) / 2.0; // ranks i+1 … j share their mean
			for (int k = i; k < j; k++) {
				if (positive[order[k]]) {
					pos++;
					rankSumPos += midRank;
				} else {
					neg++;
				}
			}
			i = j;
		}
		if (pos == 0 || neg == 0) return Double.NaN;
		return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
	}

	private static double sum(double[] a) {
		double s = 0;
		for (double x : a) s += x;
		return s;
	}
}
