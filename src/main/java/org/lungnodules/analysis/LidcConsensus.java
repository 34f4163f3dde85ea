package org.lungnodules.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.lungnodules.ct.Geometry;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.LidcReadings.LidcException;
import org.lungnodules.io.LidcReadings.Nodule;
import org.lungnodules.io.LidcReadings.Roi;

/**
 * The readers' nodules of one CT grouped into physical nodules, and per nodule what the readers
 * agree on: a consensus mask, its volume and longest axial diameter, the median ratings.
 * <p>
 * <b>Slices.</b> Each contour is put on the CT slice nearest to its {@code imageZposition}; one
 * more than half a slice spacing away from every slice is an error that names the ROI (the XML
 * does not belong to this CT, or the CT is missing slices).
 * <p>
 * <b>Clustering</b> follows pylidc's {@code Scan.cluster_annotations} (metric "min"): two readers'
 * nodules are linked when the smallest distance between their contour points, in world mm, is at
 * most the tolerance (default: the in-plane pixel spacing); clusters are the connected components.
 * When a cluster holds two nodules of the same reader, the tolerance shrinks by a factor 0.9 and
 * the linking starts again, down to 0.1 mm (below that the clusters are kept as they are, with a
 * warning). Nodules under 3 mm and non-nodules are points, not contours, and are not clustered,
 * as pylidc leaves them out of its annotations too.
 * <p>
 * <b>Masks.</b> A reader's mask on a slice is the union of its inclusion=TRUE contours filled,
 * minus its inclusion=FALSE contours filled. A filled contour holds the pixels whose centres lie
 * inside the polygon through the edge points (even-odd rule) <i>and the edge pixels themselves</i>:
 * LIDC's readers traced the nodule's boundary pixels, and pylidc's boolean masks count them too.
 * The consensus mask holds the voxels inside at least {@code agreement} (0.5) of the cluster's
 * reader masks.
 * <p>
 * <b>Centre.</b> {@link Cluster#centre()} is the mean of the readers' mask centroids (world mm),
 * which is how LUNA16 built its annotation from pylidc's clusters; the consensus mask's own
 * centroid is {@link Cluster#consensusCentre()}.
 */
public final class LidcConsensus {

	/**
	 * @param tolerance mm; NaN = the CT's in-plane pixel spacing (pylidc's default)
	 * @param factor shrink factor of the tolerance when a cluster holds a reader twice
	 * @param minTolerance mm; the tolerance does not shrink below this
	 * @param agreement fraction of the cluster's readers that must include a voxel for the consensus
	 */
	public record Settings(double tolerance, double factor, double minTolerance, double agreement) {
		public Settings {
			if (!Double.isNaN(tolerance) && !(tolerance > 0 && tolerance < 1e6))
				throw new IllegalArgumentException("tolerance must be positive mm (or NaN for the pixel spacing): " + tolerance);
			if (!(factor > 0 && factor < 1)) throw new IllegalArgumentException("factor must be in (0, 1): " + factor);
			if (!(agreement > 0 && agreement <= 1)) throw new IllegalArgumentException("agreement must be in (0, 1]: " + agreement);
			if (!(minTolerance > 0)) throw new IllegalArgumentException("minTolerance must be positive: " + minTolerance);
		}

		public static Settings defaults() { return new Settings(Double.NaN, 0.9, 0.1, 0.5); }
	}

	/** A binary mask inside a box of the CT: start and size in (index, row, col), bits in C order. */
	public static final class Mask {
		private final int[] start, size;
		private final BitSet bits;

		Mask(int[] start, int[] size, BitSet bits) {
			this.start = start.clone();
			this.size = size.clone();
			this.bits = bits;
		}

		/** A mask of the CT box {@code start}..{@code start+size} from 0/1 values in C order. */
		public static Mask of(int[] start, int[] size, boolean[] inside) {
			BitSet b = new BitSet(inside.length);
			for (int i = 0; i < inside.length; i++) if (inside[i]) b.set(i);
			return new Mask(start, size, b);
		}

		public int[] start() { return start.clone(); }
		public int[] size() { return size.clone(); }
		public int count() { return bits.cardinality(); }

		/** True when the CT voxel (index, row, col) is in the mask. */
		public boolean contains(int z, int y, int x) {
			int i = z - start[0], r = y - start[1], c = x - start[2];
			if (i < 0 || r < 0 || c < 0 || i >= size[0] || r >= size[1] || c >= size[2]) return false;
			return bits.get((i * size[1] + r) * size[2] + c);
		}

		/** The slices (CT indices, ascending) that hold mask voxels. */
		public int[] slices() {
			List<Integer> out = new ArrayList<>();
			int plane = size[1] * size[2];
			for (int i = 0; i < size[0]; i++) {
				int next = bits.nextSetBit(i * plane);
				if (next >= 0 && next < (i + 1) * plane) out.add(start[0] + i);
			}
			return out.stream().mapToInt(Integer::intValue).toArray();
		}

		public double volumeMm3(Geometry g) {
			double[] s = g.spacing();
			return count() * s[0] * s[1] * s[2];
		}

		/** Mean world (x, y, z) of the mask's voxel centres; NaNs when empty. */
		public double[] centroid(Geometry g) {
			double si = 0, sr = 0, sc = 0;
			int n = 0;
			for (int b = bits.nextSetBit(0); b >= 0; b = bits.nextSetBit(b + 1)) {
				si += b / (size[1] * size[2]);
				sr += (b / size[2]) % size[1];
				sc += b % size[2];
				n++;
			}
			if (n == 0) return new double[] { Double.NaN, Double.NaN, Double.NaN };
			return g.voxelToWorld(start[0] + si / n, start[1] + sr / n, start[2] + sc / n);
		}

		/**
		 * The longest distance (mm) between two voxel centres of the mask on one slice, over all
		 * slices: the axial diameter radiologists measure. Only edge voxels can be the ends of the
		 * longest chord, so only they are compared. 0 for an empty or one-voxel mask.
		 */
		public double longestAxialDiameterMm(Geometry g) {
			double[] s = g.spacing();
			double best = 0;
			int h = size[1], w = size[2];
			for (int i = 0; i < size[0]; i++) {
				List<double[]> edge = new ArrayList<>();
				for (int r = 0; r < h; r++)
					for (int c = 0; c < w; c++) {
						if (!at(i, r, c)) continue;
						if (!at(i, r - 1, c) || !at(i, r + 1, c) || !at(i, r, c - 1) || !at(i, r, c + 1)) edge.add(new double[] { c * s[0], r * s[1] });
					}
				// The longest chord joins two corners of the convex hull, which has few corners even when the edge is long.
				List<double[]> hull = hull(edge);
				for (int a = 0; a < hull.size(); a++)
					for (int b = a + 1; b < hull.size(); b++) {
						double dx = hull.get(a)[0] - hull.get(b)[0], dy = hull.get(a)[1] - hull.get(b)[1];
						best = Math.max(best, Math.sqrt(dx * dx + dy * dy));
					}
			}
			return best;
		}

		/** Convex hull (Andrew's monotone chain); collinear points dropped. */
		private static List<double[]> hull(List<double[]> pts) {
			if (pts.size() < 3) return pts;
			pts.sort((p, q) -> p[0] != q[0] ? Double.compare(p[0], q[0]) : Double.compare(p[1], q[1]));
			double[][] h = new double[2 * pts.size()][];
			int k = 0;
			for (double[] p : pts) {
				while (k >= 2 && cross(h[k - 2], h[k - 1], p) <= 0) k--;
				h[k++] = p;
			}
			for (int i = pts.size() - 2, lower = k + 1; i >= 0; i--) {
				double[] p = pts.get(i);
				while (k >= lower && cross(h[k - 2], h[k - 1], p) <= 0) k--;
				h[k++] = p;
			}
			return Arrays.asList(Arrays.copyOf(h, Math.max(1, k - 1)));
		}

		private static double cross(double[] o, double[] a, double[] b) {
			return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
		}

		private boolean at(int i, int r, int c) {
			if (r < 0 || c < 0 || r >= size[1] || c >= size[2]) return false;
			return bits.get((i * size[1] + r) * size[2] + c);
		}
	}

	/** One nodule: the readers' marks of it, their masks and what they agree on. */
	public record Cluster(List<Nodule> annotations, List<Mask> readerMasks, Mask consensus, double[] centre, double[] consensusCentre,
		Map<String, Double> medianRatings, double consensusVolumeMm3, double consensusDiameterMm, double[] readerVolumesMm3,
		double[] readerDiametersMm) {

		public int readers() { return annotations.size(); }

		/** Readers who rated malignancy 4 or 5. */
		public int malignantVotes() {
			int n = 0;
			for (Nodule a : annotations) {
				Integer m = a.rating("malignancy");
				if (m != null && m >= 4) n++;
			}
			return n;
		}

		/** The book's mal_bool: at least 2 readers rated malignancy 4 or more. */
		public boolean malignant() { return malignantVotes() >= 2; }

		/** The malignancy ratings given, in reader order. */
		public int[] malignancyRatings() {
			return annotations.stream().map(a -> a.rating("malignancy")).filter(m -> m != null).mapToInt(Integer::intValue).toArray();
		}

		/** Mean of the readers' longest axial diameters (LUNA16's diameter_mm is such a mean). */
		public double meanReaderDiameterMm() {
			return Arrays.stream(readerDiametersMm).average().orElse(Double.NaN);
		}

		/**
		 * The consensus box grown by {@code marginMm} on every side (at least one voxel), clipped
		 * to the CT: {start, size} in (index, row, col).
		 */
		public int[][] grownBox(Geometry g, int[] shapeIrc, double marginMm) {
			double[] s = g.spacing();
			int[] grow = { Math.max(1, (int) Math.ceil(marginMm / s[2])), Math.max(1, (int) Math.ceil(marginMm / s[1])),
				Math.max(1, (int) Math.ceil(marginMm / s[0])) };
			int[] lo = new int[3], hi = new int[3];
			Arrays.fill(lo, Integer.MAX_VALUE);
			Arrays.fill(hi, Integer.MIN_VALUE);
			for (Mask m : readerMasks) {
				int[] st = m.start(), sz = m.size();
				for (int a = 0; a < 3; a++) {
					lo[a] = Math.min(lo[a], st[a]);
					hi[a] = Math.max(hi[a], st[a] + sz[a]);
				}
			}
			int[] start = new int[3], size = new int[3];
			for (int a = 0; a < 3; a++) {
				start[a] = Math.max(0, lo[a] - grow[a]);
				size[a] = Math.min(shapeIrc[a], hi[a] + grow[a]) - start[a];
			}
			return new int[][] { start, size };
		}
	}

	/** The clusters, largest first by reader count then by position, and any warnings. */
	public record Result(List<Cluster> clusters, double tolerance, List<String> warnings) {}

	private final Geometry geometry;
	private final int[] shape;
	private final double[] sliceZ;
	private final Settings settings;
	private final java.nio.file.Path file;
	/** The CT axis (0 = col, 1 = row) along world x and along world y, their signs; axisX -1 when the CT is not axial. */
	private final int axisX, axisY, signX, signY;

	/**
	 * @param shapeIrc the CT's (depth, height, width)
	 */
	public LidcConsensus(Geometry geometry, int[] shapeIrc, Settings settings) {
		this(geometry, shapeIrc, settings, null);
	}

	/**
	 * @param file the readings file, named in error messages
	 */
	public LidcConsensus(Geometry geometry, int[] shapeIrc, Settings settings, java.nio.file.Path file) {
		if (shapeIrc.length != 3 || shapeIrc[0] < 1 || shapeIrc[1] < 1 || shapeIrc[2] < 1)
			throw new IllegalArgumentException("A CT shape needs 3 positive sizes: " + Arrays.toString(shapeIrc));
		this.geometry = geometry;
		this.shape = shapeIrc.clone();
		this.settings = settings;
		this.file = file;
		// LIDC's pixel x, y are the DICOM columns and rows of an axial slice, which run along world +x
		// and +y (LPS). A reader that stores the slice flipped or transposed (some NIfTI conversions)
		// has other CT axes along x and y: find them, so the contours land on the same anatomy.
		double[] d = geometry.direction();
		int ax = -1, ay = -1, sx = 0, sy = 0;
		for (int c = 0; c < 2; c++) {
			if (Math.abs(d[c]) > 0.999) { ax = c; sx = d[c] > 0 ? 1 : -1; }
			if (Math.abs(d[3 + c]) > 0.999) { ay = c; sy = d[3 + c] > 0 ? 1 : -1; }
		}
		boolean axial = ax >= 0 && ay >= 0 && ax != ay && Math.abs(d[8]) > 0.999;
		this.axisX = axial ? ax : -1;
		this.axisY = ay;
		this.signX = sx;
		this.signY = sy;
		this.sliceZ = new double[shapeIrc[0]];
		// World z of each slice, at the slice's centre pixel (the same for every pixel unless the CT is tilted).
		for (int k = 0; k < sliceZ.length; k++) sliceZ[k] = geometry.voxelToWorld(k, shapeIrc[1] / 2.0, shapeIrc[2] / 2.0)[2];
	}

	/** Clusters the readings of a CT of this geometry and shape (depth, height, width). */
	public static Result of(LidcReadings readings, Geometry geometry, int[] shapeIrc, Settings settings) throws LidcException {
		return new LidcConsensus(geometry, shapeIrc, settings, readings.file()).cluster(readings.nodules());
	}

	/** The CT slice of a z position (mm): the nearest slice, which must lie within half a spacing. */
	public int sliceOf(double z, String what) throws LidcException {
		int best = 0;
		for (int k = 1; k < sliceZ.length; k++) if (Math.abs(sliceZ[k] - z) < Math.abs(sliceZ[best] - z)) best = k;
		double half = Math.abs(geometry.voxelToWorld(1, 0, 0)[2] - geometry.voxelToWorld(0, 0, 0)[2]) / 2;
		// 1 µm of slack: the XML prints positions with fewer digits than the DICOM header.
		if (Math.abs(sliceZ[best] - z) > half + 1e-3)
			throw new LidcException(file, what + " lies at z = " + z + " mm, " + String.format("%.3f", Math.abs(sliceZ[best] - z)) +
				" mm from the nearest slice (" + best + ", z = " + sliceZ[best] + " mm), more than half the slice spacing: the readings " +
				"do not belong to this CT, or the CT lacks that slice");
		return best;
	}

	/**
	 * LIDC pixel points (x = DICOM column, y = DICOM row) as CT (rows, cols). The identity for CTs
	 * stored as the scanner wrote them; mirrored or swapped for flipped or transposed storage.
	 *
	 * @throws LidcException when the CT is not axial, or a point lies outside its slice
	 */
	public int[][] ctPoints(int[] xs, int[] ys, String what) throws LidcException {
		if (axisX < 0)
			throw new LidcException(file, what + ": the CT is not stored in axial slices (direction " + Arrays.toString(geometry.direction()) +
				"); LIDC contours are drawn on axial slices");
		int[] n = { shape[2], shape[1] }; // size along CT axis 0 (col) and 1 (row)
		int[] rows = new int[xs.length], cols = new int[xs.length];
		for (int p = 0; p < xs.length; p++) {
			if (xs[p] >= n[axisX] || ys[p] >= n[axisY])
				throw new LidcException(file, what + ": the point (x " + xs[p] + ", y " + ys[p] + ") lies outside the CT's " + n[axisX] + "x" +
					n[axisY] + " slice");
			int[] v = new int[2];
			v[axisX] = signX > 0 ? xs[p] : n[axisX] - 1 - xs[p];
			v[axisY] = signY > 0 ? ys[p] : n[axisY] - 1 - ys[p];
			cols[p] = v[0];
			rows[p] = v[1];
		}
		return new int[][] { rows, cols };
	}

	/** A reader's mask of one nodule, on the CT's slices. */
	public Mask readerMask(Nodule n) throws LidcException {
		int[] slice = new int[n.rois().size()];
		int[][][] pts = new int[slice.length][][];
		int zlo = Integer.MAX_VALUE, zhi = Integer.MIN_VALUE, ylo = Integer.MAX_VALUE, yhi = Integer.MIN_VALUE, xlo = Integer.MAX_VALUE,
			xhi = Integer.MIN_VALUE;
		for (int i = 0; i < slice.length; i++) {
			Roi r = n.rois().get(i);
			String what = "reader " + n.readerId() + ", nodule '" + n.noduleId() + "', roi " + (i + 1);
			slice[i] = sliceOf(r.z(), what);
			pts[i] = ctPoints(r.xs(), r.ys(), what);
			if (r.inclusion() && r.points() > 0) {
				for (int p = 0; p < r.points(); p++) {
					xlo = Math.min(xlo, pts[i][1][p]);
					xhi = Math.max(xhi, pts[i][1][p]);
					ylo = Math.min(ylo, pts[i][0][p]);
					yhi = Math.max(yhi, pts[i][0][p]);
				}
				zlo = Math.min(zlo, slice[i]);
				zhi = Math.max(zhi, slice[i]);
			}
		}
		if (zlo == Integer.MAX_VALUE)
			throw new LidcException(file, "reader " + n.readerId() + ", nodule '" + n.noduleId() + "' has no inclusion contour");
		int[] start = { zlo, ylo, xlo }, size = { zhi - zlo + 1, yhi - ylo + 1, xhi - xlo + 1 };
		int plane = size[1] * size[2];
		BitSet in = new BitSet(size[0] * plane), out = new BitSet(size[0] * plane);
		for (int i = 0; i < slice.length; i++) {
			Roi r = n.rois().get(i);
			if (slice[i] < zlo || slice[i] > zhi) continue; // an exclusion off every inclusion slice removes nothing
			fill(pts[i][1], pts[i][0], (slice[i] - zlo) * plane, ylo, xlo, size[1], size[2], r.inclusion() ? in : out);
		}
		in.andNot(out);
		return new Mask(start, size, in);
	}

	/**
	 * Sets the pixels of the polygon through (xs, ys): centres inside by the even-odd rule, and the
	 * pixels on its edges (each edge drawn as a line of pixels), within the box rows y0.., cols x0...
	 */
	static void fill(int[] xs, int[] ys, int base, int y0, int x0, int h, int w, BitSet dst) {
		int n = xs.length;
		// Scanlines: per row, where the edges cross it; a pixel centre is inside when an odd number of
		// crossings lie to its right. O(rows × (edges + columns)), so long contours cannot stall.
		double[] cross = new double[n];
		for (int r = 0; r < h; r++) {
			double y = y0 + r;
			int m = 0;
			for (int i = 0, j = n - 1; i < n; j = i++)
				if ((ys[i] > y) != (ys[j] > y)) cross[m++] = (double) (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i];
			if (m == 0) continue;
			Arrays.sort(cross, 0, m);
			int k = 0; // crossings at or left of x
			for (int c = 0; c < w; c++) {
				double x = x0 + c;
				while (k < m && cross[k] <= x) k++;
				if (((m - k) & 1) == 1) dst.set(base + r * w + c);
			}
		}
		for (int i = 0, j = n - 1; i < n; j = i++) {
			int steps = Math.max(Math.abs(xs[i] - xs[j]), Math.abs(ys[i] - ys[j]));
			for (int t = 0; t <= steps; t++) {
				double f = steps == 0 ? 0 : t / (double) steps;
				int x = (int) Math.round(xs[j] + f * (xs[i] - xs[j])), y = (int) Math.round(ys[j] + f * (ys[i] - ys[j]));
				int r = y - y0, c = x - x0;
				if (r >= 0 && c >= 0 && r < h && c < w) dst.set(base + r * w + c);
			}
		}
	}

	/** Contour points of a nodule in world mm, rows of (x, y, z). */
	private double[][] worldPoints(Nodule n) throws LidcException {
		List<double[]> pts = new ArrayList<>();
		Set<Long> seen = new HashSet<>(); // a hostile file may repeat a point many times
		int i = 0;
		for (Roi r : n.rois()) {
			String what = "reader " + n.readerId() + ", nodule '" + n.noduleId() + "', roi " + (++i);
			int k = sliceOf(r.z(), what);
			int[][] rc = ctPoints(r.xs(), r.ys(), what);
			for (int p = 0; p < r.points(); p++)
				if (seen.add(((long) k << 40) | ((long) rc[0][p] << 20) | rc[1][p])) pts.add(geometry.voxelToWorld(k, rc[0][p], rc[1][p]));
		}
		return pts.toArray(new double[0][]);
	}

	private Result cluster(List<Nodule> nodules) throws LidcException {
		List<String> warnings = new ArrayList<>();
		int n = nodules.size();
		double[][][] pts = new double[n][][];
		for (int i = 0; i < n; i++) pts[i] = worldPoints(nodules.get(i));
		double[] s = geometry.spacing();
		double tol = Double.isNaN(settings.tolerance()) ? Math.min(s[0], s[1]) : settings.tolerance();
		// The tolerance only shrinks, so distances beyond the first one never link anything: they stay infinite.
		double[][] dist = new double[n][n];
		List<Map<Long, List<double[]>>> grids = new ArrayList<>();
		for (double[][] p : pts) grids.add(grid(p, tol));
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++) dist[i][j] = dist[j][i] = minDistanceWithin(pts[i], grids.get(j), tol);
		List<List<Integer>> groups;
		while (true) {
			groups = components(dist, tol);
			if (!repeatsReader(groups, nodules)) break;
			if (tol * settings.factor() < settings.minTolerance()) {
				warnings.add("Some clusters still hold two nodules of one reader at the smallest tolerance (" + settings.minTolerance() +
					" mm); they are kept as they are");
				break;
			}
			tol *= settings.factor();
		}
		List<Cluster> clusters = new ArrayList<>();
		for (List<Integer> g : groups) clusters.add(build(g.stream().map(nodules::get).toList()));
		clusters.sort((a, b) -> a.readers() != b.readers() ? Integer.compare(b.readers(), a.readers())
			: Double.compare(a.centre()[2], b.centre()[2]));
		return new Result(List.copyOf(clusters), tol, List.copyOf(warnings));
	}

	private Cluster build(List<Nodule> members) throws LidcException {
		List<Mask> masks = new ArrayList<>();
		for (Nodule a : members) masks.add(readerMask(a));
		int[] lo = { Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE }, hi = { Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE };
		for (Mask m : masks)
			for (int a = 0; a < 3; a++) {
				lo[a] = Math.min(lo[a], m.start[a]);
				hi[a] = Math.max(hi[a], m.start[a] + m.size[a]);
			}
		int[] size = { hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2] };
		BitSet bits = new BitSet();
		int need = (int) Math.ceil(settings.agreement() * masks.size() - 1e-9);
		for (int i = 0; i < size[0]; i++)
			for (int r = 0; r < size[1]; r++)
				for (int c = 0; c < size[2]; c++) {
					int votes = 0;
					for (Mask m : masks) if (m.contains(lo[0] + i, lo[1] + r, lo[2] + c)) votes++;
					if (votes >= need) bits.set((i * size[1] + r) * size[2] + c);
				}
		Mask consensus = new Mask(lo, size, bits);
		double[] centre = new double[3];
		double[] volumes = new double[masks.size()], diameters = new double[masks.size()];
		for (int i = 0; i < masks.size(); i++) {
			double[] c = masks.get(i).centroid(geometry);
			for (int a = 0; a < 3; a++) centre[a] += c[a] / masks.size();
			volumes[i] = masks.get(i).volumeMm3(geometry);
			diameters[i] = masks.get(i).longestAxialDiameterMm(geometry);
		}
		Map<String, Double> medians = new LinkedHashMap<>();
		for (String name : LidcReadings.RATINGS) {
			double[] v = members.stream().map(a -> a.rating(name)).filter(x -> x != null).mapToDouble(Integer::doubleValue).sorted().toArray();
			if (v.length > 0) medians.put(name, v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2);
		}
		return new Cluster(List.copyOf(members), List.copyOf(masks), consensus, centre, consensus.centroid(geometry), medians,
			consensus.volumeMm3(geometry), consensus.longestAxialDiameterMm(geometry), volumes, diameters);
	}

	private static boolean repeatsReader(List<List<Integer>> groups, List<Nodule> nodules) {
		for (List<Integer> g : groups) {
			Set<String> seen = new HashSet<>();
			for (int i : g) if (!seen.add(nodules.get(i).readerId())) return true;
		}
		return false;
	}

	/** Connected components of the graph "distance at most tol", in order of their first member. */
	private static List<List<Integer>> components(double[][] dist, double tol) {
		int n = dist.length;
		int[] label = new int[n];
		Arrays.fill(label, -1);
		List<List<Integer>> out = new ArrayList<>();
		for (int i = 0; i < n; i++) {
			if (label[i] >= 0) continue;
			List<Integer> g = new ArrayList<>();
			label[i] = out.size();
			g.add(i);
			for (int q = 0; q < g.size(); q++) {
				int a = g.get(q);
				for (int b = 0; b < n; b++)
					if (label[b] < 0 && dist[a][b] <= tol) {
						label[b] = out.size();
						g.add(b);
					}
			}
			out.add(g);
		}
		return out;
	}

	/** Points bucketed in cubes of side {@code cell} mm. */
	private static Map<Long, List<double[]>> grid(double[][] pts, double cell) {
		Map<Long, List<double[]>> g = new java.util.HashMap<>();
		for (double[] p : pts) g.computeIfAbsent(key(p, cell, 0, 0, 0), k -> new ArrayList<>()).add(p);
		return g;
	}

	private static long key(double[] p, double cell, int dx, int dy, int dz) {
		long x = (long) Math.floor(p[0] / cell) + dx, y = (long) Math.floor(p[1] / cell) + dy, z = (long) Math.floor(p[2] / cell) + dz;
		return (x & 0x1FFFFF) << 42 | (y & 0x1FFFFF) << 21 | (z & 0x1FFFFF);
	}

	/** The smallest distance from a point of {@code a} to one of the gridded points, or infinity when above {@code limit}. */
	private static double minDistanceWithin(double[][] a, Map<Long, List<double[]>> b, double limit) {
		double best = Double.POSITIVE_INFINITY;
		for (double[] p : a)
			for (int dx = -1; dx <= 1; dx++)
				for (int dy = -1; dy <= 1; dy++)
					for (int dz = -1; dz <= 1; dz++) {
						List<double[]> cell = b.get(key(p, limit, dx, dy, dz));
						if (cell == null) continue;
						for (double[] q : cell) {
							double ex = p[0] - q[0], ey = p[1] - q[1], ez = p[2] - q[2];
							double d = ex * ex + ey * ey + ez * ez;
							if (d < best) best = d;
						}
					}
		double d = Math.sqrt(best);
		return d <= limit ? d : Double.POSITIVE_INFINITY;
	}
}
