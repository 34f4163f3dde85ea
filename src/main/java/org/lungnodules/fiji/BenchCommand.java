package org.lungnodules.fiji;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * {@code ./luna bench which=...}: the speed and memory measurements that BENCHMARKS.md reports.
 * Benchmarks are not tests; they print numbers for a person to read and record.
 */
@Plugin(type = Command.class, name = "bench", label = "Benchmarks", description = "Measure reading, inference, analysis and training speed")
public class BenchCommand extends LunaCommand {

	/** Benchmark name → class with {@code static void run(PrintStream, Map<String,String>)}. */
	static final Map<String, String> BENCHMARKS = new LinkedHashMap<>();
	static {
		BENCHMARKS.put("metaimage", "org.lungnodules.bench.MetaImageBenchmark");
		BENCHMARKS.put("phantom", "org.lungnodules.bench.PhantomBenchmark");
		BENCHMARKS.put("inference", "org.lungnodules.bench.InferenceBenchmark");
		BENCHMARKS.put("analysis", "org.lungnodules.bench.AnalysisBenchmark");
		BENCHMARKS.put("real", "org.lungnodules.bench.RealCtBenchmark");
		BENCHMARKS.put("evaluation", "org.lungnodules.bench.EvaluationBenchmark");
		BENCHMARKS.put("training", "org.lungnodules.bench.TrainingBenchmark");
		BENCHMARKS.put("realism", "org.lungnodules.bench.PhantomDetectionCheck");
		BENCHMARKS.put("demo-models", "org.lungnodules.bench.DemoModelCheck");
		BENCHMARKS.put("cohort", "org.lungnodules.bench.CohortBenchmark");
	}

	/** Not part of which=all: hours of CPU (30 LUNA-size CTs) for one memory figure. */
	private static final List<String> NOT_IN_ALL = List.of("cohort");

	@Parameter(label = "which", description = "metaimage, phantom, inference, analysis, real, evaluation, training, realism, demo-models, " +
		"cohort, or all (all but cohort)")
	private String which = "all";

	@Parameter(label = "options", required = false, description = "Benchmark options as k=v;k=v (e.g. size=512x512x300;repeats=5)")
	private String options = "";

	@Parameter(type = ItemIO.OUTPUT, label = "Results")
	private String results;

	@Override
	protected void execute() throws Exception {
		Map<String, String> opts = new LinkedHashMap<>();
		for (String kv : options.split(";")) {
			if (kv.isBlank()) continue;
			int eq = kv.indexOf('=');
			if (eq <= 0) throw new BadValue("options: expected k=v;k=v, got '" + kv + "'");
			opts.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
		}
		List<String> names = which.equals("all") ? BENCHMARKS.keySet().stream().filter(n -> !NOT_IN_ALL.contains(n)).toList()
			: List.of(which.split(","));
		ByteArrayOutputStream buffer = new ByteArrayOutputStream();
		// Print as we go (benchmarks take a while) and keep a copy as the command's output.
		PrintStream out = new PrintStream(new TeeStream(buffer, System.err), true, StandardCharsets.UTF_8);
		for (String name : names) {
			String cls = BENCHMARKS.get(name.trim());
			if (cls == null) throw new BadValue("which: unknown benchmark '" + name + "'; choose from " + BENCHMARKS.keySet() + " or all");
			progress().checkCanceled();
			out.println("== " + name + " ==");
			Class.forName(cls).getMethod("run", PrintStream.class, Map.class).invoke(null, out, opts);
		}
		results = buffer.toString(StandardCharsets.UTF_8);
	}

	private static final class TeeStream extends java.io.OutputStream {
		private final java.io.OutputStream a, b;

		TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
			this.a = a;
			this.b = b;
		}

		@Override
		public void write(int x) throws java.io.IOException {
			a.write(x);
			b.write(x);
		}

		@Override
		public void write(byte[] buf, int off, int len) throws java.io.IOException {
			a.write(buf, off, len);
			b.write(buf, off, len);
		}
	}
}
