package org.lungnodules.training;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.lungnodules.Progress;
import org.lungnodules.nn.Networks;

/**
 * Training throughput of the real loop (loading, forward, backward, optimizer, metrics) on
 * synthetic in-memory samples: the classifier at batch 32 with SGD, the U-Net at batch 16 of
 * 7×64×64 with Adam and the Dice loss. The first epoch warms up; the second is timed.
 * Options: {@code cls_batches} (default 3), {@code seg_batches} (8), {@code device} (auto),
 * {@code workers} (1). Reference: PyTorch 1.13 on a 2-core machine, ~20 (cls) and ~100 (seg) samples/s.
 */
public final class TrainingBenchmark {

	private TrainingBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int clsBatches = Integer.parseInt(options.getOrDefault("cls_batches", "3"));
		int segBatches = Integer.parseInt(options.getOrDefault("seg_batches", "8"));
		out.printf(Locale.ROOT, "classifier, batch 32, SGD:        %.1f samples/s%n", measure(Networks.Kind.CLS, 32, clsBatches, options));
		out.printf(Locale.ROOT, "U-Net 7x64x64, batch 16, Adam:    %.1f samples/s%n", measure(Networks.Kind.SEG, 16, segBatches, options));
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
