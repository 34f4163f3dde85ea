package org.lungnodules.phantom;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.lungnodules.phantom.ChestPhantom.Nodule;
import org.lungnodules.phantom.ChestPhantom.NoduleShape;
import org.lungnodules.phantom.ChestPhantom.NoduleSpec;
import org.lungnodules.phantom.ChestPhantom.NoduleType;
import org.lungnodules.ct.Geometry;

/**
 * Places nodules in the lungs and draws them. A nodule's surface is r(u) = r · e(u) · (1 + Σ cₖ
 * P_l(u·wₖ)) along each direction u: e(u) an ellipsoid's radius, the sum a few zonal harmonics of
 * order 2–4 around random axes (lobulation); spiculated nodules add thin tapering spikes.
 */
final class NoduleDrawing {

	private NoduleDrawing() {}

	/** 26 directions (cube neighbours) used to check that a nodule fits where it is placed. */
	private static final double[][] DIRECTIONS = directions();

	static List<Nodule> placeAll(PhantomRaster raster, PhantomAnatomy anatomy, Geometry geometry, SplittableRandom rng,
		ChestPhantom.Options options, int count) {
		List<Nodule> placed = new ArrayList<>();
		List<double[]> spheres = new ArrayList<>(); // x, y, z, reach
		for (int n = 0; n < count; n++) {
			NoduleSpec spec = ChestPhantom.sampleNoduleSpec(rng, options);
			Shape shape = new Shape(spec, rng);
			double[] centre = null;
			for (int attempt = 0; attempt < 400 && centre == null; attempt++) {
				double[] c = spec.juxtaPleural() ? juxtaCentre(anatomy, shape, rng) : freeCentre(anatomy, shape, rng);
				if (c != null && insideVolume(raster, c, shape.bodyReach + 1) && clear(spheres, c, shape.reach)) centre = c;
			}
			if (centre == null) continue; // no room (tiny volume): fewer nodules, never a broken one
			int id = placed.size() + 1;
			draw(raster, anatomy.texture(), shape, centre, id);
			spheres.add(new double[] { centre[0], centre[1], centre[2], shape.reach });
			double[][] bbox = maskBox(raster, geometry, centre, shape.reach, id);
			double[] irc = geometry.worldToVoxel(centre[0], centre[1], centre[2]);
			placed.add(new Nodule(id, irc, centre, spec.diameterMm(), spec.type(), spec.shape(), spec.malignant(), spec.calcified(),
				spec.juxtaPleural(), spec.malignancyRatings(), bbox[0], bbox[1]));
		}
		return placed;
	}

	private static double[] freeCentre(PhantomAnatomy anatomy, Shape shape, SplittableRandom rng) {
		double[] c = anatomy.randomLungPoint(rng, 1);
		if (c == null) return null;
		for (double[] d : DIRECTIONS) {
			double s = shape.bodyReach + 1.5;
			if (anatomy.lungDistance(c[0] + d[0] * s, c[1] + d[1] * s, c[2] + d[2] * s) <= 0) return null;
		}
		return c;
	}

	/** A centre a little more than half a radius inside the pleura, so the nodule abuts the chest wall. */
	private static double[] juxtaCentre(PhantomAnatomy anatomy, Shape shape, SplittableRandom rng) {
		double[] q = anatomy.chestWallPoint(rng);
		if (q == null) return null;
		double in = 0.55 * shape.r;
		double[] c = { q[0] - q[3] * in, q[1] - q[4] * in, q[2] - q[5] * in };
		if (anatomy.lungDistance(c[0], c[1], c[2]) <= 0) return null;
		for (double[] d : DIRECTIONS) {
			if (d[0] * q[3] + d[1] * q[4] + d[2] * q[5] > -0.3) continue; // only the half facing the lung
			double s = shape.bodyReach + 1;
			if (anatomy.lungDistance(c[0] + d[0] * s, c[1] + d[1] * s, c[2] + d[2] * s) <= 0) return null;
		}
		return c;
	}

	private static boolean insideVolume(PhantomRaster r, double[] c, double reach) {
		return c[0] - reach >= r.ox && c[0] + reach <= r.ox + (r.width - 1) * r.sx && c[1] - reach >= r.oy &&
			c[1] + reach <= r.oy + (r.height - 1) * r.sy && c[2] - reach >= r.oz && c[2] + reach <= r.oz + (r.depth - 1) * r.sz;
	}

	private static boolean clear(List<double[]> spheres, double[] c, double reach) {
		for (double[] s : spheres) {
			double dx = c[0] - s[0], dy = c[1] - s[1], dz = c[2] - s[2], min = reach + s[3] + 2;
			if (dx * dx + dy * dy + dz * dz < min * min) return false;
		}
		return true;
	}

	private static void draw(PhantomRaster r, PhantomAnatomy.Texture texture, Shape shape, double[] c, int id) {
		byte label = (byte) (PhantomRaster.NODULE_ID_BASE + id);
		int allowed = PhantomRaster.mask(PhantomRaster.LUNG, PhantomRaster.VESSEL, PhantomRaster.SOFT);
		double reach = shape.bodyReach + r.edge;
		int x0 = r.minIndex(c[0] - reach, r.ox, r.sx, r.width), x1 = r.maxIndex(c[0] + reach, r.ox, r.sx, r.width);
		int y0 = r.minIndex(c[1] - reach, r.oy, r.sy, r.height), y1 = r.maxIndex(c[1] + reach, r.oy, r.sy, r.height);
		int z0 = r.minIndex(c[2] - reach, r.oz, r.sz, r.depth), z1 = r.maxIndex(c[2] + reach, r.oz, r.sz, r.depth);
		double invEdge = 1 / r.edge;
		for (int z = z0; z <= z1; z++) {
			double dz = r.oz + z * r.sz - c[2];
			for (int y = y0; y <= y1; y++) {
				double dy = r.oy + y * r.sy - c[1];
				for (int x = x0; x <= x1; x++) {
					double dx = r.ox + x * r.sx - c[0];
					double dist = Math.sqrt(dx * dx + dy * dy + dz * dz);
					if (dist > reach) continue;
					double radius = dist < 1e-9 ? shape.r : shape.radius(dx / dist, dy / dist, dz / dist);
					double w = (radius - dist) * invEdge + 0.5;
					if (w <= 0) continue;
					int i = r.index(z, y, x);
					if ((allowed >> PhantomRaster.tissue(r.labels[i]) & 1) == 0) continue;
					if (w > 1) w = 1;
					double value = shape.hu(dist, radius, texture.value(z, y, x));
					r.hu[i] = (short) Math.round(r.hu[i] + w * (value - r.hu[i]));
					if (w >= 0.5) r.labels[i] = label;
				}
			}
		}
		int spikeAllowed = PhantomRaster.mask(PhantomRaster.LUNG, PhantomRaster.VESSEL);
		for (double[] s : shape.spikes) {
			// s = direction (3), length beyond the surface, base radius
			double base = 0.8 * shape.radius(s[0], s[1], s[2]), tip = shape.radius(s[0], s[1], s[2]) + s[3];
			r.tube(c[0] + s[0] * base, c[1] + s[1] * base, c[2] + s[2] * base, c[0] + s[0] * tip, c[1] + s[1] * tip, c[2] + s[2] * tip,
				s[4], 0.25, shape.solidHu, spikeAllowed, label);
		}
	}

	/** Bounding box (world mm, voxel centres) of the voxels labelled with this nodule. */
	private static double[][] maskBox(PhantomRaster r, Geometry geometry, double[] c, double reach, int id) {
		byte label = (byte) (PhantomRaster.NODULE_ID_BASE + id);
		int x0 = r.minIndex(c[0] - reach - 1, r.ox, r.sx, r.width), x1 = r.maxIndex(c[0] + reach + 1, r.ox, r.sx, r.width);
		int y0 = r.minIndex(c[1] - reach - 1, r.oy, r.sy, r.height), y1 = r.maxIndex(c[1] + reach + 1, r.oy, r.sy, r.height);
		int z0 = r.minIndex(c[2] - reach - 1, r.oz, r.sz, r.depth), z1 = r.maxIndex(c[2] + reach + 1, r.oz, r.sz, r.depth);
		int[] lo = { Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE }, hi = { -1, -1, -1 };
		for (int z = z0; z <= z1; z++)
			for (int y = y0; y <= y1; y++)
				for (int x = x0; x <= x1; x++)
					if (r.labels[r.index(z, y, x)] == label) {
						lo[0] = Math.min(lo[0], z); lo[1] = Math.min(lo[1], y); lo[2] = Math.min(lo[2], x);
						hi[0] = Math.max(hi[0], z); hi[1] = Math.max(hi[1], y); hi[2] = Math.max(hi[2], x);
					}
		if (hi[0] < 0) return new double[][] { c.clone(), c.clone() };
		return new double[][] { geometry.voxelToWorld(lo[0], lo[1], lo[2]), geometry.voxelToWorld(hi[0], hi[1], hi[2]) };
	}

	private static double[][] directions() {
		List<double[]> list = new ArrayList<>();
		for (int i = -1; i <= 1; i++)
			for (int j = -1; j <= 1; j++)
				for (int k = -1; k <= 1; k++)
					if (i != 0 || j != 0 || k != 0) list.add(PhantomAnatomy.normalize(new double[] { i, j, k }));
		return list.toArray(new double[0][]);
	}

	/** One nodule's geometry and density pattern. */
	static final class Shape {
		final double r;
		final double[][] axes = new double[3][];
		final double[] invAxis2 = new double[3];
		final double[][] lobeAxes;
		final int[] lobeOrders;
		final double[] lobeCoefficients;
		final List<double[]> spikes = new ArrayList<>();
		/** Largest radius of the body, and of body plus spikes (mm). */
		final double bodyReach, reach;
		final NoduleType type;
		final double solidHu, glassHu, coreRadiusFraction, minCoreRadius, calcificationHu;
		final boolean calcified, diffuseCalcification;

		Shape(NoduleSpec spec, SplittableRandom rng) {
			r = spec.diameterMm() / 2;
			type = spec.type();
			// Ellipsoid with axis ratios 0.85–1.2, volume kept equal to the nominal sphere's.
			double[] a = { PhantomAnatomy.uniform(rng, 0.85, 1.2), PhantomAnatomy.uniform(rng, 0.85, 1.2), PhantomAnatomy.uniform(rng, 0.85, 1.2) };
			double norm = Math.cbrt(a[0] * a[1] * a[2]);
			double[] v0 = ChestPhantom.randomDirection(rng);
			double[] v1 = PhantomAnatomy.randomPerpendicular(v0, rng);
			axes[0] = v0; axes[1] = v1; axes[2] = PhantomAnatomy.cross(v0, v1);
			double maxAxis = 0;
			for (int i = 0; i < 3; i++) {
				a[i] /= norm;
				invAxis2[i] = 1 / (a[i] * a[i]);
				maxAxis = Math.max(maxAxis, a[i]);
			}
			int lobes = switch (spec.shape()) {
				case SMOOTH -> 0;
				case LOBULATED -> 3 + rng.nextInt(3);
				case SPICULATED -> 2;
			};
			double amplitude = spec.shape() == NoduleShape.LOBULATED ? 0.15 : 0.07;
			lobeAxes = new double[lobes][];
			lobeOrders = new int[lobes];
			lobeCoefficients = new double[lobes];
			double sumAbs = 0;
			for (int k = 0; k < lobes; k++) {
				lobeAxes[k] = ChestPhantom.randomDirection(rng);
				lobeOrders[k] = 2 + rng.nextInt(3);
				lobeCoefficients[k] = (rng.nextBoolean() ? 1 : -1) * PhantomAnatomy.uniform(rng, 0.4, 1) * amplitude;
				sumAbs += Math.abs(lobeCoefficients[k]);
			}
			bodyReach = r * maxAxis * (1 + sumAbs);
			double longest = 0;
			if (spec.shape() == NoduleShape.SPICULATED) {
				int n = 5 + rng.nextInt(10) + (int) (spec.diameterMm() / 3);
				for (int k = 0; k < n; k++) {
					double[] d = ChestPhantom.randomDirection(rng);
					double length = Math.max(1.5, r * PhantomAnatomy.uniform(rng, 0.4, 1.1));
					double base = Math.min(0.9, 0.15 * r + 0.4);
					spikes.add(new double[] { d[0], d[1], d[2], length, base });
					longest = Math.max(longest, length);
				}
			}
			reach = bodyReach + longest;
			solidHu = 30 + PhantomAnatomy.uniform(rng, -10, 10);
			glassHu = (type == NoduleType.GROUND_GLASS ? -600 : -500) + PhantomAnatomy.uniform(rng, -50, 50);
			coreRadiusFraction = PhantomAnatomy.uniform(rng, 0.35, 0.6);
			calcified = spec.calcified();
			diffuseCalcification = calcified && rng.nextDouble() < 0.4;
			calcificationHu = diffuseCalcification ? PhantomAnatomy.uniform(rng, 300, 450) : PhantomAnatomy.uniform(rng, 350, 700);
			// A core must cover the centre voxel even in a 3 mm nodule (z spacing up to ~1.25 mm).
			minCoreRadius = 1.5;
		}

		double radius(double ux, double uy, double uz) {
			double e = 0;
			for (int i = 0; i < 3; i++) {
				double p = ux * axes[i][0] + uy * axes[i][1] + uz * axes[i][2];
				e += p * p * invAxis2[i];
			}
			double rad = r / Math.sqrt(e);
			if (lobeOrders.length > 0) {
				double m = 1;
				for (int k = 0; k < lobeOrders.length; k++) {
					double t = ux * lobeAxes[k][0] + uy * lobeAxes[k][1] + uz * lobeAxes[k][2];
					m += lobeCoefficients[k] * legendre(lobeOrders[k], t);
				}
				rad *= m;
			}
			return rad;
		}

		private static double legendre(int order, double t) {
			double t2 = t * t;
			return switch (order) {
				case 2 -> (3 * t2 - 1) / 2;
				case 3 -> (5 * t2 - 3) * t / 2;
				default -> (35 * t2 * t2 - 30 * t2 + 3) / 8;
			};
		}

		/** HU inside the nodule at distance {@code dist} from the centre, where the surface is at {@code radius}. */
		double hu(double dist, double radius, double texture) {
			double solid = solidHu + texture;
			double coreRadius = Math.min(0.9 * radius, Math.max(minCoreRadius, coreRadiusFraction * radius));
			double core = PhantomAnatomy.clamp01((coreRadius - dist) / 1.2 + 0.5);
			return switch (type) {
				case GROUND_GLASS -> glassHu + 0.6 * texture;
				case PART_SOLID -> {
					double glass = glassHu + 0.6 * texture;
					yield glass + core * (solid - glass);
				}
				case SOLID -> {
					if (!calcified) yield solid;
					if (diffuseCalcification) yield calcificationHu + 0.5 * texture;
					yield solid + core * (calcificationHu - solid);
				}
			};
		}
	}
}
