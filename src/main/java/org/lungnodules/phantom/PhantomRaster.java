package org.lungnodules.phantom;
import org.lungnodules.ct.Geometry;


/**
 * The voxel buffers of a phantom under construction (HU as short, one tissue code per voxel) and
 * the few drawing primitives that every object shares. Objects are drawn only inside their own
 * bounding box, so drawing cost scales with object size, not with the volume.
 * <p>
 * Edges are drawn with a linear partial-volume ramp one voxel wide (anti-aliasing); a voxel takes
 * an object's tissue code once it is at least half covered. {@link #blur} then applies the
 * scanner's point-spread function to the finished volume.
 */
final class PhantomRaster {

	/** Tissue codes stored in {@link #labels}; nodules store {@link #NODULE_ID_BASE} + id instead. */
	static final byte AIR = 0, FAT = 1, SOFT = 2, LUNG = 3, BONE = 4, VESSEL = 5, NODULE = 6;
	static final int NODULE_ID_BASE = 16;

	final short[] hu;
	final byte[] labels;
	final int width, height, depth;
	final double ox, oy, oz, sx, sy, sz;
	/** Width of the partial-volume ramp in mm (one in-plane voxel). */
	final double edge;

	PhantomRaster(int depth, int height, int width, Geometry geometry) {
		this.width = width;
		this.height = height;
		this.depth = depth;
		this.hu = new short[width * height * depth];
		this.labels = new byte[hu.length];
		double[] o = geometry.origin(), s = geometry.spacing();
		ox = o[0]; oy = o[1]; oz = o[2];
		sx = s[0]; sy = s[1]; sz = s[2];
		edge = Math.min(sx, sy);
	}

	/** Tissue code of a label value, folding nodule ids into {@link #NODULE}. */
	static int tissue(byte label) {
		return label >= NODULE_ID_BASE ? NODULE : label;
	}

	static int mask(int... tissues) {
		int m = 0;
		for (int t : tissues) m |= 1 << t;
		return m;
	}

	int index(int z, int y, int x) {
		return (z * height + y) * width + x;
	}

	int minIndex(double world, double origin, double spacing, int size) {
		return Math.max(0, (int) Math.floor((world - origin) / spacing));
	}

	int maxIndex(double world, double origin, double spacing, int size) {
		return Math.min(size - 1, (int) Math.ceil((world - origin) / spacing));
	}

	/**
	 * Draws a tube from a to b (world mm) whose radius changes linearly from ra to rb, with rounded
	 * ends; a == b draws a sphere. Only voxels whose tissue is in {@code allowed} (a bit mask of
	 * tissue codes) change, so vessels stay inside the lungs and ribs outside them.
	 */
	void tube(double ax, double ay, double az, double bx, double by, double bz, double ra, double rb,
		double value, int allowed, byte label) {
		double rmax = Math.max(ra, rb) + edge;
		int x0 = minIndex(Math.min(ax, bx) - rmax, ox, sx, width), x1 = maxIndex(Math.max(ax, bx) + rmax, ox, sx, width);
		int y0 = minIndex(Math.min(ay, by) - rmax, oy, sy, height), y1 = maxIndex(Math.max(ay, by) + rmax, oy, sy, height);
		int z0 = minIndex(Math.min(az, bz) - rmax, oz, sz, depth), z1 = maxIndex(Math.max(az, bz) + rmax, oz, sz, depth);
		double vx = bx - ax, vy = by - ay, vz = bz - az;
		double len2 = vx * vx + vy * vy + vz * vz;
		double invLen2 = len2 > 1e-12 ? 1 / len2 : 0;
		double invEdge = 1 / edge;
		for (int z = z0; z <= z1; z++) {
			double pz = oz + z * sz - az;
			for (int y = y0; y <= y1; y++) {
				double py = oy + y * sy - ay;
				int row = (z * height + y) * width;
				for (int x = x0; x <= x1; x++) {
					double px = ox + x * sx - ax;
					double t = (px * vx + py * vy + pz * vz) * invLen2;
					if (t < 0) t = 0;
					else if (t > 1) t = 1;
					double dx = px - t * vx, dy = py - t * vy, dz = pz - t * vz;
					double r = ra + t * (rb - ra);
					double w = (r - Math.sqrt(dx * dx + dy * dy + dz * dz)) * invEdge + 0.5;
					if (w <= 0) continue;
					int i = row + x;
					if ((allowed >> tissue(labels[i]) & 1) == 0) continue;
					if (w > 1) w = 1;
					hu[i] = (short) Math.round(hu[i] + w * (value - hu[i]));
					if (w >= 0.5) labels[i] = label;
				}
			}
		}
	}
	/**
	 * Draws an ellipsoid centred at c (world mm) with orthonormal axes {@code axes[i]} and semi-axes
	 * {@code radii[i]}, with the same partial-volume ramp and tissue rule as {@link #tube}.
	 */
	void ellipsoid(double[] c, double[][] axes, double[] radii, double value, int allowed, byte label) {
		double rmax = Math.max(radii[0], Math.max(radii[1], radii[2])) + edge;
		int x0 = minIndex(c[0] - rmax, ox, sx, width), x1 = maxIndex(c[0] + rmax, ox, sx, width);
		int y0 = minIndex(c[1] - rmax, oy, sy, height), y1 = maxIndex(c[1] + rmax, oy, sy, height);
		int z0 = minIndex(c[2] - rmax, oz, sz, depth), z1 = maxIndex(c[2] + rmax, oz, sz, depth);
		double invEdge = 1 / edge;
		double[] q = new double[3];
		for (int z = z0; z <= z1; z++) {
			double pz = oz + z * sz - c[2];
			for (int y = y0; y <= y1; y++) {
				double py = oy + y * sy - c[1];
				for (int x = x0; x <= x1; x++) {
					double px = ox + x * sx - c[0];
					double f = 0, g = 0;
					for (int a = 0; a < 3; a++) {
						q[a] = (px * axes[a][0] + py * axes[a][1] + pz * axes[a][2]) / radii[a];
						f += q[a] * q[a];
						double ga = q[a] / radii[a];
						g += ga * ga;
					}
					// Signed distance to the surface, (1 − f) / |∇f|: exact enough within a voxel of it.
					double d = g < 1e-18 ? rmax : (1 - f) / (2 * Math.sqrt(g));
					double w = d * invEdge + 0.5;
					if (w <= 0) continue;
					int i = (z * height + y) * width + x;
					if ((allowed >> tissue(labels[i]) & 1) == 0) continue;
					if (w > 1) w = 1;
					hu[i] = (short) Math.round(hu[i] + w * (value - hu[i]));
					if (w >= 0.5) labels[i] = label;
				}
			}
		}
	}

	/**
	 * Blurs the whole HU volume with a separable Gaussian point-spread function (σ in mm per axis),
	 * as every scanner does: edges drawn with the one-voxel ramp become the soft, slightly wider
	 * transitions of real reconstructions, and thin or small objects lose contrast in proportion to
	 * their size (partial volume). Rounds to whole HU once per pass; borders repeat the edge voxel.
	 */
	void blur(double sigmaXmm, double sigmaYmm, double sigmaZmm) {
		float[] kx = gaussianKernel(sigmaXmm / sx), ky = gaussianKernel(sigmaYmm / sy), kz = gaussianKernel(sigmaZmm / sz);
		int plane = width * height;
		if (kx.length > 1 || ky.length > 1) {
			float[] slice = new float[plane], tmp = new float[plane];
			for (int z = 0; z < depth; z++) {
				int base = z * plane;
				for (int i = 0; i < plane; i++) slice[i] = hu[base + i];
				for (int y = 0; y < height; y++) convolve(slice, y * width, 1, width, kx, tmp, y * width, 1);
				for (int x = 0; x < width; x++) convolve(tmp, x, width, height, ky, slice, x, width);
				for (int i = 0; i < plane; i++) hu[base + i] = (short) Math.round(slice[i]);
			}
		}
		if (kz.length > 1) {
			// One row (y) at a time: a depth × width block, convolved along z.
			float[] block = new float[depth * width], out = new float[depth * width];
			for (int y = 0; y < height; y++) {
				for (int z = 0; z < depth; z++)
					for (int x = 0; x < width; x++) block[z * width + x] = hu[(z * height + y) * width + x];
				for (int x = 0; x < width; x++) convolve(block, x, width, depth, kz, out, x, width);
				for (int z = 0; z < depth; z++)
					for (int x = 0; x < width; x++) hu[(z * height + y) * width + x] = (short) Math.round(out[z * width + x]);
			}
		}
	}

	/** Normalized Gaussian weights for σ in voxels, radius ⌈3σ⌉; {1} for a negligible σ. */
	static float[] gaussianKernel(double sigmaVoxels) {
		if (!(sigmaVoxels > 0.05)) return new float[] { 1 };
		int radius = (int) Math.ceil(3 * sigmaVoxels);
		float[] k = new float[2 * radius + 1];
		double sum = 0;
		for (int i = -radius; i <= radius; i++) sum += Math.exp(-0.5 * i * i / (sigmaVoxels * sigmaVoxels));
		for (int i = -radius; i <= radius; i++) k[i + radius] = (float) (Math.exp(-0.5 * i * i / (sigmaVoxels * sigmaVoxels)) / sum);
		return k;
	}

	/** One line of n samples (start, stride) convolved with k into dst (start, stride); edge samples repeat. */
	static void convolve(float[] src, int start, int stride, int n, float[] k, float[] dst, int dstStart, int dstStride) {
		int r = k.length / 2;
		for (int i = 0; i < n; i++) {
			float s = 0;
			for (int j = -r; j <= r; j++) {
				int t = i + j;
				t = t < 0 ? 0 : t >= n ? n - 1 : t;
				s += k[j + r] * src[start + t * stride];
			}
			dst[dstStart + i * dstStride] = s;
		}
	}
}
