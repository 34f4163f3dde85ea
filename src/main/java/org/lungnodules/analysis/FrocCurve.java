package org.lungnodules.analysis;

import java.util.Arrays;

/**
 * A FROC curve as the LUNA16 script builds it with scikit-learn's roc_curve: the point (0, 0),
 * then one point per distinct probability, from the highest down, each giving the average number
 * of false positives per scan and the sensitivity of the marks at or above that probability. Tied
 * probabilities enter together, so a tie of a hit and a false positive makes one diagonal step.
 * <p>
 * Points that roc_curve would drop as collinear ({@code drop_intermediate}) are kept here; they do
 * not change the piecewise-linear curve, so every interpolated value is the same.
 *
 * @param fps         average false positives per scan at each point (non-decreasing)
 * @param sensitivity fraction of all nodules hit at each point (non-decreasing)
 * @param thresholds  the probability of each point; +∞ for the first point
 */
public record FrocCurve(double[] fps, double[] sensitivity, double[] thresholds) {

	public FrocCurve {
		if (fps.length != sensitivity.length || fps.length != thresholds.length || fps.length == 0)
			throw new IllegalArgumentException("A FROC curve needs equally long, non-empty arrays");
		fps = fps.clone();
		sensitivity = sensitivity.clone();
		thresholds = thresholds.clone();
	}

	@Override
	public double[] fps() { return fps.clone(); }

	@Override
	public double[] sensitivity() { return sensitivity.clone(); }

	@Override
	public double[] thresholds() { return thresholds.clone(); }

	public int size() { return fps.length; }

	/**
	 * The sensitivity at {@code fpPerScan} false positives per scan, interpolated as numpy's
	 * {@code interp(x, fps, sens)} does on the script's curve: take the last point whose FP rate
	 * is ≤ x (so on a vertical run of points, the top one); if it lies exactly at x use it,
	 * otherwise interpolate linearly to the next point; beyond the last point keep its sensitivity.
	 */
	public double sensitivityAt(double fpPerScan) {
		return interpolate(fps, sensitivity, fpPerScan);
	}

	static double interpolate(double[] xs, double[] ys, double x) {
		if (x < xs[0]) return ys[0];
		// Rightmost index with xs[j] <= x.
		int lo = 0, hi = xs.length;
		while (lo < hi) {
			int mid = (lo + hi) >>> 1;
			if (x >= xs[mid]) lo = mid + 1;
			else hi = mid;
		}
		int j = lo - 1;
		if (j == xs.length - 1 || xs[j] == x) return ys[j];
		return between(xs[j], ys[j], xs[j + 1], ys[j + 1], x);
	}

	/** numpy's formula, operation for operation, so results agree to the last bit. */
	static double between(double x0, double y0, double x1, double y1, double x) {
		double slope = (y1 - y0) / (x1 - x0);
		return slope * (x - x0) + y0;
	}

	@Override
	public boolean equals(Object o) {
		return o instanceof FrocCurve c && Arrays.equals(fps, c.fps) && Arrays.equals(sensitivity, c.sensitivity) &&
			Arrays.equals(thresholds, c.thresholds);
	}

	@Override
	public int hashCode() {
		return 31 * (31 * Arrays.hashCode(fps) + Arrays.hashCode(sensitivity)) + Arrays.hashCode(thresholds);
	}

	@Override
	public String toString() {
		return "FrocCurve[" + fps.length + " points, up to " + fps[fps.length - 1] + " FPs/scan, sensitivity " +
			sensitivity[sensitivity.length - 1] + "]";
	}
}
