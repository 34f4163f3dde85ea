package org.lungnodules.bench;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.Progress;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.DemoModels;
import org.lungnodules.nn.EngineEnvironment;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.CohortRun;
import org.lungnodules.analysis.CtAnalysis;

/**
 * Does one process analysing scan after scan stay flat? Writes LUNA-size synthetic CTs (512×512,
 * 120–300 slices) to a folder, analyses them with {@link CohortRun} in this process, and prints the
 * resident set (RSS) after every scan, once the walk has given back what the scan left free and holds
 * nothing of it (settled: see {@link #settledResidentMb()}), its peak during the scan and the Java
 * heap. Goal: RSS after the last scan within 10 % of RSS after the third (the first scans warm up
 * PyTorch's and glibc's pools). Run it as {@code ./luna bench which=cohort} (the ./luna default heap
 * is -Xmx4g).
 * <p>
 * Options: {@code scans=N} (30), {@code fast=true} (the faster segmentation), {@code folder=DIR} (where
 * the CTs go; CTs already there are reused; default a temporary folder that is deleted),
 * {@code models=DIR} (seg_*.state/cls_*.state there; default the demo models), {@code device=cpu|gpu|auto},
 * {@code slices=MIN-MAX} (120-300).
 */
public final class CohortBenchmark {

	private CohortBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int scans = Integer.parseInt(options.getOrDefault("scans", "30"));
		if (scans < 4) throw new IllegalArgumentException("scans must be at least 4 (the goal compares the last with the third): " + scans);
		boolean fast = Boolean.parseBoolean(options.getOrDefault("fast", "false"));
		String[] range = options.getOrDefault("slices", "120-300").split("-");
		int minSlices = Integer.parseInt(range[0].trim()), maxSlices = Integer.parseInt(range[range.length - 1].trim());
		if (minSlices < 32 || maxSlices < minSlices) throw new IllegalArgumentException("slices=MIN-MAX with 32 <= MIN <= MAX");
		boolean temporary = !options.containsKey("folder");
		Path folder = temporary ? Files.createTempDirectory("lung-nodules-cohort-bench") : Paths.get(options.get("folder"));
		Files.createDirectories(folder);
		try {
			List<Path> files = new ArrayList<>();
			for (int i = 0; i < scans; i++) {
				// Depths spread over the range, in a mixed order, as a real cohort's are.
				int depth = minSlices + (int) ((long) i * 7919 % (maxSlices - minSlices + 1));
				Path file = folder.resolve(String.format(Locale.ROOT, "cohort-%03d-%dx512x512.mhd", i, depth));
				if (!Files.exists(file)) {
					long t = System.nanoTime();
					ChestPhantom chest = ChestPhantom.generate(77, i, ChestPhantom.Options.defaults().withSize(depth, 512, 512)
						.withSpacing(0.7, 0.7, 1.25));
					MetaImage.writeVolume(file, chest.volume(), false);
					out.printf(Locale.ROOT, "wrote %s (%d nodules) in %.1f s%n", file.getFileName(), chest.nodules().size(), (System.nanoTime() - t) / 1e9);
				}
				files.add(file);
			}
			List<Path> inOrder = CtReader.scansIn(folder);
			inOrder.retainAll(files);

			Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "auto"));
			Path seg, cls;
			if (options.containsKey("models")) {
				seg = AnalysisBenchmark.find(Paths.get(options.get("models")), "seg_");
				cls = AnalysisBenchmark.find(Paths.get(options.get("models")), "cls_");
			}
			else {
				seg = DemoModels.path(Networks.Kind.SEG);
				cls = DemoModels.path(Networks.Kind.CLS);
			}
			ModelFiles.addTo(b, Networks.Kind.SEG, seg);
			ModelFiles.addTo(b, Networks.Kind.CLS, cls);
			Path output = Files.createTempDirectory("lung-nodules-cohort-bench-out");
			long[] rss = new long[inOrder.size()], peaks = new long[inOrder.size()];
			int[] k = { 0 };
			try (Inference inference = b.build()) {
				out.printf(Locale.ROOT, "Cohort benchmark: %d CTs of 512x512x%d-%d, %s mode, on %s, max heap %d MB%n", inOrder.size(), minSlices,
					maxSlices, fast ? "fast" : "recipe", inference.device(), Runtime.getRuntime().maxMemory() >> 20);
				out.printf("%5s %-30s %8s %9s %9s %9s %11s %10s%n", "scan", "file", "seconds", "CPU s", "RSS MB", "peak MB", "heap MB", "committed");
				peakMbSinceLast();
				CtAnalysis analysis = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(fast).withKeepVolumes(false));
				long[] cpu = { AnalysisBenchmark.processCpuNanos() };
				CohortRun run = new CohortRun(output, true, 0.5, inference.device().toString(), CohortRun.modelsSha256(seg, cls), out::println);
				CohortRun.Listener listener = new CohortRun.Listener() {
					double seconds;

					@Override
					public void analysed(Path scan, CtVolume ct, AnalysisResult result) {
						seconds = result.stageSeconds().values().stream().mapToDouble(Double::doubleValue).sum();
					}

					@Override
					public void released(CohortRun.Outcome o) {
						// After the scan's memory was given back and nothing of it is held: what the process keeps.
						long now = AnalysisBenchmark.processCpuNanos();
						rss[k[0]] = settledResidentMb();
						long peak = peakMbSinceLast();
						peaks[k[0]] = peak;
						MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
						out.printf(Locale.ROOT, "%5d %-30s %8.1f %9.1f %9d %9d %11d %10d%n", k[0] + 1, o.scan().getFileName(),
							o.status() == CohortRun.Status.ANALYSED ? seconds : o.seconds(),
							(now - cpu[0]) / 1e9, rss[k[0]], peak, heap.getUsed() >> 20, heap.getCommitted() >> 20);
						cpu[0] = now;
						k[0]++;
					}
				};
				CohortRun.Report report = run.run(inOrder, analysis::analyze, listener, Progress.NONE);
				out.println(report.text());
			}
			finally {
				deleteTree(output);
			}
			if (k[0] >= 3 && rss[2] > 0) {
				double ratio = (double) rss[k[0] - 1] / rss[2];
				out.printf(Locale.ROOT, "RSS after scan %d: %d MB; after scan 3: %d MB; ratio %.3f (goal <= 1.10: %s)%n", k[0], rss[k[0] - 1], rss[2],
					ratio, ratio <= 1.10 ? "met" : "NOT met");
				long early = Math.max(peaks[0], Math.max(peaks[1], peaks[2])), late = 0;
				for (int i = Math.max(3, k[0] - 3); i < k[0]; i++) late = Math.max(late, peaks[i]);
				out.printf(Locale.ROOT, "Peak RSS during a scan (it follows the scan's depth): at most %d MB in scans 1-3, %d MB in the last 3%n", early, late);
			}
		}
		finally {
			if (temporary) deleteTree(folder);
		}
	}

	/**
	 * VmRSS once it has settled: after a scan the cohort walk runs a full collection, and since JDK 17
	 * G1 uncommits the heap it no longer needs in the background, within a fraction of a second
	 * (measured: 520 MB right after the collection, 253 MB half a second later). Waits until two
	 * readings 250 ms apart differ by less than 1 %, at most 5 s.
	 */
	static long settledResidentMb() {
		long last = residentMb();
		for (int i = 0; i < 20; i++) {
			try {
				Thread.sleep(250);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				break;
			}
			long now = residentMb();
			if (Math.abs(now - last) * 100 < last) return now;
			last = now;
		}
		return last;
	}

	/** VmRSS of this process from /proc (Linux), or -1 elsewhere. */
	static long residentMb() {
		return statusMb("VmRSS");
	}

	/**
	 * The peak RSS since the last call (VmHWM), then resets the peak (Linux's {@code clear_refs} 5), so
	 * that each scan's own peak is seen; -1 where that is not available.
	 */
	static long peakMbSinceLast() {
		long peak = statusMb("VmHWM");
		try {
			Files.writeString(Paths.get("/proc/self/clear_refs"), "5");
		}
		catch (java.io.IOException | RuntimeException e) {
			return -1; // the peak would be the process's, not the scan's
		}
		return peak;
	}

	private static long statusMb(String key) {
		long kb = EngineEnvironment.processMemoryKb(key);
		return kb < 0 ? -1 : kb / 1024;
	}

	private static void deleteTree(Path dir) throws java.io.IOException {
		if (!Files.exists(dir)) return;
		try (var all = Files.walk(dir)) {
			for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
		}
	}
}
