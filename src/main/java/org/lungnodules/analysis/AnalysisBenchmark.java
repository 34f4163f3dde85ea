package org.lungnodules.analysis;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.ct.ChestPhantom;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * Times the whole analysis, recipe and fast mode, on phantom-a (96×256×256) and on a LUNA16-sized
 * generated chest (250×512×512), printing seconds per stage and nodules found (p_nodule ≥ 0.5).
 * <p>
 * Options: {@code models=DIR} (folder with the book's cls_*.state and seg_*.state; default
 * ../shared/models/book), {@code phantom=FILE} (default ../shared/reference/phantom-a/phantom-a.mhd),
 * {@code large=false} to skip the 512² CT, {@code device=cpu|gpu|auto}.
 */
public final class AnalysisBenchmark {

	private AnalysisBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		Path models = Paths.get(options.getOrDefault("models", "../shared/models/book"));
		Path phantom = Paths.get(options.getOrDefault("phantom", "../shared/reference/phantom-a/phantom-a.mhd"));
		boolean large = Boolean.parseBoolean(options.getOrDefault("large", "true"));
		Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "auto"));
		ModelFiles.addTo(b, Networks.Kind.SEG, find(models, "seg_"));
		ModelFiles.addTo(b, Networks.Kind.CLS, find(models, "cls_"));
		try (Inference inference = b.build()) {
			out.println("Analysis benchmark on " + inference.device());
			if (Files.exists(phantom)) {
				CtVolume ct = MetaImage.readVolume(phantom);
				time(out, "phantom-a 96x256x256", ct, inference);
			} else {
				out.println("phantom-a not found at " + phantom + ", skipped");
			}
			if (large) {
				long t = System.nanoTime();
				ChestPhantom chest = ChestPhantom.generate(1, 0, ChestPhantom.Options.defaults().withSize(250, 512, 512)
					.withSpacing(0.7, 0.7, 1.25).withCandidatesPerCt(0));
				out.printf(Locale.ROOT, "generated 250x512x512 chest with %d nodules in %.1f s%n", chest.nodules().size(), (System.nanoTime() - t) / 1e9);
				time(out, "chest 250x512x512", chest.volume(), inference);
			}
		}
	}

	private static void time(PrintStream out, String name, CtVolume ct, Inference inference) {
		for (boolean fast : new boolean[] { false, true }) {
			CtAnalysis.Settings s = CtAnalysis.Settings.defaults().withFast(fast).withKeepVolumes(false);
			long t = System.nanoTime();
			AnalysisResult r = new CtAnalysis(inference, s).analyze(ct, null);
			double total = (System.nanoTime() - t) / 1e9;
			StringBuilder stages = new StringBuilder();
			for (Map.Entry<String, Double> e : r.stageSeconds().entrySet())
				stages.append(String.format(Locale.ROOT, "%s %.2f s, ", e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
			out.printf(Locale.ROOT, "%-22s %-6s total %6.2f s (%s%d components, %d nodules)%n", name, fast ? "fast" : "recipe", total,
				stages, r.candidates().size(), r.nodules(0.5).size());
		}
	}

	private static Path find(Path dir, String prefix) throws java.io.IOException {
		if (!Files.isDirectory(dir)) throw new java.nio.file.NoSuchFileException(dir.toString(), null, "models folder does not exist");
		try (var files = Files.list(dir)) {
			return files.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().reduce((a, c) -> c)
				.orElseThrow(() -> new java.nio.file.NoSuchFileException(dir.toString(), null, "no " + prefix + "* model in the folder"));
		}
	}
}
