package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import org.lungnodules.Progress;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.nn.Inference;

/**
 * The classifier's candidates for a cohort without a {@code candidates.csv}, as the book's pipeline
 * has them: the components of a segmentation model's mask ({@link CtAnalysis#components}: the
 * recipe's segment and group stages), plus random points in the lungs, so that the classifier also
 * sees plain lung tissue. Each is labelled as LUNA16 labels its candidates: a nodule (class 1) if its
 * centre lies inside an annotated nodule's radius, else a non-nodule (class 0).
 * <p>
 * <b>Cache.</b> The points of each scan are kept, unlabelled, in {@code <dir>/<series uid>.points.csv}
 * with a {@code .stamp} beside it (the scan's path and {@link SeriesStamp}, the model's digest, the
 * number of random points and the seed), both written atomically. A later run reuses every scan whose
 * stamp still matches, so an interrupted generation resumes and a run with other annotations only
 * relabels. The labelled table of all scans is written to {@code <dir>/candidates.csv} in LUNA16's
 * columns ({@code seriesuid,coordX,coordY,coordZ,class}), for the user to inspect and to reuse with
 * {@code candidates=}.
 * <p>
 * Random lung points are voxels of the CT in LUNA16's orientation between {@value #LUNG_LOW_HU} and
 * {@value #LUNG_HIGH_HU} HU (aerated lung, not the air around the body, which is −1000 HU), at least
 * half a classifier chunk from the volume's faces, drawn with a generator seeded by the seed and the
 * series UID.
 */
public final class CandidateGeneration {

	public static final int LUNG_LOW_HU = -950, LUNG_HIGH_HU = -600;

	/** @param randomPoints random lung points per scan; @param seed their generator's seed */
	public record Settings(int randomPoints, long seed) {
		public Settings {
			if (randomPoints < 0) throw new IllegalArgumentException("random_points must be 0 or more, not " + randomPoints);
		}

		public static Settings defaults() { return new Settings(100, 1); }
	}

	/** What was done: the table written, scans segmented now and reused from the cache, and the labels. */
	public record Result(Path candidatesCsv, int segmented, int reused, long nodules, long nonNodules) {
		public String summary() {
			return String.format(Locale.ROOT, "Generated candidates %s: %d scan(s) segmented, %d reused from the cache; %,d nodule and %,d " +
				"non-nodule candidates", candidatesCsv, segmented, reused, nodules, nonNodules);
		}
	}

	/** A point of a scan and where it came from (a component of the mask, or a random lung point). */
	record Point(double x, double y, double z, boolean component) {}

	private CandidateGeneration() {}

	/**
	 * Generates (or reuses) the points of every scan of {@code data} and writes the labelled
	 * {@code dir/candidates.csv}.
	 *
	 * @param segmentation an inference service holding the SEG network
	 * @param modelDigest identifies the segmentation weights (their SHA-256), so that other weights make new points
	 */
	public static Result generate(LunaData data, Path dir, Inference segmentation, String modelDigest, Settings settings, Progress progress)
		throws IOException {
		Progress p = progress == null ? Progress.NONE : progress;
		Settings s = settings == null ? Settings.defaults() : settings;
		Files.createDirectories(dir);
		CtAnalysis analysis = new CtAnalysis(segmentation, CtAnalysis.Settings.defaults());
		List<Luna16Tables.Candidate> rows = new ArrayList<>();
		int segmented = 0, reused = 0;
		long nodules = 0, others = 0;
		List<Map.Entry<String, Path>> scans = new ArrayList<>(data.ctPaths().entrySet());
		for (int i = 0; i < scans.size(); i++) {
			p.checkCanceled();
			String uid = scans.get(i).getKey();
			Path scan = scans.get(i).getValue();
			p.report("Generating candidates: scan " + (i + 1) + " of " + scans.size(), (double) i / scans.size());
			Path points = dir.resolve(uid + ".points.csv"), stampFile = dir.resolve(uid + ".stamp");
			String stamp = "scan=" + scan.toAbsolutePath().normalize() + "\nstamp=" + SeriesStamp.of(scan) + "\nmodel=" + modelDigest +
				"\nrandom_points=" + s.randomPoints() + "\nseed=" + s.seed() + "\n";
			List<Point> found = null;
			if (Files.isRegularFile(points) && Files.isRegularFile(stampFile) && Files.readString(stampFile).equals(stamp)) {
				try {
					found = readPoints(points);
					reused++;
				}
				catch (IOException | RuntimeException e) {
					found = null; // damaged: generate again
				}
			}
			if (found == null) {
				CtVolume ct = CtReader.read(scan).volume();
				found = new ArrayList<>();
				for (Candidate c : analysis.components(ct, p))
					found.add(new Point(c.x(), c.y(), c.z(), true));
				found.addAll(randomLungPoints(ct, uid, s));
				writePoints(points, found);
				AtomicFiles.writeString(stampFile, stamp);
				segmented++;
			}
			List<CandidateInfo> annotated = data.nodules(uid);
			for (Point pt : found) {
				boolean nodule = insideAnnotation(pt, annotated);
				rows.add(new Luna16Tables.Candidate(uid, pt.x(), pt.y(), pt.z(), nodule));
				if (nodule) nodules++;
				else others++;
			}
		}
		Path csv = dir.resolve("candidates.csv");
		Luna16Tables.writeCandidates(csv, rows);
		p.report("Generating candidates", 1);
		return new Result(csv, segmented, reused, nodules, others);
	}

	/** LUNA16's label: inside the radius of an annotated nodule (distance below half its diameter). */
	static boolean insideAnnotation(Point p, List<CandidateInfo> nodules) {
		for (CandidateInfo n : nodules) {
			double dx = p.x() - n.x(), dy = p.y() - n.y(), dz = p.z() - n.z();
			double r = n.diameterMm() / 2;
			if (dx * dx + dy * dy + dz * dz < r * r) return true;
		}
		return false;
	}

	/** Random voxels of aerated lung, half a chunk from the faces, as world points (see the class comment). */
	static List<Point> randomLungPoints(CtVolume input, String uid, Settings s) {
		List<Point> out = new ArrayList<>();
		if (s.randomPoints() == 0) return out;
		CtVolume ct = Reorientation.of(input).canonical();
		int d = ct.depth(), h = ct.height(), w = ct.width();
		int[] half = { CtAnalysis.CHUNK[0] / 2, CtAnalysis.CHUNK[1] / 2, CtAnalysis.CHUNK[2] / 2 };
		int z0 = Math.min(half[0], d / 2), y0 = Math.min(half[1], h / 2), x0 = Math.min(half[2], w / 2);
		int zn = Math.max(1, d - 2 * z0), yn = Math.max(1, h - 2 * y0), xn = Math.max(1, w - 2 * x0);
		SplittableRandom random = new SplittableRandom(s.seed() * 31 + uid.hashCode());
		// Read slices lazily: a random point needs one voxel, but slices are what the volume gives cheaply.
		Map<Integer, float[]> slices = new HashMap<>();
		long tries = 0, maxTries = 2000L * s.randomPoints();
		while (out.size() < s.randomPoints() && tries++ < maxTries) {
			int z = z0 + random.nextInt(zn), y = y0 + random.nextInt(yn), x = x0 + random.nextInt(xn);
			float[] slice = slices.computeIfAbsent(z, k -> {
				float[] a = new float[h * w];
				ct.copySlice(k, a, 0, CtVolume.HU_MIN, CtVolume.HU_MAX);
				return a;
			});
			if (slices.size() > 64) slices.clear();
			float hu = slice[y * w + x];
			if (hu >= LUNG_LOW_HU && hu <= LUNG_HIGH_HU) {
				double[] xyz = ct.geometry().voxelToWorld(z, y, x);
				out.add(new Point(xyz[0], xyz[1], xyz[2], false));
			}
		}
		return out;
	}

	private static void writePoints(Path file, List<Point> points) throws IOException {
		StringBuilder b = new StringBuilder("coordX,coordY,coordZ,source\n");
		for (Point p : points)
			b.append(Double.toString(p.x())).append(',').append(Double.toString(p.y())).append(',').append(Double.toString(p.z()))
				.append(',').append(p.component() ? "component" : "random").append('\n');
		AtomicFiles.writeString(file, b.toString());
	}

	private static List<Point> readPoints(Path file) throws IOException {
		List<String> lines = Files.readAllLines(file);
		if (lines.isEmpty() || !lines.get(0).equals("coordX,coordY,coordZ,source")) throw new IOException(file + ": not a points file");
		List<Point> out = new ArrayList<>(lines.size());
		for (int i = 1; i < lines.size(); i++) {
			String[] f = lines.get(i).split(",");
			if (f.length != 4) throw new IOException(file + " line " + (i + 1) + ": expected 4 fields");
			out.add(new Point(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), f[3].equals("component")));
		}
		return out;
	}
}
