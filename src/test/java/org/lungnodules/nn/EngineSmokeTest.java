package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;

/** The real PyTorch engine starts offline, its native library taken from the classpath jar. */
class EngineSmokeTest {

	@Test
	void pytorchEngineComputes() {
		Engine engine = Engine.getEngine("PyTorch");
		assertEquals("PyTorch", engine.getEngineName());
		try (NDManager m = NDManager.newBaseManager()) {
			NDArray a = m.create(new float[] { 1, 2, 3 });
			assertArrayEquals(new float[] { 2, 4, 6 }, a.mul(2).toFloatArray());
		}
	}
}
