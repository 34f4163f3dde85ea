package org.lungnodules.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.lungnodules.Progress;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.Mark;
import org.lungnodules.analysis.EvaluationOutput;
import org.lungnodules.analysis.FrocEvaluation;

/**
 * Times the FROC evaluation at LUNA16 scale: by default 900 scans with 100 marks each (the cap),
 * 1.3 nodules per scan on average, 1,000 bootstrap resamples. Options: scans, marks, bootstrap,
 * seed, write (true: also write the output files and the plot to a temp folder).
 */
public final class EvaluationBenchmark {

	private EvaluationBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int scans = Integer.parseInt(options.getOrDefault("scans", "900"));
		int marksPerScan = Integer.parseInt(options.getOrDefault("marks", "100"));
		int samples = Integer.parseInt(options.getOrDefault("bootstrap", "1000"));
		long seed = Long.parseLong(options.getOrDefault("seed", "1"));
		boolean write = Boolean.parseBoolean(options.getOrDefault("write", "true"));

		SplittableRandom random = new SplittableRandom(seed);
		List<Annotation> nodules = new ArrayList<>();
		List<Mark> marks = new ArrayList<>();
		List<String> uids = new ArrayList<>();
		for (int s = 0; s < scans; s++) {
			String uid = "1.3.6.1.4.1.14519.5.2.1.6279.6001." + (100000000 + s);
			uids.add(uid);
			int count = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(2);
			for (int k = 0; k < count; k++) {
				double x = -150 + 300 * random.nextDouble(), y = -150 + 300 * random.nextDouble(), z = -300 * random.nextDouble();
				double d = 3 + 20 * random.nextDouble();
				nodules.add(new Annotation(uid, x, y, z, d));
				if (random.nextDouble() < 0.85) // found, with a score skewed high
					marks.add(new Mark(uid, x + random.nextDouble(), y, z, Math.sqrt(random.nextDouble())));
			}
			while (marks.size() < (s + 1) * marksPerScan)
				marks.add(new Mark(uid, -150 + 300 * random.nextDouble(), -150 + 300 * random.nextDouble(),
					-300 * random.nextDouble(), random.nextDouble() * random.nextDouble()));
		}
		out.printf("FROC evaluation benchmark: %d scans, %d marks, %d nodules, %d bootstrap resamples, %d cores%n", scans,
			marks.size(), nodules.size(), samples, Runtime.getRuntime().availableProcessors());

		FrocEvaluation.Settings noBootstrap = new FrocEvaluation.Settings(FrocEvaluation.MAX_MARKS_PER_SCAN, 0, seed);
		FrocEvaluation.evaluate(marks, nodules, null, uids, new FrocEvaluation.Settings(100, 20, seed), Progress.NONE); // warm-up
		long t0 = System.nanoTime();
		FrocEvaluation.Result plain = FrocEvaluation.evaluate(marks, nodules, null, uids, noBootstrap, Progress.NONE);
		long t1 = System.nanoTime();
		FrocEvaluation.Result full = FrocEvaluation.evaluate(marks, nodules, null, uids,
			new FrocEvaluation.Settings(FrocEvaluation.MAX_MARKS_PER_SCAN, samples, seed), Progress.NONE);
		long t2 = System.nanoTime();
		out.printf("  matching + curve:           %8.1f ms (CPM %.4f, %d curve points)%n", (t1 - t0) / 1e6, plain.cpm(), plain.curve().size());
		out.printf("  with %d bootstrap resamples: %8.1f ms (%.3f ms per resample), CPM 95%% CI %.4f–%.4f%n", samples,
			(t2 - t1) / 1e6, samples == 0 ? 0 : (t2 - t1 - (t1 - t0)) / 1e6 / samples, full.bootstrap() == null ? Double.NaN
				: full.bootstrap().cpmLow(), full.bootstrap() == null ? Double.NaN : full.bootstrap().cpmHigh());
		if (write) {
			Path dir = Files.createTempDirectory("froc-bench");
			long t3 = System.nanoTime();
			EvaluationOutput.writeFroc(dir, full, new EvaluationOutput.Inputs(List.of(dir.resolve("synthetic.csv")),
				dir.resolve("annotations.csv"), null, "benchmark"));
			long t4 = System.nanoTime();
			out.printf("  writing report, CSVs, PNG:  %8.1f ms (%s)%n", (t4 - t3) / 1e6, dir);
		}
	}
}
