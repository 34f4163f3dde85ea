package org.lungnodules.phantom;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * The chest of one phantom: an analytic body (ellipses that change with height), drawn slice by
 * slice, then ribs and pulmonary vessels drawn as tubes, and small pleural bumps.
 * <p>
 * World axes follow LPS as in LUNA16: +x is the patient's left, +y posterior, +z superior (higher
 * slice index = closer to the head). All sizes are in mm and scale with the field of view, so a
 * 512-voxel-wide scan holds an adult-sized chest and a 256-wide one a proportionally smaller one;
 * vessels and nodules keep their real sizes.
 */
final class PhantomAnatomy {

	// HU of each tissue (before texture and noise). Values are typical unenhanced CT numbers.
	static final double HU_AIR = -1000, HU_FAT = -100, HU_MUSCLE = 40, HU_MEDIASTINUM = 15, HU_HEART = 40,
		HU_LIVER = 55, HU_LUNG = -850, HU_VESSEL = 40, HU_TRABECULAR = 400, HU_CORTICAL = 700, HU_RIB = 600,
		HU_CARTILAGE = 130, HU_DISC = 80, HU_CSF = 15, HU_STERNUM = 450, HU_PLEURAL_BUMP = 40;

	private final PhantomRaster raster;
	private final Texture texture;

	// Body centre and sizes (mm).
	final double cx, cy;
	final double bodyA, bodyB, fat, muscle, ribRadius;
	/** Inner rib cage ellipse: the lungs' outer (pleural) boundary. */
	final double cageA, cageB;
	/** Rib centre-line ellipse. */
	private final double ribA, ribB;
	private final double mediastinumHalfWidth;
	private final double spineY, spineR, canalY, canalR, vertebraPeriod, vertebraPhase;
	private final double aortaX, aortaY, aortaR;
	private final double tracheaY, tracheaR;
	private final double heartX, heartY, heartA, heartB;
	private final double lungBottomZ, lungApexZ, domeHeight;

	// Structures other code places candidates on.
	final List<double[]> branchPoints = new ArrayList<>();
	final List<double[]> vesselPoints = new ArrayList<>();
	final List<double[]> ribEnds = new ArrayList<>();
	final List<double[]> pleuralBumps = new ArrayList<>();

	PhantomAnatomy(PhantomRaster raster, SplittableRandom rng) {
		this.raster = raster;
		this.texture = new Texture(raster, rng);
		double halfX = raster.width * raster.sx / 2, halfY = raster.height * raster.sy / 2;
		cx = raster.ox + (raster.width - 1) * raster.sx / 2 + uniform(rng, -0.02, 0.02) * halfX;
		cy = raster.oy + (raster.height - 1) * raster.sy / 2 + uniform(rng, -0.02, 0.02) * halfY;
		// Reference adult: 320 mm wide, 225 mm deep, in a 358 mm field of view.
		double scale = Math.min(halfX / 178, halfY / 135) * uniform(rng, 0.92, 1.0);
		bodyA = 160 * scale;
		bodyB = 112 * scale * uniform(rng, 0.93, 1.07);
		fat = Math.max(2, 12 * scale * uniform(rng, 0.6, 1.4));
		muscle = Math.max(2.5, 10 * scale);
		ribRadius = Math.max(2.2, 4.5 * scale);
		ribA = bodyA - fat - muscle - ribRadius;
		ribB = bodyB - fat - muscle - ribRadius;
		cageA = ribA - ribRadius - 1.0;
		cageB = ribB - ribRadius - 1.0;

		spineR = 0.12 * cageA;
		spineY = 0.62 * cageB;
		canalR = 0.45 * spineR;
		canalY = spineY + spineR + 0.9 * canalR;
		mediastinumHalfWidth = Math.max(0.16 * cageA * uniform(rng, 0.9, 1.15), spineR + 3);
		vertebraPeriod = 24 * Math.max(scale, 0.6);
		vertebraPhase = uniform(rng, 0, vertebraPeriod);
		aortaR = 0.085 * cageA;
		aortaX = mediastinumHalfWidth + 0.2 * aortaR;
		aortaY = spineY - 0.5 * spineR;
		tracheaR = Math.max(4, 0.065 * cageA);
		tracheaY = spineY - spineR - tracheaR - 3;
		heartX = 0.12 * cageA;
		heartY = -0.22 * cageB;
		heartA = 0.45 * cageA * uniform(rng, 0.9, 1.1);
		heartB = 0.50 * cageB * uniform(rng, 0.9, 1.1);

		double zBottom = raster.oz, zTop = raster.oz + (raster.depth - 1) * raster.sz;
		lungBottomZ = zBottom + 0.04 * (zTop - zBottom);
		lungApexZ = zBottom + 0.95 * (zTop - zBottom);
		domeHeight = 0.28 * (lungApexZ - lungBottomZ) * uniform(rng, 0.85, 1.15);
	}

	static double uniform(SplittableRandom rng, double lo, double hi) {
		return lo + (hi - lo) * rng.nextDouble();
	}

	Texture texture() {
		return texture;
	}

	/** Height within the lungs: 0 at the lowest lung base, 1 at the apex. */
	private double lungHeight(double z) {
		return (z - lungBottomZ) / (lungApexZ - lungBottomZ);
	}

	/** Approximate signed distance to an axis-aligned ellipse (positive inside), good near its edge. */
	static double ellipseDistance(double x, double y, double a, double b) {
		double qx = x / a, qy = y / b;
		double gx = qx / a, gy = qy / b;
		double grad = 2 * Math.sqrt(gx * gx + gy * gy);
		double f = 1 - (qx * qx + qy * qy);
		return grad < 1e-9 ? Math.min(a, b) : f / grad;
	}

	/** Heart size factor at height t (0 where there is no heart). */
	private static double heartScale(double t) {
		double u = (t - 0.28) / 0.34;
		return u >= 1 || u <= -1 ? 0 : Math.sqrt(1 - u * u);
	}

	/** Lung cross-section factor at height t: 1 below the upper third, shrinking to 0 at the apex. */
	private static double apexScale(double t) {
		if (t >= 1 || t < 0) return 0;
		if (t < 0.7) return 1;
		double u = (t - 0.7) / 0.3;
		return Math.sqrt(1 - u * u);
	}

	private double domeZ(double x, double y) {
		double u = (Math.abs(x) - 0.45 * cageA) / (0.55 * cageA), v = (y + 0.05 * cageB) / (0.95 * cageB);
		// A flat-topped dome (1 − ρ⁴), as the diaphragm's central tendon is: its top enters the
		// axial slices as a broad area, steepening towards the costophrenic recesses. (A paraboloid
		// would enter as a small round island of liver in the lung: a nodule look-alike.)
		double rho2 = u * u + v * v;
		double h = Math.max(0, 1 - rho2 * rho2);
		// The right hemidiaphragm (patient's right = -x) sits a little higher, as in most people.
		return lungBottomZ + domeHeight * h * (x < 0 ? 1.1 : 1.0);
	}

	/**
	 * Approximate signed distance (mm, positive inside) to the lungs: the minimum over the
	 * constraints that carve them (rib cage, mediastinum, heart, aorta, diaphragm, apex).
	 */
	double lungDistance(double wx, double wy, double wz) {
		double x = wx - cx, y = wy - cy;
		double t = lungHeight(wz);
		double d = ellipseDistance(x, y, cageA, cageB);
		d = Math.min(d, Math.abs(x) - mediastinumHalfWidth);
		double hs = heartScale(t);
		if (hs > 0) d = Math.min(d, -ellipseDistance(x - heartX, y - heartY, heartA * hs + 2, heartB * hs + 2));
		if (t < 0.85) d = Math.min(d, Math.hypot(x - aortaX, y - aortaY) - aortaR - 1.5);
		d = Math.min(d, wz - domeZ(x, y));
		double as = apexScale(t);
		if (as <= 0) return Math.min(d, -1);
		d = Math.min(d, ellipseDistance(Math.abs(x) - 0.5 * cageA, y - 0.1 * cageB, 0.62 * cageA * as, 1.05 * cageB * as));
		return d;
	}

	/** True when the nearest lung boundary is the chest wall (pleura against the ribs). */
	boolean chestWallIsNearest(double wx, double wy, double wz) {
		double wall = ellipseDistance(wx - cx, wy - cy, cageA, cageB);
		return wall <= lungDistance(wx, wy, wz) + 0.5;
	}

	/** Draws body, fat, muscle, lungs with texture, mediastinum, heart, aorta, trachea, spine and sternum. */
	void drawSlices(BooleanSupplier cancel) {
		PhantomRaster r = raster;
		short[] hu = r.hu;
		byte[] labels = r.labels;
		double invEdge = 1 / r.edge;
		for (int zi = 0; zi < r.depth; zi++) {
			if (cancel != null && cancel.getAsBoolean()) throw new CancellationException("Phantom generation cancelled");
			double wz = r.oz + zi * r.sz;
			double t = lungHeight(wz);
			double hs = heartScale(t), as = apexScale(t);
			boolean aorta = t < 0.85, trachea = t > 0.6 && t < 1.05, sternum = t > 0.35 && t < 0.92;
			double vPhase = ((wz - vertebraPhase) % vertebraPeriod + vertebraPeriod) % vertebraPeriod;
			boolean disc = vPhase < 0.22 * vertebraPeriod;
			float[] texRows = texture.slice(zi);
			for (int yi = 0; yi < r.height; yi++) {
				double y = r.oy + yi * r.sy - cy;
				int row = (zi * r.height + yi) * r.width;
				for (int xi = 0; xi < r.width; xi++) {
					double x = r.ox + xi * r.sx - cx;
					int i = row + xi;
					double dBody = ellipseDistance(x, y, bodyA, bodyB);
					double wBody = clamp01(dBody * invEdge + 0.5);
					if (wBody == 0) {
						hu[i] = (short) HU_AIR;
						labels[i] = PhantomRaster.AIR;
						continue;
					}
					double tex = texture.value(texRows, yi, xi);
					double dInner = ellipseDistance(x, y, bodyA - fat, bodyB - fat);
					double wInner = clamp01(dInner * invEdge + 0.5);
					byte label = wInner < 0.5 ? PhantomRaster.FAT : PhantomRaster.SOFT;
					double inner = HU_MUSCLE + 0.3 * tex;
					double lungW = 0;
					double dCage = ellipseDistance(x, y, cageA, cageB);
					double ax = Math.abs(x);
					if (dCage > -r.edge) {
						// Inside the rib cage: mediastinal structures, then the lungs blended on top.
						double dLung = Math.min(dCage, ax - mediastinumHalfWidth);
						if (hs > 0) {
							double dHeart = ellipseDistance(x - heartX, y - heartY, heartA * hs, heartB * hs);
							if (dHeart > 0) inner = HU_HEART + 0.2 * tex;
							else if (dHeart > -2) inner = HU_FAT + 0.3 * tex; // pericardial fat
							else if (ax < mediastinumHalfWidth) inner = HU_MEDIASTINUM + 0.5 * tex;
							dLung = Math.min(dLung, -ellipseDistance(x - heartX, y - heartY, heartA * hs + 2, heartB * hs + 2));
						} else if (ax < mediastinumHalfWidth) inner = HU_MEDIASTINUM + 0.5 * tex;
						if (aorta) {
							double dA = Math.hypot(x - aortaX, y - aortaY);
							if (dA < aortaR) inner = HU_VESSEL + 0.2 * tex;
							dLung = Math.min(dLung, dA - aortaR - 1.5);
						}
						if (trachea) {
							double dT = Math.hypot(x, y - tracheaY);
							if (dT < tracheaR) {
								inner = -990;
								label = PhantomRaster.AIR;
							} else if (dT < tracheaR + 1.5) inner = HU_MUSCLE;
						}
						double zd = domeZ(x, y);
						if (wz < zd && ax >= mediastinumHalfWidth) inner = HU_LIVER + 0.3 * tex;
						dLung = Math.min(dLung, wz - zd);
						if (as > 0)
							dLung = Math.min(dLung, ellipseDistance(ax - 0.5 * cageA, y - 0.1 * cageB, 0.62 * cageA * as, 1.05 * cageB * as));
						else dLung = -1;
						lungW = clamp01(dLung * invEdge + 0.5);
					}
					// Spine (body, arch, spinous and transverse processes) and sternum override soft tissue.
					if (ax < 2 * spineR && y > spineY - spineR - 1) {
						double dV = Math.hypot(x, y - spineY);
						double dC = Math.hypot(x, y - canalY);
						if (dV < spineR) {
							inner = disc ? HU_DISC + 0.2 * tex : dV > spineR - 1.5 ? HU_CORTICAL : HU_TRABECULAR + 0.6 * tex;
							label = disc ? PhantomRaster.SOFT : PhantomRaster.BONE;
						} else if (dC < canalR) {
							inner = HU_CSF;
							label = PhantomRaster.SOFT;
						} else if (dC < canalR + 0.3 * spineR || (ax < 0.15 * spineR && y > canalY && y < canalY + canalR + 1.4 * spineR)
							|| (Math.abs(y - canalY) < 0.2 * spineR && ax < 1.7 * spineR)) {
							inner = HU_RIB;
							label = PhantomRaster.BONE;
						}
					}
					if (sternum && ax < 0.12 * cageA && Math.abs(y + ribB) < ribRadius * 1.2) {
						inner = HU_STERNUM;
						label = PhantomRaster.BONE;
					}
					double body = HU_FAT + 0.3 * tex + wInner * (inner - HU_FAT - 0.3 * tex);
					if (lungW > 0) {
						double lung = HU_LUNG + tex + 25 * y / cageB; // dependent (posterior) lung is denser
						body += lungW * (lung - body);
						if (lungW >= 0.5) label = PhantomRaster.LUNG;
					}
					double v = HU_AIR + wBody * (body - HU_AIR);
					if (wBody < 0.5) label = PhantomRaster.AIR;
					hu[i] = (short) Math.round(v);
					labels[i] = label;
				}
			}
		}
	}

	static double clamp01(double v) {
		return v <= 0 ? 0 : v >= 1 ? 1 : v;
	}

	/** Twelve pairs of ribs: arcs that fall anteriorly, with costal cartilage to the sternum on the upper seven. */
	void drawRibs(SplittableRandom rng) {
		int allowed = PhantomRaster.mask(PhantomRaster.FAT, PhantomRaster.SOFT);
		double height = lungApexZ - lungBottomZ;
		double spacing = 0.085 * height;
		for (int i = 0; i < 12; i++) {
			for (int side = -1; side <= 1; side += 2) {
				double zPost = lungApexZ - 0.03 * height - i * spacing + uniform(rng, -0.1, 0.1) * spacing;
				double drop = 0.18 * height * uniform(rng, 0.8, 1.2);
				double phi0 = 0.18, phi1 = Math.PI * Math.max(0.45, (i < 7 ? 0.80 - 0.01 * i : 0.78 - 0.04 * i)) + uniform(rng, -0.03, 0.03);
				int steps = Math.max(8, (int) Math.ceil((phi1 - phi0) * Math.max(ribA, ribB) / 4));
				double[] prev = null;
				double r = ribRadius * uniform(rng, 0.9, 1.1);
				for (int k = 0; k <= steps; k++) {
					double phi = phi0 + (phi1 - phi0) * k / steps;
					// Ribs fall fastest at the side: a smooth cosine profile from back to front.
					double fall = drop * (1 - Math.cos(Math.PI * k / steps)) / 2;
					double[] p = { cx + side * ribA * Math.sin(phi), cy + ribB * Math.cos(phi), zPost - fall };
					if (prev == null) {
						// Rib head: joins the transverse process of its vertebra.
						raster.tube(cx + side * 1.6 * spineR, cy + canalY, p[2], p[0], p[1], p[2], r * 0.8, r, HU_RIB, allowed, PhantomRaster.BONE);
						ribEnds.add(new double[] { cx + side * 1.6 * spineR, cy + canalY, p[2] });
					} else raster.tube(prev[0], prev[1], prev[2], p[0], p[1], p[2], r, r, HU_RIB, allowed, PhantomRaster.BONE);
					prev = p;
				}
				ribEnds.add(prev.clone());
				if (i < 7) raster.tube(prev[0], prev[1], prev[2], cx + side * 0.12 * cageA, cy - ribB, prev[2] - 0.02 * height,
					r * 0.85, r * 0.85, HU_CARTILAGE, allowed, PhantomRaster.SOFT);
			}
		}
	}

	/**
	 * Pulmonary vessels: from each hilum a few trunks of 3–4 mm radius grow and split with Murray's
	 * law (r³ = r₁³ + r₂³) until they are thinner than 0.5 mm or leave the lung.
	 */
	void drawVessels(SplittableRandom rng) {
		int allowed = PhantomRaster.mask(PhantomRaster.LUNG, PhantomRaster.VESSEL);
		for (int side = -1; side <= 1; side += 2) {
			double[] hilum = findHilum(side, rng);
			if (hilum == null) continue;
			double[][] trunks = { { side * 0.5, -0.2, 0.8 }, { side, 0.1, 0.1 }, { side * 0.5, 0.6, -0.6 }, { side * 0.5, -0.6, -0.5 },
				{ side * 0.8, 0.4, 0.4 }, { side * 0.6, -0.7, 0.3 }, { side * 0.7, 0.7, 0.0 }, { side * 0.3, 0.1, -0.9 } };
			int[] budget = { 2500 };
			for (double[] trunk : trunks) {
				double[] dir = normalize(new double[] { trunk[0] + uniform(rng, -0.2, 0.2), trunk[1] + uniform(rng, -0.2, 0.2),
					trunk[2] + uniform(rng, -0.2, 0.2) });
				grow(hilum, hilum, dir, uniform(rng, 2.8, 4.0) * Math.min(1, Math.max(0.6, cageA / 130)), rng, allowed, budget);
			}
		}
	}

	private double[] findHilum(int side, SplittableRandom rng) {
		double z = lungBottomZ + 0.55 * (lungApexZ - lungBottomZ);
		for (int attempt = 0; attempt < 400; attempt++) {
			double x = cx + side * (mediastinumHalfWidth + uniform(rng, 4, 0.25 * cageA));
			double y = cy + uniform(rng, -0.25, 0.25) * cageB;
			double zz = z + uniform(rng, -0.1, 0.1) * (lungApexZ - lungBottomZ);
			if (lungDistance(x, y, zz) > 3) return new double[] { x, y, zz };
		}
		return null;
	}

	private void grow(double[] hilum, double[] p, double[] dir, double r, SplittableRandom rng, int allowed, int[] budget) {
		// Explicit stack instead of recursion: trees can be deep.
		ArrayList<Object[]> stack = new ArrayList<>();
		stack.add(new Object[] { p, dir, r });
		while (!stack.isEmpty() && budget[0] > 0) {
			Object[] item = stack.remove(stack.size() - 1);
			double[] a = (double[]) item[0], d = (double[]) item[1];
			double ra = (Double) item[2];
			double len = ra * uniform(rng, 4, 7) + uniform(rng, 4, 9);
			double[] b = null;
			// A branch heading out of the lung turns away (vessels follow the lung's shape) or shortens.
			for (int tries = 0; tries < 6 && b == null; tries++) {
				double[] c = { a[0] + d[0] * len, a[1] + d[1] * len, a[2] + d[2] * len };
				if (lungDistance(c[0], c[1], c[2]) > ra + 0.5) b = c;
				else {
					d = rotate(d, randomPerpendicular(d, rng), Math.toRadians(uniform(rng, 20, 60)));
					if (tries % 2 == 1) len = Math.max(1.5, len * 0.6);
				}
			}
			if (b == null) continue;
			budget[0]--;
			double rb = ra * 0.96;
			raster.tube(a[0], a[1], a[2], b[0], b[1], b[2], ra, rb, HU_VESSEL, allowed, PhantomRaster.VESSEL);
			vesselPoints.add(new double[] { (a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2, ra });
			double big = uniform(rng, 0.78, 0.95);
			double r1 = rb * big, r2 = rb * Math.cbrt(1 - big * big * big);
			if (r1 < 0.5) continue;
			branchPoints.add(b);
			// Children leave in a common random plane, the thinner one at the larger angle, both
			// pulled slightly away from the hilum so the tree spreads through the lung.
			double[] axis = randomPerpendicular(d, rng);
			double[] away = normalize(new double[] { b[0] - hilum[0], b[1] - hilum[1], b[2] - hilum[2] });
			double[] d1 = bend(rotate(d, axis, Math.toRadians(uniform(rng, 8, 30))), away, 0.25);
			double[] d2 = bend(rotate(d, axis, -Math.toRadians(uniform(rng, 30, 65))), away, 0.25);
			if (r2 >= 0.5) stack.add(new Object[] { b, d2, r2 });
			stack.add(new Object[] { b, d1, r1 });
		}
	}

	/**
	 * Pleural plaques: flat lenses of soft tissue on the pleura, 8–20 mm across and 0.8–2 mm thick
	 * where they bulge into the lung, the look-alike of juxta-pleural nodules that real chests have
	 * (plaques, focal pleural thickening). They are flat because real ones are: a round bump of a
	 * few millimetres would simply be a small juxta-pleural nodule.
	 */
	void drawPleuralBumps(SplittableRandom rng, int count) {
		int allowed = PhantomRaster.mask(PhantomRaster.LUNG, PhantomRaster.VESSEL, PhantomRaster.SOFT);
		for (int n = 0, attempts = 0; n < count && attempts < count * 50; attempts++) {
			double[] q = chestWallPoint(rng);
			if (q == null) continue;
			double[] normal = { q[3], q[4], q[5] };
			double[] t1 = randomPerpendicular(normal, rng), t2 = cross(normal, t1);
			double thickness = uniform(rng, 0.8, 2.0);
			double[] radii = { thickness, uniform(rng, 4, 10), uniform(rng, 4, 10) };
			raster.ellipsoid(new double[] { q[0], q[1], q[2] }, new double[][] { normal, t1, t2 }, radii, HU_PLEURAL_BUMP, allowed,
				PhantomRaster.SOFT);
			pleuralBumps.add(new double[] { q[0] - normal[0] * 0.5 * thickness, q[1] - normal[1] * 0.5 * thickness,
				q[2] - normal[2] * 0.5 * thickness });
			n++;
		}
	}

	/**
	 * A random point on the pleura against the chest wall, with the outward direction: {x, y, z,
	 * ux, uy, uz}, or null if this try missed.
	 */
	double[] chestWallPoint(SplittableRandom rng) {
		double[] p = randomLungPoint(rng, 2);
		if (p == null) return null;
		double angle = uniform(rng, 0, 2 * Math.PI);
		double[] u = normalize(new double[] { Math.cos(angle), Math.sin(angle), uniform(rng, -0.2, 0.2) });
		double step = 0.25;
		for (int k = 0; k < 4000; k++) {
			double x = p[0] + u[0] * step * k, y = p[1] + u[1] * step * k, z = p[2] + u[2] * step * k;
			if (lungDistance(x, y, z) <= 0) {
				if (!chestWallIsNearest(x, y, z)) return null;
				return new double[] { x, y, z, u[0], u[1], u[2] };
			}
		}
		return null;
	}

	/** A uniformly random point at least {@code margin} mm inside the lungs, or null after many misses. */
	double[] randomLungPoint(SplittableRandom rng, double margin) {
		double zLo = Math.max(lungBottomZ, raster.oz), zHi = Math.min(lungApexZ, raster.oz + (raster.depth - 1) * raster.sz);
		for (int attempt = 0; attempt < 1000; attempt++) {
			double x = cx + uniform(rng, -cageA, cageA), y = cy + uniform(rng, -cageB, cageB), z = uniform(rng, zLo, zHi);
			if (lungDistance(x, y, z) > margin) return new double[] { x, y, z };
		}
		return null;
	}

	/** A point deep in one lung (side -1 right, +1 left) at mid height. */
	double[] lungLandmark(int side) {
		double z = lungBottomZ + 0.6 * (lungApexZ - lungBottomZ);
		double best = -1e9;
		double[] bestPoint = null;
		for (int i = 0; i <= 40; i++)
			for (int j = 0; j <= 40; j++) {
				double x = cx + side * (mediastinumHalfWidth + (cageA - mediastinumHalfWidth) * i / 40.0);
				double y = cy + cageB * (j / 20.0 - 1);
				double d = lungDistance(x, y, z);
				if (d > best) {
					best = d;
					bestPoint = new double[] { x, y, z };
				}
			}
		return bestPoint;
	}

	/** The centre of a vertebral body (not a disc), near mid height of the scan. */
	double[] spineLandmark() {
		double zMid = raster.oz + (raster.depth - 1) * raster.sz / 2;
		double k = Math.floor((zMid - vertebraPhase) / vertebraPeriod);
		double z = vertebraPhase + k * vertebraPeriod + 0.61 * vertebraPeriod;
		return new double[] { cx, cy + spineY, z };
	}

	static double[] normalize(double[] v) {
		double n = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
		return new double[] { v[0] / n, v[1] / n, v[2] / n };
	}

	private static double[] bend(double[] d, double[] toward, double amount) {
		return normalize(new double[] { d[0] + amount * toward[0], d[1] + amount * toward[1], d[2] + amount * toward[2] });
	}

	static double[] randomPerpendicular(double[] d, SplittableRandom rng) {
		double[] any = Math.abs(d[0]) < 0.9 ? new double[] { 1, 0, 0 } : new double[] { 0, 1, 0 };
		double[] p1 = normalize(cross(d, any));
		double[] p2 = cross(d, p1);
		double a = uniform(rng, 0, 2 * Math.PI);
		return normalize(new double[] { Math.cos(a) * p1[0] + Math.sin(a) * p2[0], Math.cos(a) * p1[1] + Math.sin(a) * p2[1],
			Math.cos(a) * p1[2] + Math.sin(a) * p2[2] });
	}

	static double[] cross(double[] a, double[] b) {
		return new double[] { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
	}

	/** Rodrigues rotation of v about the unit axis k. */
	static double[] rotate(double[] v, double[] k, double angle) {
		double c = Math.cos(angle), s = Math.sin(angle);
		double[] kxv = cross(k, v);
		double kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
		return normalize(new double[] { v[0] * c + kxv[0] * s + k[0] * kv * (1 - c), v[1] * c + kxv[1] * s + k[1] * kv * (1 - c),
			v[2] * c + kxv[2] * s + k[2] * kv * (1 - c) });
	}

	/**
	 * Smooth texture of about ±30 HU: a sum of products of random low-frequency cosines along the
	 * three axes (wavelengths 4–24 mm). Products of 1D tables make it cheap per voxel.
	 */
	static final class Texture {
		private static final int TERMS = 8;
		private final float[][] xs, ys, zs;
		private final int height;

		Texture(PhantomRaster r, SplittableRandom rng) {
			xs = new float[TERMS][];
			ys = new float[TERMS][];
			zs = new float[TERMS][];
			height = r.height;
			// Each product of three cosines has RMS 1/(2√2); 8 terms of amplitude 17 give RMS ≈ 17 HU.
			double amplitude = 17;
			for (int k = 0; k < TERMS; k++) {
				xs[k] = table(r.width, r.ox, r.sx, rng, amplitude);
				ys[k] = table(r.height, r.oy, r.sy, rng, 1);
				zs[k] = table(r.depth, r.oz, r.sz, rng, 1);
			}
		}

		private static float[] table(int n, double origin, double spacing, SplittableRandom rng, double amplitude) {
			double k = 2 * Math.PI / uniform(rng, 4, 24), phase = uniform(rng, 0, 2 * Math.PI);
			float[] t = new float[n];
			for (int i = 0; i < n; i++)
				t[i] = (float) (amplitude * Math.cos(k * (origin + i * spacing) + phase));
			return t;
		}

		/** Per-slice products of the y and z factors, [term * height + row]. */
		float[] slice(int z) {
			float[] out = new float[TERMS * height];
			for (int k = 0; k < TERMS; k++)
				for (int y = 0; y < height; y++)
					out[k * height + y] = ys[k][y] * zs[k][z];
			return out;
		}

		double value(float[] slice, int y, int x) {
			double s = 0;
			for (int k = 0; k < TERMS; k++)
				s += slice[k * height + y] * xs[k][x];
			return s;
		}

		double value(int z, int y, int x) {
			double s = 0;
			for (int k = 0; k < TERMS; k++)
				s += xs[k][x] * ys[k][y] * zs[k][z];
			return s;
		}
	}
}
