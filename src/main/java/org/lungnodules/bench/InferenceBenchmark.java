package org.lungnodules.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import ai.djl.ndarray.NDManager;

import org.lungnodules.io.Tensor;
import org.lungnodules.nn.Devices;
import org.lungnodules.nn.EngineEnvironment;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.SegmentationUNet;
import org.lungnodules.nn.StateDicts;
import org.lungnodules.nn.TorchModule;

/**
 * Throughput of the {@link Inference} service on random input with randomly initialized weights
 * (speed does not depend on the weight values): classifier chunks/s at batch 32 and U-Net slices/s
 * at 512×512, batch 8 (in the recipe's default memory layout and in the fast mode's channels-last), each measured after warm-up; the median batch is reported, as other processes
 * sharing the cores make single batches slow.
 * <p>
 * Options: {@code device} (auto|cpu|gpu, default auto), {@code threads} (intra-op, default PyTorch's),
 * {@code warmup} (batches, default 2), {@code batches} (timed batches, default 5),
 * {@code clsBatch} (32), {@code segBatch} (8), {@code size} (512).
 */
public final class InferenceBenchmark {

	private InferenceBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		Devices.engine(); // prepared and started before the first NDManager
		String device = options.getOrDefault("device", "auto");
		int threads = Integer.parseInt(options.getOrDefault("threads", "0"));
		int warmup = Integer.parseInt(options.getOrDefault("warmup", "2"));
		int batches = Integer.parseInt(options.getOrDefault("batches", "5"));
		int clsBatch = Integer.parseInt(options.getOrDefault("clsBatch", "32"));
		int segBatch = Integer.parseInt(options.getOrDefault("segBatch", "8"));
		int size = Integer.parseInt(options.getOrDefault("size", "512"));

		Map<String, Tensor> cls, seg;
		try (NDManager m = NDManager.newBaseManager()) {
			TorchModule c = Networks.create(Networks.Kind.CLS, m), s = Networks.create(Networks.Kind.SEG, m);
			Networks.initializeFromScratch(c, 1);
			Networks.initializeFromScratch(s, 2);
			cls = StateDicts.export(c);
			seg = StateDicts.export(s);
		}
		Random random = new Random(3);
		float[] chunks = randomHu(random, clsBatch * Inference.CHUNK_VOXELS);
		float[] slices = randomHu(random, segBatch * SegmentationUNet.IN_CHANNELS * size * size);

		try (Inference inf = Inference.builder().device(device).threads(threads)
			.network(Networks.Kind.CLS, cls, "random cls").network(Networks.Kind.SEG, seg, "random seg").build()) {
			out.printf("device %s, intra-op threads %d%n", inf.device(), ai.djl.pytorch.jni.JniUtils.getNumThreads());
			for (int i = 0; i < warmup; i++) inf.classify(chunks, clsBatch);
			double[] t = new double[batches];
			for (int i = 0; i < batches; i++) {
				long t0 = System.nanoTime();
				inf.classify(chunks, clsBatch);
				t[i] = (System.nanoTime() - t0) / 1e9;
			}
			double m = median(t);
			out.printf(Locale.ROOT, "classifier: %.1f ms per chunk, %.1f chunks/s (batch %d; median of %d batches, fastest %.3f s, slowest %.3f s)%n",
				1000 * m / clsBatch, clsBatch / m, clsBatch, batches, min(t), max(t));

			int leakBatches = Integer.parseInt(options.getOrDefault("leak", "0"));
			if (leakBatches > 0) leakCheck(out, inf, leakBatches);

			for (boolean channelsLast : new boolean[] { false, true }) {
				for (int i = 0; i < warmup; i++) inf.segment(slices, segBatch, size, size, channelsLast);
				for (int i = 0; i < batches; i++) {
					long t0 = System.nanoTime();
					inf.segment(slices, segBatch, size, size, channelsLast);
					t[i] = (System.nanoTime() - t0) / 1e9;
				}
				m = median(t);
				out.printf(Locale.ROOT, "u-net%s: %.0f ms per %dx%d slice, %.2f slices/s (batch %d; median of %d batches, fastest %.3f s, slowest %.3f s)%n",
					channelsLast ? " (channels-last, fast mode)" : " (default layout, recipe)", 1000 * m / segBatch, size, size, segBatch / m,
					segBatch, batches, min(t), max(t));
			}
		}
	}

	/**
	 * NDArray and native memory over many small batches: the arrays the engine holds and the process's
	 * resident memory, sampled every tenth of the run. Both must stay flat.
	 */
	private static void leakCheck(PrintStream out, Inference inf, int batches) {
		// Tiny U-Net batches make N calls cheap; the classifier (fixed 32×48×48 chunks, far slower)
		// runs every tenth call. Both go through the same per-batch NDManager.
		float[] chunk = new float[Inference.CHUNK_VOXELS];
		float[] slice = new float[SegmentationUNet.IN_CHANNELS * 4 * 4];
		out.printf("leak check: %d U-Net batches of one 4x4 slice, %d classifier batches of one chunk%n", batches, batches / 10);
		long start = System.nanoTime();
		for (int i = 0; i <= batches; i++) {
			if (i % Math.max(1, batches / 10) == 0)
				out.printf(Locale.ROOT, "  after %6d batches: %d managed arrays, resident memory %d MB, %.0f s%n", i, inf.managedArrayCount(),
					residentMb(), (System.nanoTime() - start) / 1e9);
			if (i == batches) break;
			inf.segment(slice, 1, 4, 4);
			if (i % 10 == 0) inf.classify(chunk, 1);
		}
	}

	/** VmRSS of this process from /proc (Linux), or -1 elsewhere. */
	static long residentMb() {
		long kb = EngineEnvironment.processMemoryKb("VmRSS");
		return kb < 0 ? -1 : kb / 1024;
	}

	private static double median(double[] v) {
		double[] s = v.clone();
		java.util.Arrays.sort(s);
		return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	}

	private static double min(double[] v) { return java.util.Arrays.stream(v).min().orElse(Double.NaN); }

	private static double max(double[] v) { return java.util.Arrays.stream(v).max().orElse(Double.NaN); }

	private static float[] randomHu(Random random, int n) {
		float[] v = new float[n];
		for (int i = 0; i < n; i++) v[i] = Math.max(-1000f, Math.min(1000f, (float) (random.nextGaussian() * 400 - 500)));
		return v;
	}
}
