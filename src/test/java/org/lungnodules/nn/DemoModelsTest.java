package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lungnodules.TemporaryHome;
import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;

/** The demo weights shipped in the jar: present for every network, small, and loadable into it. */
class DemoModelsTest {

	// DemoModels.path copies into the models folder: keep it away from the user's ~/.lung-nodules.
	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();

	@Test
	void homePropertyComesBeforeTheEnvironment() {
		assertEquals(home.folder().resolve("models"), Devices.modelsFolder());
	}

	@ParameterizedTest
	@EnumSource(Networks.Kind.class)
	void shippedAndLoadableIntoItsNetwork(Networks.Kind kind) throws Exception {
		assertTrue(DemoModels.available(kind), "no demo model for " + kind + " in the jar");
		Path file = DemoModels.path(kind);
		assertNotNull(file);
		assertEquals(home.folder().resolve("models").resolve("demo"), file.getParent(), "copied into the models folder");
		assertTrue(Files.size(file) < 2_000_000, "demo model of " + Files.size(file) + " bytes: only the weights belong in the jar");

		Object root = TorchCheckpoint.read(file).root();
		assertTrue(root instanceof Map, "a checkpoint dictionary");
		Map<?, ?> checkpoint = (Map<?, ?>) root;
		assertFalse(checkpoint.containsKey("optimizer_state"), "optimizer state stripped");
		assertEquals(kind.name().toLowerCase(Locale.ROOT), checkpoint.get("kind"));

		LinkedHashMap<String, Tensor> weights = ModelFiles.load(file, kind);
		try (NDManager manager = NDManager.newBaseManager()) {
			TorchModule net = Networks.create(kind, manager);
			// Throws with a full report on any missing, extra or misshapen tensor.
			StateDicts.load(net, weights, file.toString());
			assertEquals(StateDicts.export(net).keySet(), weights.keySet());
		}
		// Trained, not a fresh initialization: every value is finite, and the BatchNorm counters have
		// seen batches (a fresh network has num_batches_tracked 0).
		boolean counted = false;
		for (Map.Entry<String, Tensor> e : weights.entrySet()) {
			float[] values = e.getValue().toFloatArray();
			for (float v : values) assertTrue(Float.isFinite(v), e.getKey());
			if (e.getKey().endsWith("num_batches_tracked")) {
				assertTrue(values[0] > 0, e.getKey() + " = " + values[0]);
				counted = true;
			}
		}
		assertTrue(counted, "a BatchNorm counter in " + weights.keySet());
	}
}
