package org.lungnodules.training;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The published augmentations (book part 2, chapters 12 and 13): random flips, offsets, scaling,
 * rotation about the index (z) axis and Gaussian noise, done on the CPU with plain loops.
 * <p>
 * <b>Coordinate conventions.</b> A transform is the matrix {@code theta} that PyTorch's
 * {@code affine_grid} takes: it maps normalised <i>output</i> coordinates (x, y[, z], 1), with x the
 * fastest axis (col), y the row and z the index, to normalised <i>input</i> coordinates; each axis
 * spans [-1, 1] over the whole array. With {@code align_corners=False} voxel i of an axis of N voxels
 * sits at (2i + 1)/N - 1, and {@code grid_sample} maps a normalised input coordinate v back to the
 * voxel position ((v + 1)·N - 1)/2, clamps it to [0, N-1] ({@code padding_mode='border'}) and
 * interpolates linearly between the neighbours. Folding both normalisations into one affine map
 * gives, for input axis a and output axes b (c_b = o_b + 0.5 - N_b/2, the distance of output voxel
 * o_b from the centre):
 * <pre>  i_a = N_a/2 - 0.5 + Σ_b theta[a][b] · (N_a/N_b) · c_b + theta[a][last] · N_a/2</pre>
 * which is what {@link #resample3d} and {@link #resample2d} evaluate (in double, so the identity and
 * flips are exact). An offset of t therefore moves the content by t·N/2 voxels: a fraction of the
 * <i>half</i> extent.
 * <p>
 * <b>Drawing.</b> As the book: for each axis a flip with probability ½ (diagonal × -1), an offset
 * uniform in ±offset, a scale factor 1 + uniform(±scale) (diagonal ×); then the matrix is multiplied
 * on the right by a rotation about z with an angle uniform in [0, 2π) (acting on x, y). The book's 2D
 * segmentation version puts its offsets in the matrix row that is dropped before {@code affine_grid},
 * so its offset has no effect; ours applies them (set offset 0 to reproduce the book exactly).
 * <p>
 * Everything takes its randomness from a caller-supplied generator: use {@link #sampleRandom} to
 * get one that is a pure function of (seed, epoch, index), so resumed runs augment identically.
 */
public final class Augmentation {

	/**
	 * Which augmentations to apply and how strongly. {@code offset} and {@code scale} are the
	 * maximum magnitudes (uniform in ±), {@code noiseHu} is the noise standard deviation (0 = none).
	 */
	public record Settings(boolean flip, double offset, double scale, boolean rotate, double noiseHu) {
		public Settings {
			if (!(offset >= 0) || !(scale >= 0) || !(scale < 1) || !(noiseHu >= 0))
				throw new IllegalArgumentException("Augmentation needs offset >= 0, 0 <= scale < 1 and noise >= 0, not " +
					offset + ", " + scale + ", " + noiseHu);
		}

		/** No augmentation. */
		public static Settings none() { return new Settings(false, 0, 0, false, 0); }

		/** The classifier training of chapter 12/14: flip, offset 0.1, scale 0.2, rotate, noise 25 HU. */
		public static Settings classifier() { return new Settings(true, 0.1, 0.2, true, 25); }

		/** The segmentation training of chapter 13: flip, offset 0.03, scale 0.2, rotate, noise 25 HU. */
		public static Settings segmentation() { return new Settings(true, 0.03, 0.2, true, 25); }

		/** The transforms by name, as the {@code augment=} key lists them (the book's --augment-* switches). */
		public static final List<String> NAMES = List.of("flip", "offset", "scale", "rotate", "noise");

		/**
		 * These settings with only the named transforms kept: {@code all}, {@code none}, or a comma-separated
		 * list of {@link #NAMES}.
		 *
		 * @throws IllegalArgumentException naming an unknown transform
		 */
		public Settings only(String names) {
			String t = names == null ? "all" : names.trim().toLowerCase(Locale.ROOT);
			if (t.isEmpty() || t.equals("all")) return this;
			Set<String> keep = new HashSet<>();
			if (!t.equals("none"))
				for (String n : t.split(",")) {
					String name = n.trim();
					if (!NAMES.contains(name))
						throw new IllegalArgumentException("augment: unknown transform '" + name + "'; use all, none or a list of " + NAMES);
					keep.add(name);
				}
			return new Settings(flip && keep.contains("flip"), keep.contains("offset") ? offset : 0, keep.contains("scale") ? scale : 0,
				rotate && keep.contains("rotate"), keep.contains("noise") ? noiseHu : 0);
		}

		public boolean isNone() { return !flip && offset == 0 && scale == 0 && !rotate && noiseHu == 0; }
	}

	private Augmentation() {}

	// ---------------------------------------------------------------- randomness

	/**
	 * A generator that depends only on (seed, epoch, index): the three are mixed with SplitMix64
	 * finalisers so that neighbouring indices or epochs give unrelated streams.
	 */
	public static SplittableRandom sampleRandom(long seed, int epoch, int index) {
		long h = mix(seed ^ 0x9E3779B97F4A7C15L);
		h = mix(h ^ (epoch * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L));
		h = mix(h ^ (index * 0x9E3779B97F4A7C15L + 0x27D4EB2F165667C5L));
		return new SplittableRandom(h);
	}

	static long mix(long z) {
		z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
		z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
		return z ^ (z >>> 31);
	}

	// ---------------------------------------------------------------- matrices

	/**
	 * The 3×4 theta (row-major) for per-axis flips, scales and offsets (x, y, z order) followed by a
	 * rotation by {@code angleRad} about z: theta = diag(flip·scale) · R(angle) with the offsets as
	 * the last column.
	 */
	public static double[] theta3d(boolean[] flip, double[] scale, double[] offset, double angleRad) {
		double c = Math.cos(angleRad), s = Math.sin(angleRad);
		double[][] r = { { c, -s, 0 }, { s, c, 0 }, { 0, 0, 1 } };
		double[] theta = new double[12];
		for (int a = 0; a < 3; a++) {
			double diag = (flip[a] ? -1 : 1) * scale[a];
			for (int b = 0; b < 3; b++)
				theta[4 * a + b] = diag * r[a][b];
			theta[4 * a + 3] = offset[a];
		}
		return theta;
	}

	/** The 2×3 theta (row-major) for flips, scales and offsets (x, y order), then a rotation. */
	public static double[] theta2d(boolean[] flip, double[] scale, double[] offset, double angleRad) {
		double c = Math.cos(angleRad), s = Math.sin(angleRad);
		double[][] r = { { c, -s }, { s, c } };
		double[] theta = new double[6];
		for (int a = 0; a < 2; a++) {
			double diag = (flip[a] ? -1 : 1) * scale[a];
			theta[3 * a] = diag * r[a][0];
			theta[3 * a + 1] = diag * r[a][1];
			theta[3 * a + 2] = offset[a];
		}
		return theta;
	}

	/** Draws a 3D theta as the book does (see the class comment). */
	public static double[] draw3d(Settings s, RandomGenerator rng) {
		return draw(s, rng, 3);
	}

	/** Draws a 2D theta (axes x, y) as the book's segmentation augmentation does, offsets applied. */
	public static double[] draw2d(Settings s, RandomGenerator rng) {
		return draw(s, rng, 2);
	}

	private static double[] draw(Settings s, RandomGenerator rng, int dims) {
		boolean[] flip = new boolean[dims];
		double[] scale = new double[dims], offset = new double[dims];
		for (int a = 0; a < dims; a++) {
			flip[a] = s.flip() && rng.nextDouble() > 0.5;
			offset[a] = s.offset() > 0 ? s.offset() * (rng.nextDouble() * 2 - 1) : 0;
			scale[a] = 1 + (s.scale() > 0 ? s.scale() * (rng.nextDouble() * 2 - 1) : 0);
		}
		double angle = s.rotate() ? rng.nextDouble() * 2 * Math.PI : 0;
		return dims == 3 ? theta3d(flip, scale, offset, angle) : theta2d(flip, scale, offset, angle);
	}

	// ---------------------------------------------------------------- resampling

	/**
	 * {@code grid_sample(src, affine_grid(theta), 'bilinear', padding_mode='border',
	 * align_corners=False)} for one 3D array of shape (depth, height, width), C order, output of the
	 * same shape. {@code theta} is 3×4 row-major over (x, y, z, 1).
	 */
	public static void resample3d(float[] src, int srcOffset, int depth, int height, int width, double[] theta,
		float[] dst, int dstOffset) {
		if (theta.length != 12) throw new IllegalArgumentException("A 3D theta has 12 values (3x4), not " + theta.length);
		int[] n = { width, height, depth };
		// m[a][b]: voxel-space coefficient of output axis b for input axis a; k[a]: constant term.
		double[][] m = new double[3][3];
		double[] k = new double[3];
		for (int a = 0; a < 3; a++) {
			for (int b = 0; b < 3; b++)
				m[a][b] = theta[4 * a + b] * n[a] / n[b];
			k[a] = n[a] / 2.0 - 0.5 + theta[4 * a + 3] * n[a] / 2.0;
		}
		int plane = height * width;
		int out = dstOffset;
		for (int oz = 0; oz < depth; oz++) {
			double cz = oz + 0.5 - depth / 2.0;
			for (int oy = 0; oy < height; oy++) {
				double cy = oy + 0.5 - height / 2.0;
				double bx = k[0] + m[0][1] * cy + m[0][2] * cz;
				double by = k[1] + m[1][1] * cy + m[1][2] * cz;
				double bz = k[2] + m[2][1] * cy + m[2][2] * cz;
				for (int ox = 0; ox < width; ox++) {
					double cx = ox + 0.5 - width / 2.0;
					double ix = clamp(bx + m[0][0] * cx, width - 1);
					double iy = clamp(by + m[1][0] * cx, height - 1);
					double iz = clamp(bz + m[2][0] * cx, depth - 1);
					int x0 = (int) ix, y0 = (int) iy, z0 = (int) iz;
					double fx = ix - x0, fy = iy - y0, fz = iz - z0;
					int x1 = Math.min(x0 + 1, width - 1), y1 = Math.min(y0 + 1, height - 1), z1 = Math.min(z0 + 1, depth - 1);
					int p00 = srcOffset + z0 * plane + y0 * width, p01 = srcOffset + z0 * plane + y1 * width;
					int p10 = srcOffset + z1 * plane + y0 * width, p11 = srcOffset + z1 * plane + y1 * width;
					double v00 = src[p00 + x0] + fx * (src[p00 + x1] - src[p00 + x0]);
					double v01 = src[p01 + x0] + fx * (src[p01 + x1] - src[p01 + x0]);
					double v10 = src[p10 + x0] + fx * (src[p10 + x1] - src[p10 + x0]);
					double v11 = src[p11 + x0] + fx * (src[p11 + x1] - src[p11 + x0]);
					double v0 = v00 + fy * (v01 - v00), v1 = v10 + fy * (v11 - v10);
					dst[out++] = (float) (v0 + fz * (v1 - v0));
				}
			}
		}
	}

	/**
	 * The 2D counterpart for {@code channels} planes of (height, width), all moved by the same
	 * {@code theta} (2×3 row-major over (x, y, 1)), as the book moves a 7-slice U-Net input.
	 */
	public static void resample2d(float[] src, int srcOffset, int channels, int height, int width, double[] theta,
		float[] dst, int dstOffset) {
		if (theta.length != 6) throw new IllegalArgumentException("A 2D theta has 6 values (2x3), not " + theta.length);
		double mxx = theta[0], mxy = theta[1] * width / height, kx = width / 2.0 - 0.5 + theta[2] * width / 2.0;
		double myx = theta[3] * height / width, myy = theta[4], ky = height / 2.0 - 0.5 + theta[5] * height / 2.0;
		int plane = height * width;
		for (int oy = 0; oy < height; oy++) {
			double cy = oy + 0.5 - height / 2.0;
			for (int ox = 0; ox < width; ox++) {
				double cx = ox + 0.5 - width / 2.0;
				double ix = clamp(kx + mxx * cx + mxy * cy, width - 1);
				double iy = clamp(ky + myx * cx + myy * cy, height - 1);
				int x0 = (int) ix, y0 = (int) iy;
				double fx = ix - x0, fy = iy - y0;
				int x1 = Math.min(x0 + 1, width - 1), y1 = Math.min(y0 + 1, height - 1);
				int r0 = y0 * width, r1 = y1 * width, o = oy * width + ox;
				for (int c = 0; c < channels; c++) {
					int base = srcOffset + c * plane;
					double v0 = src[base + r0 + x0] + fx * (src[base + r0 + x1] - src[base + r0 + x0]);
					double v1 = src[base + r1 + x0] + fx * (src[base + r1 + x1] - src[base + r1 + x0]);
					dst[dstOffset + c * plane + o] = (float) (v0 + fy * (v1 - v0));
				}
			}
		}
	}

	/** Border padding: positions outside the array read the edge voxel. NaN cannot occur for finite theta. */
	private static double clamp(double v, int max) {
		return v < 0 ? 0 : (v > max ? max : v);
	}

	/** Adds Gaussian noise of standard deviation {@code sigma} to {@code count} values. */
	public static void addNoise(float[] a, int offset, int count, double sigma, RandomGenerator rng) {
		if (sigma == 0) return;
		for (int i = offset; i < offset + count; i++)
			a[i] += (float) (sigma * rng.nextGaussian());
	}

	// ---------------------------------------------------------------- whole samples

	/**
	 * Augments one classifier chunk (depth×height×width) from {@code src} into {@code dst}: a drawn
	 * 3D transform, then noise. With {@link Settings#none()} it is a plain copy.
	 */
	public static void augmentChunk(Settings s, RandomGenerator rng, float[] src, int srcOffset, int depth, int height,
		int width, float[] dst, int dstOffset) {
		int count = depth * height * width;
		if (s.isNone()) {
			System.arraycopy(src, srcOffset, dst, dstOffset, count);
			return;
		}
		resample3d(src, srcOffset, depth, height, width, draw3d(s, rng), dst, dstOffset);
		addNoise(dst, dstOffset, count, s.noiseHu(), rng);
	}

	/**
	 * Augments a U-Net input (channels×height×width) and its mask (height×width, 0/1) with one drawn
	 * 2D transform: the mask is resampled bilinearly with the same grid and thresholded at > 0.5, as
	 * the book does; noise goes to the input only. {@code maskScratch} holds at least height·width floats.
	 */
	public static void augmentSlices(Settings s, RandomGenerator rng, float[] src, int srcOffset, int channels,
		int height, int width, float[] mask, int maskOffset, float[] dst, int dstOffset, float[] maskDst,
		int maskDstOffset, float[] maskScratch) {
		int plane = height * width;
		if (s.isNone()) {
			System.arraycopy(src, srcOffset, dst, dstOffset, channels * plane);
			System.arraycopy(mask, maskOffset, maskDst, maskDstOffset, plane);
			return;
		}
		double[] theta = draw2d(s, rng);
		resample2d(src, srcOffset, channels, height, width, theta, dst, dstOffset);
		resample2d(mask, maskOffset, 1, height, width, theta, maskScratch, 0);
		for (int i = 0; i < plane; i++)
			maskDst[maskDstOffset + i] = maskScratch[i] > 0.5f ? 1f : 0f;
		addNoise(dst, dstOffset, channels * plane, s.noiseHu(), rng);
	}
}
