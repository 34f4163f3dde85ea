package org.lungnodules.ct;

import java.util.Arrays;

/**
 * Where a CT's voxels sit in patient space: origin, spacing and direction, all in x, y, z order (mm).
 * <p>
 * Voxel coordinates are given in the LUNA16 / book order (index, row, col) = (z, y, x). World
 * coordinates are (x, y, z) in mm. The direction matrix {@code D} is stored row-major with
 * {@code D[r][c]} = component r of the direction of image axis c, which is what SimpleITK's
 * {@code GetDirection()} returns. World = D · (col·sx, row·sy, index·sz) + origin.
 * <p>
 * The published recipe converts world to voxel with {@code (xyz - origin) @ inv(D) / spacing}.
 * With xyz as a row vector that is {@code inv(D)ᵀ · (xyz - origin)}, which is the inverse of its
 * own voxel-to-world ({@code D · v + origin}) only when {@code inv(D)ᵀ = inv(D)}, i.e. when D is
 * symmetric: the identity and axis flips, which is every LUNA16 scan, but not a rotated scan
 * (orthonormal is not enough: then the recipe applies D where Dᵀ is needed). We use the exact
 * inverse, as ITK does, so that the two conversions are always each other's inverse; results equal
 * the recipe's whenever the recipe is self-consistent.
 */
public final class Geometry {

	private final double[] origin;
	private final double[] spacing;
	private final double[] direction;
	private final double[] inverse;

	public Geometry(double[] origin, double[] spacing, double[] direction) {
		if (origin.length != 3 || spacing.length != 3 || direction.length != 9)
			throw new IllegalArgumentException("Geometry needs 3 origin values, 3 spacings and a 3x3 direction");
		for (double s : spacing)
			if (!(s > 0) || !Double.isFinite(s))
				throw new IllegalArgumentException("Voxel spacing must be positive and finite: " + Arrays.toString(spacing));
		for (double v : origin)
			if (!Double.isFinite(v)) throw new IllegalArgumentException("Origin must be finite: " + Arrays.toString(origin));
		this.origin = origin.clone();
		this.spacing = spacing.clone();
		this.direction = direction.clone();
		this.inverse = invert3x3(direction);
	}

	/** Identity direction with the given origin and spacing (x, y, z). */
	public static Geometry of(double[] origin, double[] spacing) {
		return new Geometry(origin, spacing, new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 });
	}

	public static Geometry unit() {
		return of(new double[3], new double[] { 1, 1, 1 });
	}

	public double[] origin() { return origin.clone(); }
	public double[] spacing() { return spacing.clone(); }
	/** Row-major 3x3, column c = direction of image axis c (x, y, z). */
	public double[] direction() { return direction.clone(); }

	public boolean isIdentityDirection() {
		double[] id = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
		for (int i = 0; i < 9; i++)
			if (Math.abs(direction[i] - id[i]) > 1e-9) return false;
		return true;
	}

	/** (index, row, col), possibly fractional, to world (x, y, z) in mm. */
	public double[] voxelToWorld(double index, double row, double col) {
		double vx = col * spacing[0], vy = row * spacing[1], vz = index * spacing[2];
		double[] w = new double[3];
		for (int r = 0; r < 3; r++)
			w[r] = direction[3 * r] * vx + direction[3 * r + 1] * vy + direction[3 * r + 2] * vz + origin[r];
		return w;
	}

	/** World (x, y, z) in mm to continuous (index, row, col). */
	public double[] worldToVoxel(double x, double y, double z) {
		double dx = x - origin[0], dy = y - origin[1], dz = z - origin[2];
		double[] v = new double[3];
		for (int r = 0; r < 3; r++)
			v[r] = inverse[3 * r] * dx + inverse[3 * r + 1] * dy + inverse[3 * r + 2] * dz;
		return new double[] { v[2] / spacing[2], v[1] / spacing[1], v[0] / spacing[0] };
	}

	/** World to integer (index, row, col), rounding halves to even as Python's round() does. */
	public int[] worldToVoxelRounded(double x, double y, double z) {
		double[] v = worldToVoxel(x, y, z);
		return new int[] { (int) Math.rint(v[0]), (int) Math.rint(v[1]), (int) Math.rint(v[2]) };
	}

	private static double[] invert3x3(double[] m) {
		double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
		double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
		if (!(Math.abs(det) > 1e-12) || !Double.isFinite(det))
			throw new IllegalArgumentException("Direction matrix is singular: " + Arrays.toString(m));
		return new double[] { (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
			(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
			(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det };
	}

	@Override
	public String toString() {
		return "Geometry[origin=" + Arrays.toString(origin) + ", spacing=" + Arrays.toString(spacing) +
			", direction=" + Arrays.toString(direction) + "]";
	}
}
