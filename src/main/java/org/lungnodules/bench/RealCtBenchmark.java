package org.lungnodules.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.nn.EngineEnvironment;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;

/**
 * {@code ./luna bench which=real}: the whole analysis of a real CT, the published recipe and the fast
 * mode, in one process, with the figures issue #16 asks for: wall time per stage, process CPU split
 * into user and system time (system time is what page churn costs), peak and current resident memory,
 * the U-Net's GFLOP/s, the classification's share of the time, and whether the results equal the
 * reference (PyTorch's candidates-expected.csv: components in order, centres to 0.01 voxel, p_nodule
 * to 1e-4) and whether the fast mode kept every nodule the recipe finds (p ≥ 0.5).
 * <p>
 * Options: {@code ct=PATH} (anything {@link CtReader} reads; default
 * ../shared/real/LIDC-IDRI-0001/dicom), {@code expected=CSV} (default: candidates-expected.csv beside a
 * default CT's folder), {@code models=DIR} (../shared/models/book), {@code modes=recipe,fast},
 * {@code repeats=N} (1; resident memory is printed after each analysis, so a flat series shows memory
 * staying bounded), {@code device=}. The PyTorch side is timed by {@code scripts/pytorch-recipe.py}.
 */
public final class RealCtBenchmark {

	/** Multiply-adds × 2 of the U-Net per pixel of input (convolutions at their scales, transposed convolutions, 1×1). */
	static final long UNET_FLOP_PER_PIXEL = 50_176;

	private RealCtBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		Path ct = Paths.get(options.getOrDefault("ct", "../shared/real/LIDC-IDRI-0001/dicom"));
		Path models = Paths.get(options.getOrDefault("models", "../shared/models/book"));
		String expectedOption = options.get("expected");
		Path expected = expectedOption != null ? Paths.get(expectedOption)
			: options.containsKey("ct") ? null : ct.resolveSibling("candidates-expected.csv");
		int repeats = Integer.parseInt(options.getOrDefault("repeats", "1"));
		if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1: " + repeats);
		List<String> modes = List.of(options.getOrDefault("modes", "recipe,fast").split(","));
		for (String m : modes)
			if (!m.equals("recipe") && !m.equals("fast")) throw new IllegalArgumentException("modes: recipe and/or fast, not '" + m + "'");

		CtVolume volume;
		try {
			volume = CtReader.read(ct).volume();
		} catch (IOException e) {
			out.println("real CT not read, skipped: " + e.getMessage());
			return;
		}
		Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "auto"));
		ModelFiles.addTo(b, Networks.Kind.SEG, AnalysisBenchmark.find(models, "seg_"));
		ModelFiles.addTo(b, Networks.Kind.CLS, AnalysisBenchmark.find(models, "cls_"));
		int[] shape = volume.shapeIrc();
		try (Inference inference = b.build()) {
			out.printf(Locale.ROOT, "Real CT %s, %dx%dx%d (z y x), on %s; %s%n", ct, shape[0], shape[1], shape[2], inference.device(),
				EngineEnvironment.describe());
			out.printf(Locale.ROOT, "U-Net batch for %dx%d slices: %d%n", shape[1], shape[2], inference.batchSize(Networks.Kind.SEG, shape[1], shape[2]));
			List<Candidate> recipeNodules = null;
			for (String mode : modes) {
				boolean fast = mode.equals("fast");
				CtAnalysis analysis = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(fast).withKeepVolumes(false));
				for (int k = 0; k < repeats; k++) {
					long[] cpu0 = cpuTicks();
					long t = System.nanoTime();
					AnalysisResult r = analysis.analyze(volume, null);
					double total = (System.nanoTime() - t) / 1e9;
					long[] cpu1 = cpuTicks();
					Map<String, Double> s = r.stageSeconds();
					double seg = s.get(CtAnalysis.SEGMENTING), cls = s.get(CtAnalysis.CLASSIFYING);
					long pixels = analysis.lastSegmentedPixels();
					out.printf(Locale.ROOT,
						"%-6s total %6.1f s: segmenting %.1f s (%.1f%% of the CT's pixels, %.0f GFLOP/s), grouping %.1f s, classifying %.1f s " +
							"(%.1f%% of the total, %d components, %d nodules p >= 0.5); CPU user %.1f s, system %.1f s; RSS %.2f GB, peak %.2f GB " +
							"(of which Java heap committed %.2f GB)%n",
						mode, total, seg, 100.0 * pixels / ((double) shape[0] * shape[1] * shape[2]), UNET_FLOP_PER_PIXEL * pixels / seg / 1e9,
						s.get(CtAnalysis.GROUPING), cls, 100 * cls / total, r.candidates().size(), r.nodules(0.5).size(),
						(cpu1[0] - cpu0[0]) / TICKS, (cpu1[1] - cpu0[1]) / TICKS, memoryGb("VmRSS"), memoryGb("VmHWM"),
						Runtime.getRuntime().totalMemory() / (double) (1 << 30));
					if (k == 0 && !fast && expected != null) out.println("  recipe vs " + expected + ": " + compareWithReference(r.candidates(), expected));
					if (k == 0 && !fast) recipeNodules = r.nodules(0.5);
					if (k == 0 && fast && recipeNodules != null)
						out.println("  fast vs recipe, nodules p >= 0.5 within 1 voxel: " + AnalysisBenchmark.compare(recipeNodules, r.nodules(0.5)));
				}
			}
		}
	}

	/** Linux's clock ticks per second for /proc/self/stat (USER_HZ, 100 on every mainstream kernel). */
	private static final double TICKS = 100;

	/** {user, system} CPU ticks of the whole process, or zeros where /proc is missing. */
	static long[] cpuTicks() {
		try {
			String stat = Files.readString(Paths.get("/proc/self/stat"), StandardCharsets.US_ASCII);
			String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
			return new long[] { Long.parseLong(f[11]), Long.parseLong(f[12]) }; // fields 14 and 15 of proc(5)
		} catch (IOException | RuntimeException e) {
			return new long[2];
		}
	}

	/** A /proc/self/status memory line (VmRSS, VmHWM) in GB, or NaN where /proc is missing. */
	static double memoryGb(String key) {
		long kb = EngineEnvironment.processMemoryKb(key);
		return kb < 0 ? Double.NaN : kb / (double) (1 << 20);
	}

	/**
	 * "equal (n components)" or what differs, against a reference CSV with columns label, index, row, col,
	 * p_nodule (the shared candidates-expected.csv): same count and order, centres within 0.01 voxel,
	 * p_nodule within 1e-4.
	 */
	static String compareWithReference(List<Candidate> ours, Path expected) throws IOException {
		List<String> lines = Files.readAllLines(expected);
		List<String> header = List.of(lines.get(0).split(","));
		int ci = header.indexOf("index"), cr = header.indexOf("row"), cc = header.indexOf("col"), cp = header.indexOf("p_nodule");
		if (ci < 0 || cr < 0 || cc < 0 || cp < 0) throw new IOException(expected + ": needs columns index, row, col and p_nodule");
		List<String> problems = new ArrayList<>();
		int n = lines.size() - 1;
		if (n != ours.size()) problems.add(ours.size() + " components instead of " + n);
		double worstCentre = 0, worstP = 0;
		for (int i = 0; i < Math.min(n, ours.size()); i++) {
			String[] f = lines.get(i + 1).split(",");
			Candidate c = ours.get(i);
			double dc = Math.max(Math.abs(c.index() - Double.parseDouble(f[ci])),
				Math.max(Math.abs(c.row() - Double.parseDouble(f[cr])), Math.abs(c.col() - Double.parseDouble(f[cc]))));
			double dp = Math.abs(c.probability() - Double.parseDouble(f[cp]));
			worstCentre = Math.max(worstCentre, dc);
			worstP = Math.max(worstP, dp);
			if ((dc > 0.01 || dp > 1e-4) && problems.size() < 5)
				problems.add(String.format(Locale.ROOT, "component %d: centre off by %.4f voxel, p %.6f vs %s", i + 1, dc, c.probability(), f[cp]));
		}
		String worst = String.format(Locale.ROOT, "largest differences: centre %.5f voxel, p_nodule %.2e", worstCentre, worstP);
		return problems.isEmpty() ? "equal (" + n + " components; " + worst + ")" : "DIFFERENT: " + String.join("; ", problems) + " (" + worst + ")";
	}
}
