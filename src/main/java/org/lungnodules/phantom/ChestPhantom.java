package org.lungnodules.phantom;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

/**
 * A synthetic chest CT with known nodules, generated in memory: a LUNA16-like {@link CtVolume}
 * (16-bit HU, identity direction, LUNA16-style origin and series UID), its ground-truth nodule
 * list, a nodule label mask and a list of candidate points (the nodules and many non-nodule
 * look-alikes placed on vessels, rib ends, pleural plaques and in open lung).
 * <p>
 * Everything is drawn from one {@link SplittableRandom} seeded by (seed, index), so the same
 * arguments always give identical bytes. The finished drawing goes through a scanner model: a
 * Gaussian point-spread function (FWHM 0.8 mm in-plane, the slice thickness along z) and noise
 * of σ = 15 HU correlated in-plane with a grain of about 1 mm, as filtered back-projection gives.
 * Tissues (HU before ±30 texture, blur and noise): air
 * −1000, fat −100, muscle/chest wall 40, mediastinum 15, heart 40, liver 55, lung −850 (+25
 * posteriorly), vessels 40, vertebral body 400 with a 700 cortex, ribs and vertebral arch 600,
 * sternum 450, costal cartilage 130, discs 80, pleural plaques 40. Nodules: solid 30, part-solid 25 core in a −500
 * rim, ground glass −600, calcification 350–700 (central) or 300–450 (diffuse).
 */
public final class ChestPhantom {

	/** Radiological type of a nodule, by its density. */
	public enum NoduleType { SOLID, PART_SOLID, GROUND_GLASS }

	/** Margin of a nodule. */
	public enum NoduleShape { SMOOTH, LOBULATED, SPICULATED }

	/** Tissue class of a voxel, as drawn. */
	public enum Tissue { AIR, FAT, SOFT_TISSUE, LUNG, BONE, VESSEL, NODULE }

	/** What a candidate point lies on. */
	public enum CandidateKind { NODULE, VESSEL_BRANCH, VESSEL, RIB_END, PLEURAL_BUMP, LUNG }

	/**
	 * The clinical description of a nodule before it is placed: size, type, shape and malignancy
	 * with synthetic reader ratings (1–5, LIDC style; malignant iff at least two ratings are ≥ 4).
	 */
	public record NoduleSpec(double diameterMm, NoduleType type, NoduleShape shape, boolean malignant, boolean calcified,
		boolean juxtaPleural, int[] malignancyRatings) {}

	/**
	 * A placed nodule. Centres are continuous: {@code centerIrc} is (index, row, col) and
	 * {@code centerXyz} world mm, related by the volume's {@link Geometry}. {@code diameterMm} is
	 * the nominal (equivalent-sphere) diameter, without spicules. The bounding box is that of the
	 * nodule's mask voxels, in world mm (voxel centres). {@code id} is the value in {@link #noduleMask()}.
	 */
	public record Nodule(int id, double[] centerIrc, double[] centerXyz, double diameterMm, NoduleType type, NoduleShape shape,
		boolean malignant, boolean calcified, boolean juxtaPleural, int[] malignancyRatings, double[] bboxLowXyz,
		double[] bboxHighXyz) {

		/** The ratings as the book's table writes them, e.g. "[4, 3, 4]". */
		public String malignancyDetails() {
			return Arrays.toString(malignancyRatings);
		}
	}

	/** A point of the candidate list, world mm. */
	public record Candidate(double x, double y, double z, boolean isNodule, CandidateKind kind) {}

	/** Size, spacing and nodule settings. Immutable; the {@code with...} methods return changed copies. */
	public static final class Options {
		private int depth = 128, height = 256, width = 256;
		private double spacingX = 0.7, spacingY = 0.7, spacingZ = 1.25;
		private int minNodules = 1, maxNodules = 5;
		private double minDiameterMm = 3, maxDiameterMm = 30;
		private boolean solidOnly;
		private double juxtaPleuralFraction = 0.2;
		private int candidatesPerCt = 600;
		private double noiseSigma = 15;

		public static Options defaults() {
			return new Options();
		}

		private Options copy() {
			Options o = new Options();
			o.depth = depth; o.height = height; o.width = width;
			o.spacingX = spacingX; o.spacingY = spacingY; o.spacingZ = spacingZ;
			o.minNodules = minNodules; o.maxNodules = maxNodules;
			o.minDiameterMm = minDiameterMm; o.maxDiameterMm = maxDiameterMm;
			o.solidOnly = solidOnly; o.juxtaPleuralFraction = juxtaPleuralFraction;
			o.candidatesPerCt = candidatesPerCt; o.noiseSigma = noiseSigma;
			return o;
		}

		/** Size in voxels as (z, y, x) = (slices, rows, columns). */
		public Options withSize(int depth, int height, int width) {
			if (depth < 8 || height < 32 || width < 32)
				throw new IllegalArgumentException("A phantom needs at least 8 slices of 32x32 voxels, not " + depth + "x" + height + "x" + width);
			if ((long) depth * height * width > Integer.MAX_VALUE - 16)
				throw new IllegalArgumentException("A phantom of " + depth + "x" + height + "x" + width + " voxels does not fit in one array");
			Options o = copy();
			o.depth = depth; o.height = height; o.width = width;
			return o;
		}

		/** Voxel spacing in mm, (x, y, z) order as in MetaImage headers. */
		public Options withSpacing(double x, double y, double z) {
			for (double s : new double[] { x, y, z })
				if (!(s >= 0.1 && s <= 10)) throw new IllegalArgumentException("Spacing must be 0.1–10 mm, not " + s);
			Options o = copy();
			o.spacingX = x; o.spacingY = y; o.spacingZ = z;
			return o;
		}

		/** Number of nodules per CT, drawn uniformly in [min, max]. */
		public Options withNodules(int min, int max) {
			if (min < 0 || max < min || max > 100) throw new IllegalArgumentException("Nodules per CT must satisfy 0 <= min <= max <= 100");
			Options o = copy();
			o.minNodules = min; o.maxNodules = max;
			return o;
		}

		public Options withDiameterRange(double minMm, double maxMm) {
			if (!(minMm >= 1 && maxMm >= minMm && maxMm <= 60))
				throw new IllegalArgumentException("Nodule diameters must satisfy 1 <= min <= max <= 60 mm");
			Options o = copy();
			o.minDiameterMm = minMm; o.maxDiameterMm = maxMm;
			return o;
		}

		/** Only solid nodules (as the book's segmentation data effectively are). */
		public Options withSolidOnly(boolean solidOnly) {
			Options o = copy();
			o.solidOnly = solidOnly;
			return o;
		}

		/**
		 * Share of nodules placed against the chest wall (0–1; default 0.2). Juxta-pleural nodules are the ones
		 * detectors miss most, so a training or test set may want more of them. The default keeps the CTs of
		 * a seed what they were before this option existed.
		 */
		public Options withJuxtaPleuralFraction(double fraction) {
			if (!(fraction >= 0 && fraction <= 1))
				throw new IllegalArgumentException("The juxta-pleural share must be 0–1, not " + fraction);
			Options o = copy();
			o.juxtaPleuralFraction = fraction;
			return o;
		}

		/** Non-nodule candidates per CT (raised to at least 55 per nodule). */
		public Options withCandidatesPerCt(int n) {
			if (n < 0 || n > 1_000_000) throw new IllegalArgumentException("Candidates per CT must be 0–1,000,000");
			Options o = copy();
			o.candidatesPerCt = n;
			return o;
		}

		/** Standard deviation of the (in-plane correlated) Gaussian image noise in HU (0 for none). */
		public Options withNoiseSigma(double sigma) {
			if (!(sigma >= 0 && sigma <= 500)) throw new IllegalArgumentException("Noise sigma must be 0–500 HU");
			Options o = copy();
			o.noiseSigma = sigma;
			return o;
		}

		public int depth() { return depth; }
		public int height() { return height; }
		public int width() { return width; }
		/** (x, y, z) mm. */
		public double[] spacing() { return new double[] { spacingX, spacingY, spacingZ }; }
		public int minNodules() { return minNodules; }
		public int maxNodules() { return maxNodules; }
		public double minDiameterMm() { return minDiameterMm; }
		public double maxDiameterMm() { return maxDiameterMm; }
		public boolean solidOnly() { return solidOnly; }
		public double juxtaPleuralFraction() { return juxtaPleuralFraction; }
		public int candidatesPerCt() { return candidatesPerCt; }
		public double noiseSigma() { return noiseSigma; }

		@Override
		public String toString() {
			return "ChestPhantom.Options[size(z,y,x)=" + depth + "x" + height + "x" + width + ", spacing(x,y,z)=" + spacingX + "/" +
				spacingY + "/" + spacingZ + ", nodules=" + minNodules + ".." + maxNodules + ", diameter=" + minDiameterMm + ".." +
				maxDiameterMm + " mm, solidOnly=" + solidOnly + ", juxtaPleural=" + juxtaPleuralFraction + ", candidatesPerCt=" + candidatesPerCt + ", noise=" + noiseSigma + "]";
		}
	}

	/** LUNA16 series UIDs start with this root; ours add a made-up 99999 branch, the seed and the index. */
	public static final String UID_PREFIX = "1.3.6.1.4.1.14519.5.2.1.99999.";

	// LIDC-like malignancy model, tuned on the book's annotations_with_malignancy.csv (32% malignant,
	// median diameters 12.1 mm vs 5.6 mm). A wider log-normal spread than real data makes diameter
	// alone reach ROC AUC ≈ 0.80 instead of the real 0.92, so shape has to carry information too.
	private static final double MALIGNANT_FRACTION = 0.32, MALIGNANT_MEDIAN_MM = 12, BENIGN_MEDIAN_MM = 5.6, LOG_SIGMA = 0.55;

	/**
	 * In-plane point-spread function of a standard reconstruction kernel: FWHM about 0.8 mm (σ
	 * 0.34 mm), on top of the one-voxel partial-volume ramp of the drawing.
	 */
	static final double PSF_SIGMA_XY_MM = 0.34;
	/** Grain of the in-plane noise correlation (σ of the smoothing Gaussian, mm). */
	static final double NOISE_GRAIN_MM = 0.45;

	/**
	 * Slice sensitivity profile along z: a reconstructed slice averages over about its nominal
	 * thickness, taken as the slice spacing but at least 1 mm, so its FWHM is that thickness.
	 */
	static double psfSigmaZ(double spacingZ) {
		return Math.max(1.0, spacingZ) / 2.355;
	}

	private final CtVolume volume;
	private final PhantomRaster raster;
	private final List<Nodule> nodules;
	private final List<Candidate> candidates;
	private final double[][] lungLandmarks;
	private final double[] spineLandmark;

	private ChestPhantom(CtVolume volume, PhantomRaster raster, List<Nodule> nodules, List<Candidate> candidates,
		double[][] lungLandmarks, double[] spineLandmark) {
		this.volume = volume;
		this.raster = raster;
		this.nodules = nodules;
		this.candidates = candidates;
		this.lungLandmarks = lungLandmarks;
		this.spineLandmark = spineLandmark;
	}

	/** The UID of phantom {@code index} of a dataset with this seed; digits and dots only. */
	public static String seriesUid(long seed, int index) {
		return UID_PREFIX + Long.toUnsignedString(seed) + "." + index;
	}

	public static ChestPhantom generate(long seed, int index, Options options) {
		return generate(seed, index, options, null);
	}

	/**
	 * Generates phantom {@code index} of the dataset with this seed.
	 *
	 * @param cancel checked once per slice; may be null
	 * @throws CancellationException if {@code cancel} answers true
	 */
	public static ChestPhantom generate(long seed, int index, Options options, BooleanSupplier cancel) {
		SplittableRandom rng = new SplittableRandom(mix(seed, index));
		Options o = options == null ? Options.defaults() : options;
		double[] spacing = o.spacing();
		// LUNA16-like origin: the field of view centred on x and y, z negative (table position).
		double[] origin = {
			round2(-o.width * spacing[0] / 2 + PhantomAnatomy.uniform(rng, -5, 5)),
			round2(-o.height * spacing[1] / 2 + PhantomAnatomy.uniform(rng, -5, 5)),
			round2(-o.depth * spacing[2] - PhantomAnatomy.uniform(rng, 20, 200)) };
		Geometry geometry = Geometry.of(origin, spacing);
		PhantomRaster raster = new PhantomRaster(o.depth, o.height, o.width, geometry);
		PhantomAnatomy anatomy = new PhantomAnatomy(raster, rng);
		anatomy.drawSlices(cancel);
		checkCancel(cancel);
		anatomy.drawRibs(rng);
		anatomy.drawVessels(rng);
		checkCancel(cancel);
		anatomy.drawPleuralBumps(rng, 8 + rng.nextInt(13));
		int wanted = o.minNodules + rng.nextInt(o.maxNodules - o.minNodules + 1);
		List<Nodule> nodules = NoduleDrawing.placeAll(raster, anatomy, geometry, rng, o, wanted);
		checkCancel(cancel);
		// The scanner: its point-spread function blurs every edge, then noise is added.
		raster.blur(PSF_SIGMA_XY_MM, PSF_SIGMA_XY_MM, psfSigmaZ(spacing[2]));
		addNoise(raster, rng, o.noiseSigma);
		List<Candidate> candidates = candidates(raster, anatomy, nodules, rng, o);
		String uid = seriesUid(seed, index);
		CtVolume volume = CtVolume.ofShorts(raster.hu, o.width, o.height, o.depth, geometry, uid);
		return new ChestPhantom(volume, raster, Collections.unmodifiableList(nodules), Collections.unmodifiableList(candidates),
			new double[][] { anatomy.lungLandmark(-1), anatomy.lungLandmark(1) }, anatomy.spineLandmark());
	}

	private static void checkCancel(BooleanSupplier cancel) {
		if (cancel != null && cancel.getAsBoolean()) throw new CancellationException("Phantom generation cancelled");
	}

	/**
	 * Draws one nodule description from the LIDC-like model. Used for every placed nodule; exposed
	 * so the malignancy model can be checked on thousands of specs without drawing voxels.
	 */
	public static NoduleSpec sampleNoduleSpec(SplittableRandom rng, Options options) {
		Options o = options == null ? Options.defaults() : options;
		boolean malignant = rng.nextDouble() < MALIGNANT_FRACTION;
		double median = malignant ? MALIGNANT_MEDIAN_MM : BENIGN_MEDIAN_MM;
		double diameter = Double.NaN;
		for (int i = 0; i < 200 && !(diameter >= o.minDiameterMm && diameter <= o.maxDiameterMm); i++)
			diameter = median * Math.exp(LOG_SIGMA * gaussian(rng));
		if (!(diameter >= o.minDiameterMm && diameter <= o.maxDiameterMm))
			diameter = PhantomAnatomy.uniform(rng, o.minDiameterMm, o.maxDiameterMm);

		double u = rng.nextDouble();
		NoduleType type = o.solidOnly ? NoduleType.SOLID
			: malignant ? (u < 0.65 ? NoduleType.SOLID : u < 0.87 ? NoduleType.PART_SOLID : NoduleType.GROUND_GLASS)
			: (u < 0.80 ? NoduleType.SOLID : u < 0.85 ? NoduleType.PART_SOLID : NoduleType.GROUND_GLASS);
		boolean calcified = !malignant && type == NoduleType.SOLID && rng.nextDouble() < 0.3;
		double v = rng.nextDouble();
		NoduleShape shape = malignant ? (v < 0.2 ? NoduleShape.SMOOTH : v < 0.6 ? NoduleShape.LOBULATED : NoduleShape.SPICULATED)
			: (v < 0.65 ? NoduleShape.SMOOTH : v < 0.9 ? NoduleShape.LOBULATED : NoduleShape.SPICULATED);
		if (calcified) shape = NoduleShape.SMOOTH;
		if (type == NoduleType.GROUND_GLASS && shape == NoduleShape.SPICULATED) shape = NoduleShape.LOBULATED;
		boolean juxta = rng.nextDouble() < o.juxtaPleuralFraction;
		return new NoduleSpec(diameter, type, shape, malignant, calcified, juxta, ratings(rng, malignant, calcified, diameter));
	}

	/** LIDC-style ratings from 1–4 readers; malignant iff at least two of them are 4 or 5. */
	private static int[] ratings(SplittableRandom rng, boolean malignant, boolean calcified, double diameter) {
		int readers = malignant ? 2 + rng.nextInt(3) : 1 + rng.nextInt(4);
		int[] r = new int[readers];
		int high = malignant ? 2 + rng.nextInt(readers - 1) : (rng.nextDouble() < 0.3 ? 1 : 0);
		for (int i = 0; i < readers; i++) {
			if (i < high) r[i] = malignant && rng.nextDouble() < Math.min(0.8, diameter / 25) ? 5 : 4;
			else r[i] = calcified ? 1 + rng.nextInt(2) : 1 + rng.nextInt(3);
		}
		// Shuffle so the high ratings are not always first.
		for (int i = readers - 1; i > 0; i--) {
			int j = rng.nextInt(i + 1);
			int t = r[i]; r[i] = r[j]; r[j] = t;
		}
		return r;
	}

	/** Box–Muller from two uniforms: the same numbers on every JDK (unlike nextGaussian). */
	static double gaussian(SplittableRandom rng) {
		double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
		return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
	}

	/**
	 * Image noise as real CT has it: not independent per voxel but correlated in-plane (filtered
	 * back-projection gives it a grain of about a millimetre), and independent between slices.
	 * White Gaussian noise (a table of 65,536 normal values indexed by random 16-bit words) is
	 * smoothed per slice with a Gaussian of {@link #NOISE_GRAIN_MM} and rescaled so that its standard
	 * deviation is still {@code sigma}.
	 */
	private static void addNoise(PhantomRaster raster, SplittableRandom rng, double sigma) {
		if (sigma <= 0) return;
		float[] table = new float[65536];
		SplittableRandom tableRng = new SplittableRandom(0x6E6F697365L);
		for (int i = 0; i < table.length; i++)
			table[i] = (float) gaussian(tableRng);
		float[] kx = PhantomRaster.gaussianKernel(NOISE_GRAIN_MM / raster.sx), ky = PhantomRaster.gaussianKernel(NOISE_GRAIN_MM / raster.sy);
		// A separable filter scales the variance of white noise by (Σ kx²)(Σ ky²).
		double gain = 0;
		for (float k : kx) gain += k * k;
		double gy = 0;
		for (float k : ky) gy += k * k;
		float scale = (float) (sigma / Math.sqrt(gain * gy));
		int w = raster.width, h = raster.height, plane = w * h;
		float[] white = new float[plane], tmp = new float[plane], grain = new float[plane];
		short[] hu = raster.hu;
		for (int z = 0; z < raster.depth; z++) {
			for (int i = 0; i < plane; ) {
				long bits = rng.nextLong();
				for (int k = 0; k < 4 && i < plane; k++, i++, bits >>>= 16)
					white[i] = table[(int) (bits & 0xFFFF)];
			}
			for (int y = 0; y < h; y++) PhantomRaster.convolve(white, y * w, 1, w, kx, tmp, y * w, 1);
			for (int x = 0; x < w; x++) PhantomRaster.convolve(tmp, x, w, h, ky, grain, x, w);
			int base = z * plane;
			for (int i = 0; i < plane; i++) {
				int v = Math.round(hu[base + i] + scale * grain[i]);
				hu[base + i] = (short) Math.max(-1024, Math.min(3071, v));
			}
		}
	}

	/**
	 * Every nodule (class 1, jittered by up to a fifth of its radius, as LUNA16 candidates are
	 * never exactly on the annotation) and at least 55 non-nodules per nodule, each on a structure
	 * that is really there in the volume (checked against the tissue labels).
	 */
	private static List<Candidate> candidates(PhantomRaster raster, PhantomAnatomy anatomy, List<Nodule> nodules,
		SplittableRandom rng, Options o) {
		List<Candidate> out = new ArrayList<>();
		for (Nodule n : nodules) {
			double[] j = randomDirection(rng);
			double amount = 0.1 * n.diameterMm() * rng.nextDouble();
			double[] c = n.centerXyz();
			out.add(new Candidate(c[0] + j[0] * amount, c[1] + j[1] * amount, c[2] + j[2] * amount, true, CandidateKind.NODULE));
		}
		int negatives = Math.max(o.candidatesPerCt, 55 * nodules.size());
		List<Candidate> neg = new ArrayList<>();
		addOn(neg, anatomy.ribEnds, CandidateKind.RIB_END, raster, nodules, Integer.MAX_VALUE, PhantomRaster.BONE, PhantomRaster.SOFT);
		addOn(neg, anatomy.pleuralBumps, CandidateKind.PLEURAL_BUMP, raster, nodules, Integer.MAX_VALUE, PhantomRaster.SOFT,
			PhantomRaster.LUNG, PhantomRaster.VESSEL);
		List<double[]> branches = new ArrayList<>(anatomy.branchPoints);
		List<double[]> vessels = new ArrayList<>();
		for (double[] v : anatomy.vesselPoints)
			if (v[3] >= 0.8) vessels.add(v); // thinner vessels barely show; skip them as look-alikes
		shuffle(branches, rng);
		shuffle(vessels, rng);
		int remaining = negatives - neg.size();
		addOn(neg, branches, CandidateKind.VESSEL_BRANCH, raster, nodules, (int) (0.45 * remaining), PhantomRaster.VESSEL);
		addOn(neg, vessels, CandidateKind.VESSEL, raster, nodules, (int) (0.25 * remaining), PhantomRaster.VESSEL);
		for (int attempts = 0; neg.size() < negatives && attempts < 100 * negatives; attempts++) {
			double[] p = anatomy.randomLungPoint(rng, 1);
			if (p == null) break;
			List<double[]> one = new ArrayList<>();
			one.add(p);
			addOn(neg, one, CandidateKind.LUNG, raster, nodules, 1, PhantomRaster.LUNG);
		}
		out.addAll(neg);
		return out;
	}

	/** Adds up to {@code max} points whose voxel has one of the tissues and that lie clear of every nodule. */
	private static void addOn(List<Candidate> out, List<double[]> points, CandidateKind kind, PhantomRaster raster, List<Nodule> nodules,
		int max, int... tissues) {
		int added = 0;
		for (double[] p : points) {
			if (added >= max) break;
			int z = (int) Math.rint((p[2] - raster.oz) / raster.sz), y = (int) Math.rint((p[1] - raster.oy) / raster.sy),
				x = (int) Math.rint((p[0] - raster.ox) / raster.sx);
			if (z < 0 || y < 0 || x < 0 || z >= raster.depth || y >= raster.height || x >= raster.width) continue;
			int t = PhantomRaster.tissue(raster.labels[raster.index(z, y, x)]);
			boolean ok = false;
			for (int want : tissues) ok |= t == want;
			if (!ok || nearNodule(p, nodules)) continue;
			out.add(new Candidate(p[0], p[1], p[2], false, kind));
			added++;
		}
	}

	private static boolean nearNodule(double[] p, List<Nodule> nodules) {
		for (Nodule n : nodules) {
			double[] c = n.centerXyz();
			double dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2];
			double keep = n.diameterMm() + 3; // spicules reach about a radius beyond the nodule
			if (dx * dx + dy * dy + dz * dz < keep * keep) return true;
		}
		return false;
	}

	static double[] randomDirection(SplittableRandom rng) {
		double z = 2 * rng.nextDouble() - 1, a = 2 * Math.PI * rng.nextDouble(), s = Math.sqrt(1 - z * z);
		return new double[] { s * Math.cos(a), s * Math.sin(a), z };
	}

	private static <T> void shuffle(List<T> list, SplittableRandom rng) {
		for (int i = list.size() - 1; i > 0; i--)
			Collections.swap(list, i, rng.nextInt(i + 1));
	}

	private static long mix(long seed, int index) {
		long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
		z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
		z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
		return z ^ (z >>> 31);
	}

	private static double round2(double v) {
		return Math.rint(v * 100) / 100;
	}

	/** The CT: short HU backed by {@link #hu()}, identity direction. */
	public CtVolume volume() { return volume; }
	public Geometry geometry() { return volume.geometry(); }
	public String seriesUid() { return volume.seriesUid(); }
	public List<Nodule> nodules() { return nodules; }
	/** Nodules (class 1) first, then non-nodules (class 0). */
	public List<Candidate> candidates() { return candidates; }

	/** The HU array itself (x fastest, then y, then z), shared with {@link #volume()}. */
	public short[] hu() { return raster.hu; }

	/** Per voxel (same order as {@link #hu()}): 0 outside nodules, else the nodule's {@link Nodule#id()}. */
	public byte[] noduleMask() {
		byte[] labels = raster.labels;
		byte[] mask = new byte[labels.length];
		for (int i = 0; i < labels.length; i++)
			if (labels[i] >= PhantomRaster.NODULE_ID_BASE) mask[i] = (byte) (labels[i] - PhantomRaster.NODULE_ID_BASE);
		return mask;
	}

	/** The tissue drawn at voxel (index, row, col). */
	public Tissue tissueAt(int index, int row, int col) {
		return Tissue.values()[PhantomRaster.tissue(raster.labels[raster.index(index, row, col)])];
	}

	/** A point deep in the right (side &lt; 0) or left lung at mid height, world mm. */
	public double[] lungLandmarkXyz(int side) {
		return (side < 0 ? lungLandmarks[0] : lungLandmarks[1]).clone();
	}

	/** The centre of a vertebral body (not a disc) near mid height, world mm. */
	public double[] spineLandmarkXyz() {
		return spineLandmark.clone();
	}
}
