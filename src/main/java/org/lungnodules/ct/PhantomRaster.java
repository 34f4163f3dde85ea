package org.lungnodules.ct;

/**
 * The voxel buffers of a phantom under construction (HU as short, one tissue code per voxel) and
 * the few drawing primitives that every object shares. Objects are drawn only inside their own
 * bounding box, so drawing cost scales with object size, not with the volume.
 * <p>
 * Edges are drawn with a linear partial-volume ramp one voxel wide, as a scanner would blur them;
 * a voxel takes an object's tissue code once it is at least half covered.
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
}
