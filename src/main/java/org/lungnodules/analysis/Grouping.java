package org.lungnodules.analysis;

import java.util.Arrays;

/**
 * The published grouping of the segmentation output, on flat C-order arrays (index slowest, col
 * fastest), as scipy.ndimage does it:
 * <ol>
 * <li>mask = probability &gt; threshold;</li>
 * <li>one {@code binary_erosion} with the 6-connected cross and scipy's default
 * {@code border_value=0}: outside the volume counts as background, so every voxel on the volume
 * border erodes;</li>
 * <li>{@code label} with the same cross (6-connectivity); labels 1..n are numbered in raster order of
 * each component's first voxel, which is the order scipy's label returns;</li>
 * <li>{@code center_of_mass} weighted by clamp(HU, −1000, 1000) + 1001, one sum per label.</li>
 * </ol>
 * Memory: a byte per voxel for the eroded mask and an int per voxel for the labels.
 */
public final class Grouping {

	private Grouping() {}

	/** Labelled components: labels[v] in 0..count (0 = background), sizes[l - 1] = voxels of label l. */
	public record Labels(int[] shapeIrc, int[] labels, int count, long[] sizes) {}

	/**
	 * Thresholds and erodes in one pass: voxel v is kept when it and its six face neighbours all
	 * exceed {@code threshold}; a voxel on the border has a neighbour outside, which is background.
	 * NaN probabilities never exceed the threshold.
	 */
	public static byte[] thresholdAndErode(float[] probability, int[] shapeIrc, double threshold) {
		int d = shapeIrc[0], h = shapeIrc[1], w = shapeIrc[2];
		checkLength(probability.length, shapeIrc);
		byte[] out = new byte[probability.length];
		int plane = h * w;
		for (int z = 1; z < d - 1; z++)
			for (int y = 1; y < h - 1; y++) {
				int base = z * plane + y * w;
				for (int x = 1; x < w - 1; x++) {
					int v = base + x;
					if (probability[v] > threshold && probability[v - 1] > threshold && probability[v + 1] > threshold &&
						probability[v - w] > threshold && probability[v + w] > threshold &&
						probability[v - plane] > threshold && probability[v + plane] > threshold)
						out[v] = 1;
				}
			}
		return out;
	}

	/**
	 * 6-connected components of a binary mask (non-zero = foreground), numbered in raster order of
	 * their first voxel. Union-find over provisional labels in one scan, then a second scan that gives
	 * each root its final number the first time it is met, which is exactly that raster order.
	 */
	public static Labels label(byte[] mask, int[] shapeIrc) {
		checkLength(mask.length, shapeIrc);
		int h = shapeIrc[1], w = shapeIrc[2];
		int plane = h * w;
		int[] labels = new int[mask.length];
		int[] parent = new int[1024];
		int next = 1;
		for (int v = 0; v < mask.length; v++) {
			if (mask[v] == 0) continue;
			int x = v % w, y = (v / w) % h, z = v / plane;
			int a = x > 0 ? labels[v - 1] : 0;
			int b = y > 0 ? labels[v - w] : 0;
			int c = z > 0 ? labels[v - plane] : 0;
			int l = a != 0 ? a : b != 0 ? b : c;
			if (l == 0) {
				if (next == parent.length) parent = Arrays.copyOf(parent, parent.length * 2);
				parent[next] = next;
				l = next++;
			} else {
				if (b != 0) union(parent, l, b);
				if (c != 0) union(parent, l, c);
			}
			labels[v] = l;
		}
		int[] finalOf = new int[next];
		int count = 0;
		long[] sizes = new long[16];
		for (int v = 0; v < labels.length; v++) {
			if (labels[v] == 0) continue;
			int root = find(parent, labels[v]);
			if (finalOf[root] == 0) {
				finalOf[root] = ++count;
				if (count > sizes.length) sizes = Arrays.copyOf(sizes, sizes.length * 2);
			}
			int f = finalOf[root];
			labels[v] = f;
			sizes[f - 1]++;
		}
		return new Labels(shapeIrc.clone(), labels, count, Arrays.copyOf(sizes, count));
	}

	private static int find(int[] parent, int i) {
		while (parent[i] != i) {
			parent[i] = parent[parent[i]]; // path halving keeps trees shallow
			i = parent[i];
		}
		return i;
	}

	private static void union(int[] parent, int a, int b) {
		int ra = find(parent, a), rb = find(parent, b);
		// The smaller provisional label becomes the root; any choice would do, the second scan renumbers.
		if (ra < rb) parent[rb] = ra;
		else if (rb < ra) parent[ra] = rb;
	}

	/**
	 * Accumulates weighted sums for the centres of mass, one slice at a time, so the caller can stream
	 * HU slices instead of holding a float copy of the whole CT.
	 */
	public static final class CentreAccumulator {
		private final Labels labels;
		private final double[] sumW, sumI, sumR, sumC;

		public CentreAccumulator(Labels labels) {
			this.labels = labels;
			int n = labels.count();
			sumW = new double[n];
			sumI = new double[n];
			sumR = new double[n];
			sumC = new double[n];
		}

		/** Adds slice {@code z}; {@code hu} is that slice, row-major, with HU already clamped to [−1000, 1000]. */
		public void addSlice(int z, float[] hu) {
			int h = labels.shapeIrc()[1], w = labels.shapeIrc()[2];
			int base = z * h * w;
			int[] lab = labels.labels();
			for (int i = 0; i < h * w; i++) {
				int l = lab[base + i];
				if (l == 0) continue;
				double weight = hu[i] + 1001.0;
				int k = l - 1;
				sumW[k] += weight;
				sumI[k] += weight * z;
				sumR[k] += weight * (i / w);
				sumC[k] += weight * (i % w);
			}
		}

		/** Centre (index, row, col) of label {@code l} (1-based). */
		public double[] centre(int l) {
			int k = l - 1;
			return new double[] { sumI[k] / sumW[k], sumR[k] / sumW[k], sumC[k] / sumW[k] };
		}
	}

	/** Whether slice z contains any labelled voxel (slices without one need no HU pass). */
	public static boolean sliceHasLabels(Labels labels, int z) {
		int plane = labels.shapeIrc()[1] * labels.shapeIrc()[2];
		int[] lab = labels.labels();
		for (int i = z * plane, end = i + plane; i < end; i++)
			if (lab[i] != 0) return true;
		return false;
	}

	private static void checkLength(int length, int[] shapeIrc) {
		if (shapeIrc.length != 3 || (long) shapeIrc[0] * shapeIrc[1] * shapeIrc[2] != length)
			throw new IllegalArgumentException("Array of " + length + " values does not have shape " + Arrays.toString(shapeIrc));
	}
}
