package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.Progress;
import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.StateDicts;
import org.lungnodules.nn.TorchModule;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

class TrainingLoopTest {

	@TempDir
	Path tmp;

	private static TrainingSettings settings(Networks.Kind kind, Path runs, String name, int epochs) {
		TrainingSettings s = TrainingSettings.defaults(kind);
		s.runsFolder = runs;
		s.name = name;
		s.epochs = epochs;
		s.batchSize = 8;
		s.device = "cpu";
		s.valEvery = 1;
		s.seed = 42;
		return s;
	}

	private static List<Double> trainingLosses(Path run) throws Exception {
		List<Double> losses = new ArrayList<>();
		for (Map<String, String> row : new MetricsCsv(run.resolve("metrics.csv")).read())
			if (row.get("split").equals("trn")) losses.add(Double.parseDouble(row.get("loss/all")));
		return losses;
	}

	@Test
	void classifierLearnsAndItsCheckpointReproducesTheValidationLoss() throws Exception {
		TrainingSettings s = settings(Networks.Kind.CLS, tmp, "cls", 4);
		s.lr = 1e-3;
		s.momentum = 0.9;
		List<String> log = new ArrayList<>();
		TrainingListener listener = new TrainingListener() {
			@Override
			public void message(String text) { log.add(text); }
		};
		TrainingLoop.Summary summary = new TrainingLoop(s, SyntheticSamples.chunks(16, 1, true), SyntheticSamples.chunks(8, 99, false),
			listener, Progress.NONE).run();
		List<Double> losses = trainingLosses(summary.runFolder());
		assertEquals(4, losses.size());
		assertTrue(losses.get(3) < losses.get(0), "training loss should fall: " + losses);
		assertTrue(log.stream().anyMatch(l -> l.matches("E4 trn +\\d\\.\\d{4} loss, +\\d+\\.\\d% correct, .*f1 score")), String.join("\n", log));
		assertEquals(64, summary.totalTrainingSamples());

		// Reload last.pt into a fresh network: its validation loss must be the one the loop logged.
		Map<String, String> lastVal = null;
		for (Map<String, String> row : new MetricsCsv(summary.runFolder().resolve("metrics.csv")).read())
			if (row.get("split").equals("val")) lastVal = row;
		TorchCheckpoint ckpt = TorchCheckpoint.read(summary.lastCheckpoint());
		Map<?, ?> root = (Map<?, ?>) ckpt.root();
		assertEquals(4L, root.get("epoch"));
		assertEquals(64L, root.get("totalTrainingSamples_count"));
		assertEquals("SGD", root.get("optimizer_name"));
		Map<?, ?> opt = (Map<?, ?>) root.get("optimizer_state");
		assertEquals(20, ((Map<?, ?>) opt.get("state")).size(), "a momentum buffer for each of the 20 trainable tensors (tail BatchNorm 2, 8 convs 16, head 2)");
		try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
			TorchModule net = Networks.create(Networks.Kind.CLS, m);
			StateDicts.load(net, ckpt.stateDict(), "last.pt");
			SyntheticSamples val = SyntheticSamples.chunks(8, 99, false);
			float[] input = new float[8 * 32 * 48 * 48], label = new float[8];
			for (int i = 0; i < 8; i++) val.fill(4, i, input, i * 32 * 48 * 48, label, i);
			NDArray logits = net.forward(new ParameterStore(m, false), new NDList(m.create(input, new Shape(8, 1, 32, 48, 48))), false).get(0);
			float[] l = logits.toFloatArray();
			double loss = 0;
			for (int i = 0; i < 8; i++) {
				double max = Math.max(l[2 * i], l[2 * i + 1]);
				double lse = max + Math.log(Math.exp(l[2 * i] - max) + Math.exp(l[2 * i + 1] - max));
				loss += lse - l[2 * i + (label[i] > 0.5 ? 1 : 0)];
			}
			assertEquals(Double.parseDouble(lastVal.get("loss/all")), loss / 8, 1e-4 + 1e-4 * loss / 8);
		}
	}

	@Test
	void segmentationLearns() throws Exception {
		TrainingSettings s = settings(Networks.Kind.SEG, tmp, "seg", 5);
		List<String> log = new ArrayList<>();
		TrainingListener listener = new TrainingListener() {
			@Override
			public void message(String text) { log.add(text); }
		};
		int threadsBefore = ai.djl.pytorch.jni.JniUtils.getNumThreads();
		TrainingLoop.Summary summary = new TrainingLoop(s, SyntheticSamples.crops(32, 1, true), SyntheticSamples.crops(8, 99, false),
			listener, Progress.NONE).run();
		// the U-Net trains on one intra-op thread on the CPU (TrainingSettings.threads = 0), and the setting is restored
		assertTrue(log.stream().anyMatch(m -> m.startsWith("Training SEG on [cpu()] (1 intra-op threads)")), log.toString());
		assertEquals(threadsBefore, ai.djl.pytorch.jni.JniUtils.getNumThreads());
		List<Double> losses = trainingLosses(summary.runFolder());
		assertTrue(losses.get(4) < losses.get(0), "training loss should fall: " + losses);
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(summary.lastCheckpoint()).root();
		Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) root.get("optimizer_state")).get("state");
		Map<?, ?> first = (Map<?, ?>) state.get(0L);
		assertEquals(20f, ((Tensor) first.get("step")).toFloatArray()[0], "4 batches × 5 epochs");
		assertTrue(Files.exists(summary.runFolder().resolve("best.pt")));
	}

	@Test
	void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws Exception {
		TrainingSettings a = settings(Networks.Kind.CLS, tmp, "straight", 2);
		new TrainingLoop(a, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(4, 5, false), null, Progress.NONE).run();

		TrainingSettings b = settings(Networks.Kind.CLS, tmp, "killed", 2);
		AtomicInteger polls = new AtomicInteger();
		// 2 batches per epoch plus validation: cancel in the second epoch, after its first batch
		Progress killer = new Progress() {
			@Override
			public void report(String stage, double fraction) {}

			@Override
			public boolean isCanceled() { return polls.incrementAndGet() > 4; }
		};
		assertThrows(Progress.Canceled.class, () ->
			new TrainingLoop(b, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(4, 5, false), null, killer).run());
		assertEquals(1L, ((Map<?, ?>) TorchCheckpoint.read(tmp.resolve("killed/last.pt")).root()).get("epoch"));
		TrainingSettings again = settings(Networks.Kind.CLS, tmp, "killed", 2);
		again.resume = true;
		new TrainingLoop(again, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(4, 5, false), null, Progress.NONE).run();

		Map<String, Tensor> straight = TorchCheckpoint.read(tmp.resolve("straight/last.pt")).stateDict();
		Map<String, Tensor> resumed = TorchCheckpoint.read(tmp.resolve("killed/last.pt")).stateDict();
		assertEquals(straight.keySet(), resumed.keySet());
		for (String key : straight.keySet())
			assertEquals(straight.get(key).data(), resumed.get(key).data(), key + " differs after resuming");
		assertEquals(4, new MetricsCsv(tmp.resolve("killed/metrics.csv")).read().size(), "trn+val for 2 epochs, no duplicate rows");

		// A second run under the same name without resume must refuse to overwrite it.
		assertThrows(java.io.IOException.class, () ->
			new TrainingLoop(settings(Networks.Kind.CLS, tmp, "killed", 1), SyntheticSamples.chunks(8, 3, true), null, null, Progress.NONE).run());
	}

	@Test
	void aResumedRunKeepsItsBestScoreOnlyForTheSameValidationSamples() throws Exception {
		TrainingSettings first = settings(Networks.Kind.CLS, tmp, "phases", 1);
		new TrainingLoop(first, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(4, 5, false), null, Progress.NONE).run();
		// A best score no epoch can reach (F1 <= 1), as if measured elsewhere.
		Path last = tmp.resolve("phases/last.pt");
		@SuppressWarnings("unchecked")
		Map<String, Object> root = new LinkedHashMap<>((Map<String, Object>) TorchCheckpoint.read(last).root());
		root.put("best_score", 2.0);
		TorchCheckpoint.write(last, root);

		// Same validation samples: epoch 2 cannot beat 2.0, best.pt stays at epoch 1.
		TrainingSettings same = settings(Networks.Kind.CLS, tmp, "phases", 2);
		same.resume = true;
		new TrainingLoop(same, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(4, 5, false), null, Progress.NONE).run();
		assertEquals(1L, ((Map<?, ?>) TorchCheckpoint.read(tmp.resolve("phases/best.pt")).root()).get("epoch"));
		assertEquals(2.0, ((Map<?, ?>) TorchCheckpoint.read(last).root()).get("best_score"));

		// Other validation samples: the 2.0 is no yardstick, so epoch 3 becomes best.pt with its own score.
		TrainingSettings other = settings(Networks.Kind.CLS, tmp, "phases", 3);
		other.resume = true;
		List<String> log = new ArrayList<>();
		TrainingListener listener = new TrainingListener() {
			@Override
			public void message(String text) { log.add(text); }
		};
		new TrainingLoop(other, SyntheticSamples.chunks(16, 3, true), SyntheticSamples.chunks(6, 5, false), listener, Progress.NONE).run();
		Map<?, ?> best = (Map<?, ?>) TorchCheckpoint.read(tmp.resolve("phases/best.pt")).root();
		assertEquals(3L, best.get("epoch"));
		double f1 = Double.parseDouble(new MetricsCsv(tmp.resolve("phases/metrics.csv")).read().get(5).get("pr/f1_score"));
		assertEquals(f1, ((Number) best.get("best_score")).doubleValue(), 1e-5);
		assertEquals("validation: SyntheticSamples of 6 samples", best.get("best_score_on"));
		assertTrue(log.stream().anyMatch(l -> l.startsWith("best.pt was chosen on other data (validation: SyntheticSamples of 4 samples")), log.toString());
	}

	@Test
	void finetuneDepthTrainsOnlyTheLastBlocks() throws Exception {
		Path init = tmp.resolve("cls-init.pt");
		try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
			TorchModule net = Networks.create(Networks.Kind.CLS, m);
			Networks.initializeFromScratch(net, 7);
			TorchCheckpoint.write(init, Map.of("model_state", StateDicts.export(net)));
		}
		Map<String, Tensor> before = TorchCheckpoint.read(init).stateDict();
		for (int depth = 1; depth <= 2; depth++) {
			TrainingSettings s = settings(Networks.Kind.MAL, tmp, "mal" + depth, 1);
			s.init = init;
			s.finetuneDepth = depth;
			TrainingLoop.Summary summary = new TrainingLoop(s, SyntheticSamples.chunks(8, 1, true), SyntheticSamples.chunks(8, 2, false),
				null, Progress.NONE).run();
			Map<String, Tensor> after = TorchCheckpoint.read(summary.lastCheckpoint()).stateDict();
			for (String key : before.keySet()) {
				String block = key.substring(0, key.indexOf('.'));
				boolean trained = block.equals("head_linear") || (depth == 2 && block.equals("block4"));
				if (key.startsWith("head_linear")) continue; // not loaded from init: freshly initialized, then trained
				if (key.endsWith("running_mean") || key.endsWith("running_var") || key.endsWith("num_batches_tracked")) continue;
				boolean same = before.get(key).data().equals(after.get(key).data());
				assertEquals(!trained, same, key + (trained ? " should have been trained" : " should be frozen") + " at depth " + depth);
			}
			Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(summary.lastCheckpoint()).root();
			int withState = ((Map<?, ?>) ((Map<?, ?>) root.get("optimizer_state")).get("state")).size();
			// no momentum: torch keeps {'momentum_buffer': None}; we keep no state at all
			assertEquals(0, withState);
		}
	}

	/** Samples [from, from + size) of another source, as samples 0…size-1. */
	private static SampleSource slice(SampleSource all, int from, int size) {
		return new SampleSource() {
			@Override public int epochSize() { return size; }
			@Override public int[] inputShape() { return all.inputShape(); }
			@Override public int[] labelShape() { return all.labelShape(); }
			@Override public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset)
				throws java.io.IOException {
				return all.fill(epoch, from + index, input, inputOffset, label, labelOffset);
			}
		};
	}

	private Map<String, Tensor> oneStep(String name, String device, SampleSource samples, int batchPerDevice) throws Exception {
		TrainingSettings s = settings(Networks.Kind.CLS, tmp, name, 1);
		s.device = device;
		s.batchSize = batchPerDevice;
		s.lr = 0.05;
		s.momentum = 0; // plain SGD: a step is linear in the gradient
		s.valEvery = 1;
		TrainingLoop.Summary summary = new TrainingLoop(s, samples, null, null, Progress.NONE).run();
		return TorchCheckpoint.read(summary.lastCheckpoint()).stateDict();
	}

	/**
	 * Several devices split each batch in shares (the published runs used two GPUs). With plain SGD
	 * one step on the batch [A; B] split in two equal shares must land where the mean of one step on A
	 * alone and one on B alone lands: each share's loss is its half of the batch mean, and BatchNorm
	 * normalizes each share by its own statistics, as DataParallel does. {@code cpu,cpu} runs the
	 * replica code (copies, refresh, gradient gathering) without a GPU.
	 */
	@Test
	void aBatchSplitAcrossTwoDevicesStepsToTheMeanOfItsHalvesSteps() throws Exception {
		SyntheticSamples all = SyntheticSamples.chunks(8, 5, false);
		Map<String, Tensor> split = oneStep("split", "cpu,cpu", all, 4);
		Map<String, Tensor> a = oneStep("a", "cpu", slice(all, 0, 4), 4);
		Map<String, Tensor> b = oneStep("b", "cpu", slice(all, 4, 4), 4);
		double largestHalfDifference = 0;
		for (String key : split.keySet()) {
			if (key.endsWith("num_batches_tracked")) continue;
			float[] w = split.get(key).toFloatArray(), wa = a.get(key).toFloatArray(), wb = b.get(key).toFloatArray();
			boolean statistics = key.endsWith("running_mean") || key.endsWith("running_var");
			for (int i = 0; i < w.length; i++) {
				// BatchNorm statistics come from the first share only (DataParallel keeps replica 0's)
				double expected = statistics ? wa[i] : (wa[i] + wb[i]) / 2.0;
				assertEquals(expected, w[i], 2e-6 + 1e-5 * Math.abs(expected), key + "[" + i + "] a=" + wa[i] + " b=" + wb[i]);
				largestHalfDifference = Math.max(largestHalfDifference, Math.abs(wa[i] - wb[i]));
			}
		}
		// the two halves must step differently, or the mean above would prove nothing
		assertTrue(largestHalfDifference > 1e-3, "halves stepped alike: " + largestHalfDifference);
	}
}
