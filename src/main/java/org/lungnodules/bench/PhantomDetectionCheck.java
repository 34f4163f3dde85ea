package org.lungnodules.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.ChestPhantom.Nodule;
import org.lungnodules.phantom.ChestPhantom.NoduleType;
import org.lungnodules.phantom.ChestPhantom.Tissue;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.PublishedModels;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;

/**
 * The realism check of the synthetic chest CTs: generates phantoms, runs the published analysis
 * ({@link CtAnalysis}) with the book's weights on them, and reports how many of the drawn nodules
 * it finds, per nodule type and size, and how many false positives it reports per CT. Real CTs are
 * what the weights were trained on, so the more realistic the phantoms, the more of their (clearly
 * visible) solid nodules of 6 mm and more the weights should find.
 * <p>
 * A nodule is <i>detected</i> when a candidate with p_nodule &ge; {@code threshold} has its centre
 * within max(radius, 3 mm) of the nodule's centre; it is <i>segmented</i> when any component (any
 * p_nodule) does. A <i>false positive</i> is a candidate with p_nodule &ge; threshold that detects no
 * nodule and whose centre is not on a nodule either (a second hit on one nodule, e.g. a spicule or
 * the far end of an elongated one, is a duplicate, not a false positive); false positives are also
 * counted by the tissue drawn at their centre, to show which structures the networks take for
 * nodules.
 * <p>
 * Bins (a nodule can be in several): solid ≥ 6 mm and solid &lt; 6 mm (not calcified, any place),
 * solid ≥ 6 mm away from the pleura, part-solid, ground-glass, juxta-pleural (any type) and
 * calcified.
 * <p>
 * Options: {@code n} CTs (10) of {@code size} z×y×x (128x256x256), plus {@code large} CTs (0) of
 * LUNA16 size 250×512×512; {@code seed} (1); {@code nodules} per CT as min..max (5..8);
 * {@code threshold} (0.5); {@code fast} segmentation mode (true: same nodules, less CPU);
 * {@code threads} for the networks (1, to leave CPU to others); {@code device} (cpu);
 * {@code models} folder with the book's weights (../shared/models/book); {@code verbose=true}
 * prints every nodule and false positive.
 */
public final class PhantomDetectionCheck {

	private PhantomDetectionCheck() {}

	/** A named set of nodules. */
	private record Bin(String name, Predicate<Nodule> contains) {}

	private static final List<Bin> BINS = List.of(
		new Bin("solid >= 6 mm", n -> isSolid(n) && n.diameterMm() >= 6),
		new Bin("solid >= 6 mm, not juxta-pleural", n -> isSolid(n) && n.diameterMm() >= 6 && !n.juxtaPleural()),
		new Bin("solid < 6 mm", n -> isSolid(n) && n.diameterMm() < 6),
		new Bin("part-solid", n -> n.type() == NoduleType.PART_SOLID),
		new Bin("ground-glass", n -> n.type() == NoduleType.GROUND_GLASS),
		new Bin("juxta-pleural (any type)", Nodule::juxtaPleural),
		new Bin("calcified", Nodule::calcified));

	private static boolean isSolid(Nodule n) {
		return n.type() == NoduleType.SOLID && !n.calcified();
	}

	/** Per bin: nodules, detected, segmented. */
	private static final class Tally {
		int nodules, detected, segmented;
	}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int n = Integer.parseInt(options.getOrDefault("n", "10"));
		int large = Integer.parseInt(options.getOrDefault("large", "0"));
		long seed = Long.parseLong(options.getOrDefault("seed", "1"));
		int[] size = parseSize(options.getOrDefault("size", "128x256x256"));
		int[] nodules = parseRange(options.getOrDefault("nodules", "5..8"));
		double threshold = Double.parseDouble(options.getOrDefault("threshold", "0.5"));
		boolean fast = Boolean.parseBoolean(options.getOrDefault("fast", "true"));
		boolean verbose = Boolean.parseBoolean(options.getOrDefault("verbose", "false"));
		Path models = Paths.get(options.getOrDefault("models", "../shared/models/book"));

		Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "cpu"))
			.threads(Integer.parseInt(options.getOrDefault("threads", "1")));
		ModelFiles.addTo(b, Networks.Kind.SEG, model(models, PublishedModels.SEGMENTATION));
		ModelFiles.addTo(b, Networks.Kind.CLS, model(models, PublishedModels.CLASSIFIER));

		Map<String, Tally> tallies = new LinkedHashMap<>();
		for (Bin bin : BINS) tallies.put(bin.name(), new Tally());
		Map<Tissue, Integer> fpByTissue = new EnumMap<>(Tissue.class);
		int cts = 0, falsePositives = 0;
		long t0 = System.nanoTime();
		try (Inference inference = b.build()) {
			CtAnalysis analysis = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(fast).withKeepVolumes(false));
			out.printf(Locale.ROOT, "Phantom detection check: book weights on %d CT(s) of %dx%dx%d (z,y,x)%s, seed %d, %d..%d nodules per CT, "
				+ "p_nodule >= %.2f, %s mode, on %s%n", n, size[0], size[1], size[2], large > 0 ? " + " + large + " of 250x512x512" : "", seed,
				nodules[0], nodules[1], threshold, fast ? "fast" : "recipe", inference.device());
			for (int i = 0; i < n + large; i++) {
				boolean luna = i >= n;
				ChestPhantom.Options o = ChestPhantom.Options.defaults().withNodules(nodules[0], nodules[1]).withCandidatesPerCt(0);
				o = luna ? o.withSize(250, 512, 512) : o.withSize(size[0], size[1], size[2]);
				long tg = System.nanoTime();
				ChestPhantom phantom = ChestPhantom.generate(seed, i, o);
				double generated = (System.nanoTime() - tg) / 1e9;
				long ta = System.nanoTime();
				AnalysisResult result = analysis.analyze(phantom.volume(), null);
				double analyzed = (System.nanoTime() - ta) / 1e9;
				int fp = score(out, phantom, result.candidates(), threshold, tallies, fpByTissue, verbose);
				falsePositives += fp;
				cts++;
				out.printf(Locale.ROOT, "CT %d%s: %d nodules, %d components, %d false positives (generated in %.1f s, analyzed in %.1f s)%n", i,
					luna ? " (250x512x512)" : "", phantom.nodules().size(), result.candidates().size(), fp, generated, analyzed);
			}
		}
		out.println();
		out.printf(Locale.ROOT, "%-34s %8s %9s %9s %10s%n", "bin", "nodules", "detected", "rate", "segmented");
		for (Map.Entry<String, Tally> e : tallies.entrySet()) {
			Tally t = e.getValue();
			out.printf(Locale.ROOT, "%-34s %8d %9d %8.0f%% %9.0f%%%n", e.getKey(), t.nodules, t.detected, percent(t.detected, t.nodules),
				percent(t.segmented, t.nodules));
		}
		out.printf(Locale.ROOT, "false positives per CT: %.2f (%d in %d CTs), by tissue at their centre: %s%n", cts == 0 ? 0.0 :
			falsePositives / (double) cts, falsePositives, cts, fpByTissue);
		out.printf(Locale.ROOT, "total time %.0f s%n", (System.nanoTime() - t0) / 1e9);
	}

	/** Adds one CT's nodules to the tallies; returns its false positives. */
	private static int score(PrintStream out, ChestPhantom phantom, List<Candidate> candidates, double threshold, Map<String, Tally> tallies,
		Map<Tissue, Integer> fpByTissue, boolean verbose) {
		List<Nodule> nodules = phantom.nodules();
		boolean[] used = new boolean[candidates.size()];
		for (Nodule nodule : nodules) {
			double[] c = nodule.centerXyz();
			double reach = Math.max(nodule.diameterMm() / 2, 3);
			boolean detected = false, segmented = false;
			double best = 0;
			for (int k = 0; k < candidates.size(); k++) {
				Candidate cand = candidates.get(k);
				double dx = cand.x() - c[0], dy = cand.y() - c[1], dz = cand.z() - c[2];
				if (dx * dx + dy * dy + dz * dz > reach * reach) continue;
				segmented = true;
				best = Math.max(best, cand.probability());
				if (cand.probability() >= threshold) {
					detected = true;
					used[k] = true;
				}
			}
			for (Bin bin : BINS)
				if (bin.contains().test(nodule)) {
					Tally t = tallies.get(bin.name());
					t.nodules++;
					if (detected) t.detected++;
					if (segmented) t.segmented++;
				}
			if (verbose)
				out.printf(Locale.ROOT, "  nodule %d: %s%s%s %.1f mm %s: %s (best p_nodule %.3f)%n", nodule.id(), nodule.type(),
					nodule.calcified() ? " calcified" : "", nodule.juxtaPleural() ? " juxta-pleural" : "", nodule.diameterMm(), nodule.shape(),
					detected ? "detected" : segmented ? "segmented, not detected" : "missed", best);
		}
		int fp = 0;
		for (int k = 0; k < candidates.size(); k++) {
			Candidate cand = candidates.get(k);
			if (used[k] || cand.probability() < threshold) continue;
			int[] v = cand.roundedCentreIrc();
			Tissue t = phantom.tissueAt(v[0], v[1], v[2]);
			if (t == Tissue.NODULE) continue;
			fp++;
			fpByTissue.merge(t, 1, Integer::sum);
			if (verbose)
				out.printf(Locale.ROOT, "  false positive at irc (%d, %d, %d) on %s, %d voxels, p_nodule %.3f%n", v[0], v[1], v[2], t,
					cand.voxels(), cand.probability());
		}
		return fp;
	}

	private static double percent(int a, int b) {
		return b == 0 ? Double.NaN : 100.0 * a / b;
	}

	private static Path model(Path folder, String name) throws NoSuchFileException {
		Path p = folder.resolve(name);
		if (!Files.isRegularFile(p)) throw new NoSuchFileException(p.toString(), null, "the book's model file is missing (see ./luna fetch-models)");
		return p;
	}

	static int[] parseSize(String s) {
		String[] parts = s.toLowerCase(Locale.ROOT).split("x");
		if (parts.length != 3) throw new IllegalArgumentException("size must be ZxYxX, e.g. 128x256x256, not " + s);
		return new int[] { Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()), Integer.parseInt(parts[2].trim()) };
	}

	static int[] parseRange(String s) {
		String[] parts = s.split("\\.\\.");
		int lo = Integer.parseInt(parts[0].trim()), hi = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : lo;
		return new int[] { lo, hi };
	}

	/** {@code java ... PhantomDetectionCheck key=value ...}, for running without the command line tool. */
	public static void main(String[] args) throws Exception {
		Map<String, String> options = new LinkedHashMap<>();
		for (String a : args) {
			int eq = a.indexOf('=');
			if (eq <= 0) throw new IllegalArgumentException("Arguments are key=value, not " + a);
			options.put(a.substring(0, eq), a.substring(eq + 1));
		}
		run(System.out, options);
	}
}
