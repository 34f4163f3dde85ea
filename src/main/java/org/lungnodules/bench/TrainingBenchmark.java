package org.lungnodules.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;

import org.lungnodules.Progress;
import org.lungnodules.nn.Devices;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.TorchLayout;
import org.lungnodules.nn.TorchModule;
import org.lungnodules.training.Metrics;
import org.lungnodules.training.SampleSource;
import org.lungnodules.training.TorchOptimizer;
import org.lungnodules.training.TrainingListener;
import org.lungnodules.training.TrainingLoop;
import org.lungnodules.training.TrainingSettings;

/**
 * Training throughput of the real loop (loading, forward, backward, optimizer, metrics) on
 * synthetic in-memory samples: the classifier at batch 32 with SGD, the U-Net at batch 16 of
 * 7×64×64 with Adam and the Dice loss. The first epoch warms up; the second is timed.
 * Options: {@code cls_batches} (default 3), {@code seg_batches} (8), {@code device} (auto),
 * {@code workers} (1), {@code nets} (cls,seg), {@code parts} (true: also time fill / forward / backward / optimizer
 * separately), {@code threads} (0: the loop's automatic choice, {@link TrainingSettings#threads}; the
 * U-Net's phases then run on 1 thread, the classifier's on PyTorch's default). Reference: PyTorch 1.13 on a 2-core machine, ~20 (cls) and ~100 (seg) samples/s.
 */
public final class TrainingBenchmark {

	private TrainingBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int clsBatches = Integer.parseInt(options.getOrDefault("cls_batches", "3"));
		int segBatches = Integer.parseInt(options.getOrDefault("seg_batches", "8"));
		String nets = options.getOrDefault("nets", "cls,seg");
		boolean parts = Boolean.parseBoolean(options.getOrDefault("parts", "true"));
		int threads = Integer.parseInt(options.getOrDefault("threads", "0"));
		if (nets.contains("cls")) {
			out.printf(Locale.ROOT, "classifier, batch 32, SGD:        %.1f samples/s%n", measure(Networks.Kind.CLS, 32, clsBatches, options));
			if (parts) phases(out, Networks.Kind.CLS, 32, clsBatches, threads);
		}
		if (nets.contains("seg")) {
			out.printf(Locale.ROOT, "U-Net 7x64x64, batch 16, Adam:    %.1f samples/s%n", measure(Networks.Kind.SEG, 16, segBatches, options));
			if (parts) phases(out, Networks.Kind.SEG, 16, segBatches, threads == 0 ? 1 : threads);
		}
	}

	/**
	 * Seconds per batch of each phase of a training step, outside the loop, on the CPU: filling the
	 * batch (Java), forward with the loss, backward, optimizer step. One warm-up step, then the median
	 * of {@code batches} steps. The loss here is a plain mean (the phases' costs do not depend on it).
	 */
	private static void phases(PrintStream out, Networks.Kind kind, int batchSize, int batches, int threads) {
		Inference.configureEngine();
		Devices.engine();
		int previous = ai.djl.pytorch.jni.JniUtils.getNumThreads();
		if (threads > 0) ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
		try {
			phases(out, kind, batchSize, batches);
		} finally {
			ai.djl.pytorch.jni.JniUtils.setNumThreads(previous);
		}
	}

	private static void phases(PrintStream out, Networks.Kind kind, int batchSize, int batches) {
		NoiseSamples source = new NoiseSamples(kind == Networks.Kind.SEG, batchSize);
		int inputSize = TrainingLoop.size(source.inputShape()), labelSize = Math.max(1, TrainingLoop.size(source.labelShape()));
		long[] shape = new long[source.inputShape().length + 1];
		shape[0] = batchSize;
		for (int i = 0; i < source.inputShape().length; i++) shape[i + 1] = source.inputShape()[i];
		float[] input = new float[batchSize * inputSize], label = new float[batchSize * labelSize];
		try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
			TorchModule net = Networks.create(kind, manager);
			Networks.initializeFromScratch(net, 1);
			TorchLayout layout = net.torchLayout();
			List<Parameter> parameters = new ArrayList<>();
			for (String key : layout.keys()) {
				Parameter p = layout.parameter(key);
				if (p == null) continue;
				boolean trained = !key.endsWith(".running_mean") && !key.endsWith(".running_var");
				p.getArray().setRequiresGradient(trained);
				if (trained) parameters.add(p);
			}
			boolean[] trainable = new boolean[parameters.size()];
			Arrays.fill(trainable, true);
			TorchOptimizer optimizer = kind == Networks.Kind.SEG ? new TorchOptimizer.Adam(parameters, trainable, 1e-3, 0)
				: new TorchOptimizer.Sgd(parameters, trainable, 1e-3, 0.99, 0);
			ParameterStore store = new ParameterStore(manager, false);
			double[][] seconds = new double[4][batches];
			for (int b = -1; b < batches; b++) {
				long t0 = System.nanoTime();
				for (int i = 0; i < batchSize; i++) source.fill(1, i, input, i * inputSize, label, i * labelSize);
				long t1 = System.nanoTime(), t2, t3;
				try (NDScope scope = new NDScope(); GradientCollector collector = Devices.engine().newGradientCollector()) {
					NDArray x = manager.create(input, new Shape(shape));
					NDArray loss = ((ai.djl.nn.Block) net).forward(store, new NDList(x), true).head().mean();
					loss.getFloat(); // PyTorch on the CPU is synchronous: the phases end when the calls return
					t2 = System.nanoTime();
					collector.backward(loss);
					t3 = System.nanoTime();
				}
				optimizer.step();
				long t4 = System.nanoTime();
				if (b >= 0) {
					seconds[0][b] = (t1 - t0) / 1e9;
					seconds[1][b] = (t2 - t1) / 1e9;
					seconds[2][b] = (t3 - t2) / 1e9;
					seconds[3][b] = (t4 - t3) / 1e9;
				}
			}
			out.printf(Locale.ROOT, "  per batch (median of %d, %d intra-op threads): fill %.3f s, forward+loss %.3f s, backward %.3f s, optimizer %.3f s%n",
				batches, ai.djl.pytorch.jni.JniUtils.getNumThreads(), median(seconds[0]), median(seconds[1]), median(seconds[2]), median(seconds[3]));
		}
	}

	private static double median(double[] v) {
		double[] s = v.clone();
		Arrays.sort(s);
		return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	}

	private static double measure(Networks.Kind kind, int batchSize, int batches, Map<String, String> options) throws Exception {
		Path runs = Files.createTempDirectory("training-benchmark");
		try {
			TrainingSettings s = TrainingSettings.defaults(kind);
			s.runsFolder = runs;
			s.name = kind.name().toLowerCase(Locale.ROOT);
			s.epochs = 2;
			s.batchSize = batchSize;
			s.device = options.getOrDefault("device", "auto");
			s.workers = Integer.parseInt(options.getOrDefault("workers", "1"));
			s.threads = Integer.parseInt(options.getOrDefault("threads", "0"));
			List<Long> ends = new ArrayList<>();
			TrainingListener timer = new TrainingListener() {
				@Override
				public void message(String text) {
					if (text.startsWith("Epoch ")) ends.add(System.nanoTime());
				}

				@Override
				public void epochMetrics(Metrics.Result r) {
					ends.add(System.nanoTime());
				}
			};
			int n = batchSize * batches;
			new TrainingLoop(s, new NoiseSamples(kind == Networks.Kind.SEG, n), null, timer, Progress.NONE).run();
			// messages: [epoch 1 start, epoch 1 metrics, epoch 2 start, epoch 2 metrics]
			double seconds = (ends.get(3) - ends.get(2)) / 1e9;
			return n / seconds;
		} finally {
			try (Stream<Path> files = Files.walk(runs)) {
				for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
			}
		}
	}

	/** Noise with a bright blob in every second sample (the label). */
	private record NoiseSamples(boolean segmentation, int size) implements SampleSource {
		@Override
		public int epochSize() { return size; }

		@Override
		public int[] inputShape() { return segmentation ? new int[] { 7, 64, 64 } : new int[] { 1, 32, 48, 48 }; }

		@Override
		public int[] labelShape() { return segmentation ? new int[] { 1, 64, 64 } : new int[0]; }

		@Override
		public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) {
			SplittableRandom r = new SplittableRandom(epoch * 100_003L + index);
			boolean positive = index % 2 == 0;
			int n = TrainingLoop.size(inputShape());
			for (int i = 0; i < n; i++) input[inputOffset + i] = (float) r.nextGaussian();
			if (segmentation) {
				for (int y = 0; y < 64; y++)
					for (int x = 0; x < 64; x++) {
						boolean in = positive && (y - 32) * (y - 32) + (x - 32) * (x - 32) < 25;
						label[labelOffset + y * 64 + x] = in ? 1 : 0;
						if (in) for (int c = 0; c < 7; c++) input[inputOffset + (c * 64 + y) * 64 + x] += 2;
					}
			} else {
				label[labelOffset] = positive ? 1 : 0;
				if (positive) for (int z = 14; z < 18; z++) for (int y = 22; y < 26; y++) for (int x = 22; x < 26; x++)
					input[inputOffset + (z * 48 + y) * 48 + x] += 2;
			}
			return new SampleInfo(positive, positive ? 6 : 3, "noise");
		}
	}
}
