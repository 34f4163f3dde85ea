package org.lungnodules.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;

/**
 * Times the whole analysis, recipe and fast mode, on phantom-a (96×256×256) and on a LUNA16-sized
 * generated chest (250×512×512), printing seconds per stage and nodules found (p_nodule ≥ 0.5).
 * <p>
 * Options: {@code models=DIR} (folder with the book's cls_*.state and seg_*.state; default
 * ../shared/models/book), {@code phantom=FILE} (default ../shared/reference/phantom-a/phantom-a.mhd),
 * {@code large=false} to skip the 512² CT, {@code small=false} to skip phantom-a, {@code repeats=N} (1)
 * runs of each mode (medians reported), {@code device=cpu|gpu|auto}. After each CT it checks that
 * the fast mode found the same nodules (p_nodule ≥ 0.5, centres within 1 voxel) as the recipe.
 */
public final class AnalysisBenchmark {

	private AnalysisBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		Path models = Paths.get(options.getOrDefault("models", "../shared/models/book"));
		Path phantom = Paths.get(options.getOrDefault("phantom", "../shared/reference/phantom-a/phantom-a.mhd"));
		boolean large = Boolean.parseBoolean(options.getOrDefault("large", "true"));
		boolean small = Boolean.parseBoolean(options.getOrDefault("small", "true"));
		int repeats = Integer.parseInt(options.getOrDefault("repeats", "1"));
		if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1: " + repeats);
		Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "auto"));
		ModelFiles.addTo(b, Networks.Kind.SEG, find(models, "seg_"));
		ModelFiles.addTo(b, Networks.Kind.CLS, find(models, "cls_"));
		try (Inference inference = b.build()) {
			out.println("Analysis benchmark on " + inference.device());
			if (!small) {
				out.println("phantom-a skipped (small=false)");
			} else if (Files.exists(phantom)) {
				CtVolume ct = MetaImage.readVolume(phantom);
				time(out, "phantom-a 96x256x256", ct, inference, repeats);
			} else {
				out.println("phantom-a not found at " + phantom + ", skipped");
			}
			if (large) {
				long t = System.nanoTime();
				ChestPhantom chest = ChestPhantom.generate(1, 0, ChestPhantom.Options.defaults().withSize(250, 512, 512)
					.withSpacing(0.7, 0.7, 1.25).withCandidatesPerCt(0));
				out.printf(Locale.ROOT, "generated 250x512x512 chest with %d nodules in %.1f s%n", chest.nodules().size(), (System.nanoTime() - t) / 1e9);
				time(out, "chest 250x512x512", chest.volume(), inference, repeats);
			}
		}
	}

	private static void time(PrintStream out, String name, CtVolume ct, Inference inference, int repeats) {
		List<Candidate> recipeNodules = null;
		double[] medians = new double[2], cpuMedians = new double[2];
		for (boolean fast : new boolean[] { false, true }) {
			CtAnalysis.Settings s = CtAnalysis.Settings.defaults().withFast(fast).withKeepVolumes(false);
			double[] totals = new double[repeats], cpus = new double[repeats];
			AnalysisResult r = null;
			for (int k = 0; k < repeats; k++) {
				long t = System.nanoTime(), cpu = processCpuNanos();
				r = new CtAnalysis(inference, s).analyze(ct, null);
				totals[k] = (System.nanoTime() - t) / 1e9;
				cpus[k] = (processCpuNanos() - cpu) / 1e9;
				StringBuilder stages = new StringBuilder();
				for (Map.Entry<String, Double> e : r.stageSeconds().entrySet())
					stages.append(String.format(Locale.ROOT, "%s %.2f s, ", e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
				out.printf(Locale.ROOT, "%-22s %-6s total %6.2f s, process CPU %6.2f s (%s%d components, %d nodules)%n", name,
					fast ? "fast" : "recipe", totals[k], cpus[k], stages, r.candidates().size(), r.nodules(0.5).size());
			}
			Arrays.sort(totals);
			Arrays.sort(cpus);
			medians[fast ? 1 : 0] = totals[repeats / 2];
			cpuMedians[fast ? 1 : 0] = cpus[repeats / 2];
			if (!fast) recipeNodules = r.nodules(0.5);
			else out.println("  fast vs recipe, nodules p >= 0.5 within 1 voxel: " + compare(recipeNodules, r.nodules(0.5)));
		}
		out.printf(Locale.ROOT, "  median of %d: recipe %.2f s (CPU %.2f s), fast %.2f s (CPU %.2f s): fast mode %.2fx faster (%.2fx less CPU)%n",
			repeats, medians[0], cpuMedians[0], medians[1], cpuMedians[1], medians[0] / medians[1], cpuMedians[0] / cpuMedians[1]);
	}

	/** CPU time of the whole process (all threads, native ones included), or 0 if the JVM cannot tell. */
	static long processCpuNanos() {
		return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
			? os.getProcessCpuTime() : 0;
	}

	/** "same (n)" or what differs: recipe nodules without a fast one within 1 voxel, and vice versa. */
	static String compare(List<Candidate> recipe, List<Candidate> fast) {
		List<Candidate> lost = new ArrayList<>(), added = new ArrayList<>();
		for (Candidate c : recipe) if (fast.stream().noneMatch(f -> near(c, f))) lost.add(c);
		for (Candidate f : fast) if (recipe.stream().noneMatch(c -> near(c, f))) added.add(f);
		if (lost.isEmpty() && added.isEmpty()) return "same (" + recipe.size() + ")";
		return "DIFFERENT: lost " + lost + ", added " + added;
	}

	private static boolean near(Candidate a, Candidate b) {
		return Math.abs(a.index() - b.index()) <= 1 && Math.abs(a.row() - b.row()) <= 1 && Math.abs(a.col() - b.col()) <= 1;
	}

	static Path find(Path dir, String prefix) throws java.io.IOException {
		if (!Files.isDirectory(dir)) throw new java.nio.file.NoSuchFileException(dir.toString(), null, "models folder does not exist");
		try (var files = Files.list(dir)) {
			return files.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().reduce((a, c) -> c)
				.orElseThrow(() -> new java.nio.file.NoSuchFileException(dir.toString(), null, "no " + prefix + "* model in the folder"));
		}
	}
}
