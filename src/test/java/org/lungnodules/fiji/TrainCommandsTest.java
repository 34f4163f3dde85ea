package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.io.TorchCheckpoint;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * The training commands wired to real datasets, through ./luna's entry point: a tiny synthetic
 * LUNA16-like folder, one short epoch each, checkpoints that reload, resume, fine-tuning, the cache.
 */
class TrainCommandsTest {

	@TempDir
	static Path temp;
	static Path data;

	@BeforeAll
	static void dataset() throws Exception {
		data = temp.resolve("data");
		// Seed 24 puts benign and malignant nodules in both splits (every 3rd series is validation).
		PhantomDataset.write(data, 24, 4, PhantomDataset.Options.defaults().withSize(40, 128, 128).withSpacing(1.4, 1.4, 2.0).withNodules(3, 5)
			.withDiameterRange(6, 24));
	}

	static LunaCliTest.Outcome luna(String... args) {
		return LunaCliTest.luna(args);
	}

	static long epochOf(Path checkpoint) throws Exception {
		return ((Number) ((Map<?, ?>) TorchCheckpoint.read(checkpoint).root()).get("epoch")).longValue();
	}

	@Test
	void classifierTrainsResumesAndFineTunesIntoMalignancy() throws Exception {
		Path runs = temp.resolve("runs");
		LunaCliTest.Outcome first = luna("train-cls", "data=" + data, "output=" + runs, "name=cls", "epochs=1", "epoch_size=16",
			"batch_size=8", "val_stride=3", "val_samples=16", "device=cpu", "ratio=3");
		assertEquals(0, first.code(), first.err());
		Path run = runs.resolve("cls");
		for (String f : new String[] { "last.pt", "best.pt", "metrics.csv" }) assertTrue(Files.exists(run.resolve(f)), f);
		try (Stream<Path> s = Files.list(run.resolve("trn"))) {
			assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("events.out.tfevents.")), "TensorBoard log");
		}
		assertEquals(1, epochOf(run.resolve("last.pt")));
		Map<?, ?> parameters = (Map<?, ?>) ((Map<?, ?>) TorchCheckpoint.read(run.resolve("last.pt")).root()).get("run_parameters");
		assertEquals(3L, parameters.get("ratio"));
		// 3 non-nodules per nodule: 4 of the 16 training samples were nodules
		Map<String, String> trn = new org.lungnodules.training.MetricsCsv(run.resolve("metrics.csv")).read().get(0);
		assertEquals("trn", trn.get("split"));
		assertEquals(4.0, Double.parseDouble(trn.get("count/pos")));
		assertEquals(12.0, Double.parseDouble(trn.get("count/neg")));
		ModelFiles.load(run.resolve("best.pt"), Networks.Kind.CLS); // reloads into the network

		// A second run under the same name must say resume=true, and then continues from epoch 1.
		assertEquals(1, luna("train-cls", "data=" + data, "output=" + runs, "name=cls", "epochs=2", "epoch_size=16", "batch_size=8",
			"val_stride=3", "val_samples=16", "device=cpu").code());
		LunaCliTest.Outcome resumed = luna("train-cls", "data=" + data, "output=" + runs, "name=cls", "epochs=2", "epoch_size=16",
			"batch_size=8", "val_stride=3", "val_samples=16", "device=cpu", "resume=true");
		assertEquals(0, resumed.code(), resumed.err());
		assertEquals(2, epochOf(run.resolve("last.pt")));

		LunaCliTest.Outcome mal = luna("train-mal", "data=" + data, "output=" + runs, "name=mal", "epochs=1", "epoch_size=8",
			"batch_size=4", "val_stride=3", "device=cpu", "init=" + run.resolve("best.pt"), "finetune_depth=1");
		assertEquals(0, mal.code(), mal.err());
		ModelFiles.load(runs.resolve("mal").resolve("last.pt"), Networks.Kind.MAL);
	}

	/**
	 * Fine-tuning from the book's published weights (issue #22): the blocks finetune_depth leaves out are not
	 * touched (bit-identical to the .state), the ones it names are trained, lr defaults to a tenth of the recipe's,
	 * and the run states the initial weights' validation score next to the fine-tuned one.
	 */
	@Test
	void classifierAndUNetFineTuneFromThePublishedWeights() throws Exception {
		Path clsState = org.lungnodules.SharedData.require("models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state");
		Path segState = org.lungnodules.SharedData.require("models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state");
		Path runs = temp.resolve("finetune-runs");
		LunaCliTest.Outcome cls = luna("train-cls", "data=" + data, "output=" + runs, "name=cls", "epochs=1", "epoch_size=16",
			"batch_size=8", "val_stride=3", "val_samples=16", "device=cpu", "init=" + clsState, "finetune_depth=2");
		assertEquals(0, cls.code(), cls.err());
		// stdout: the best checkpoint, then the scores side by side
		assertTrue(cls.out().matches("(?s).*Validation pr/f1_score: initial weights \\d\\.\\d{4}, fine-tuned \\(best\\.pt\\) \\d\\.\\d{4}: .*"), cls.out());
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(runs.resolve("cls").resolve("last.pt")).root();
		assertEquals(1e-4, (Double) ((Map<?, ?>) root.get("run_parameters")).get("lr"), 1e-12, "a tenth of the recipe's 1e-3");
		assertFrozenExcept(clsState, runs.resolve("cls").resolve("last.pt"), "block4.", "head_linear.");

		LunaCliTest.Outcome seg = luna("train-seg", "data=" + data, "output=" + runs, "name=seg", "epochs=1", "epoch_size=8",
			"batch_size=4", "val_stride=3", "device=cpu", "init=" + segState, "finetune_depth=1");
		assertEquals(0, seg.code(), seg.err());
		assertTrue(seg.out().contains("Validation pr/recall: initial weights "), seg.out());
		assertFrozenExcept(segState, runs.resolve("seg").resolve("last.pt"), "unet.last.");

		// finetune_depth without init is refused, naming what is missing
		LunaCliTest.Outcome bad = luna("train-seg", "data=" + data, "output=" + temp.resolve("never2"), "finetune_depth=2");
		assertEquals(2, bad.code());
		assertTrue(bad.err().contains("finetune_depth=2 needs init="), bad.err());
	}

	/** Every weight of {@code after} whose key has none of the trained prefixes equals {@code before}'s; some trained one differs. */
	private static void assertFrozenExcept(Path before, Path after, String... trainedPrefixes) throws Exception {
		Map<String, org.lungnodules.io.Tensor> a = TorchCheckpoint.read(before).stateDict(), b = TorchCheckpoint.read(after).stateDict();
		boolean someTrainedChanged = false;
		for (Map.Entry<String, org.lungnodules.io.Tensor> e : a.entrySet()) {
			String key = e.getKey();
			if (key.endsWith("num_batches_tracked") || key.endsWith("running_mean") || key.endsWith("running_var")) continue;
			boolean trained = Stream.of(trainedPrefixes).anyMatch(key::startsWith);
			boolean same = java.util.Arrays.equals(e.getValue().toFloatArray(), b.get(key).toFloatArray());
			if (!trained) assertTrue(same, key + " is frozen but changed");
			else someTrainedChanged |= !same;
		}
		assertTrue(someTrainedChanged, "no trained weight changed");
	}

	@Test
	void segmentationTrainsFromAPreparedCache() throws Exception {
		Path cache = temp.resolve("cache");
		LunaCliTest.Outcome prep = luna("prepare-cache", "data=" + data, "cache=" + cache, "kind=seg", "val_stride=3");
		assertEquals(0, prep.code(), prep.err());
		LunaCliTest.Outcome seg = luna("train-seg", "data=" + data, "cache=" + cache, "output=" + temp.resolve("seg-runs"), "name=seg",
			"epochs=1", "epoch_size=8", "batch_size=4", "val_stride=3", "device=cpu");
		assertEquals(0, seg.code(), seg.err());
		ModelFiles.load(temp.resolve("seg-runs").resolve("seg").resolve("last.pt"), Networks.Kind.SEG);
	}

	@Test
	void badTrainingArgumentsAreNamed() {
		LunaCliTest.Outcome o = luna("train-cls", "data=" + temp.resolve("nowhere"));
		assertEquals(2, o.code());
		assertTrue(o.err().contains("nowhere"), o.err());
		assertEquals(2, luna("train-cls", "data=" + data, "epocs=3").code());
		// declared ranges and choices hold for typed values, not only in the dialog
		for (String[] bad : new String[][] { { "ratio=0", "ratio=0 is out of range (at least 1)" },
			{ "batch_size=-3", "batch_size=-3 is out of range (at least 0)" }, { "device=tpu", "device='tpu' is not one of [auto, cpu, gpu]" },
			{ "momentum=1.5", "momentum must be in [0, 1)" }, { "augment=flip,zoom", "unknown transform 'zoom'" } }) {
			LunaCliTest.Outcome b = luna("train-cls", "data=" + data, "output=" + temp.resolve("never"), bad[0]);
			assertEquals(2, b.code(), bad[0] + ": " + b.err());
			assertTrue(b.err().contains(bad[1]), b.err());
		}
		assertTrue(!Files.exists(temp.resolve("never")), "nothing trained");
	}
}
