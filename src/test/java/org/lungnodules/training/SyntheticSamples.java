package org.lungnodules.training;

import java.util.SplittableRandom;

/**
 * Tiny in-memory training data: positives hold a bright blob, negatives only noise. Sample i of
 * epoch e depends only on (seed, e, i), as the SampleSource contract requires.
 */
final class SyntheticSamples implements SampleSource {

	private final boolean segmentation;
	private final int size;
	private final long seed;
	private final boolean varyWithEpoch;

	/** Classifier chunks 1×32×48×48, label {} */
	static SyntheticSamples chunks(int size, long seed, boolean varyWithEpoch) {
		return new SyntheticSamples(false, size, seed, varyWithEpoch);
	}

	/** U-Net crops 7×16×16 with a mask of the blob, label 1×16×16 */
	static SyntheticSamples crops(int size, long seed, boolean varyWithEpoch) {
		return new SyntheticSamples(true, size, seed, varyWithEpoch);
	}

	private SyntheticSamples(boolean segmentation, int size, long seed, boolean varyWithEpoch) {
		this.segmentation = segmentation;
		this.size = size;
		this.seed = seed;
		this.varyWithEpoch = varyWithEpoch;
	}

	@Override
	public int epochSize() { return size; }

	@Override
	public int[] inputShape() { return segmentation ? new int[] { 7, 16, 16 } : new int[] { 1, 32, 48, 48 }; }

	@Override
	public int[] labelShape() { return segmentation ? new int[] { 1, 16, 16 } : new int[0]; }

	@Override
	public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) {
		SplittableRandom r = new SplittableRandom(seed * 1_000_003L + (varyWithEpoch ? epoch : 0) * 7919L + index);
		boolean positive = index % 2 == 0;
		double diameter = positive ? 4 + 8 * r.nextDouble() : 2 + 4 * r.nextDouble();
		if (segmentation) {
			int cy = 4 + r.nextInt(8), cx = 4 + r.nextInt(8);
			for (int c = 0; c < 7; c++)
				for (int y = 0; y < 16; y++)
					for (int x = 0; x < 16; x++) {
						boolean in = positive && (y - cy) * (y - cy) + (x - cx) * (x - cx) <= 6;
						input[inputOffset + (c * 16 + y) * 16 + x] = (float) ((in ? 1 : 0) + 0.3 * r.nextGaussian());
						if (c == 3) label[labelOffset + y * 16 + x] = in ? 1 : 0;
					}
		} else {
			int cz = 12 + r.nextInt(8), cy = 20 + r.nextInt(8), cx = 20 + r.nextInt(8);
			double radius2 = diameter * diameter / 4;
			for (int z = 0; z < 32; z++)
				for (int y = 0; y < 48; y++)
					for (int x = 0; x < 48; x++) {
						double d2 = (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx);
						float v = (float) (0.5 * r.nextGaussian());
						if (positive && d2 <= radius2) v += 2;
						input[inputOffset + (z * 48 + y) * 48 + x] = v;
					}
			label[labelOffset] = positive ? 1 : 0;
		}
		return new SampleInfo(positive, diameter, "synthetic-" + index);
	}
}
