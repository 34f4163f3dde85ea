package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import org.junit.jupiter.api.Test;
import org.lungnodules.io.Tensor;

/**
 * bfloat16 must never reach DJL 0.33's native layer (it aborts the JVM): the guard refuses it with a
 * message before any array exists, and bfloat16 checkpoints still load, widened to float32 in Java.
 */
class EngineTypesTest {

	@Test
	void bfloat16IsRefusedWithAClearMessage() {
		UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
			() -> EngineTypes.require(DataType.BFLOAT16, "U-Net input"));
		assertTrue(e.getMessage().startsWith("U-Net input: bfloat16 is not supported"), e.getMessage());
		assertTrue(e.getMessage().contains("float32"), e.getMessage());
		UnsupportedOperationException byName = assertThrows(UnsupportedOperationException.class,
			() -> EngineTypes.require(" BFloat16 ", "precision"));
		assertTrue(byName.getMessage().startsWith("precision: bfloat16"), byName.getMessage());
		IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> EngineTypes.require("bf17", "precision"));
		assertTrue(unknown.getMessage().contains("'bf17'"), unknown.getMessage());
	}

	@Test
	void float32Passes() {
		assertEquals(DataType.FLOAT32, EngineTypes.require(DataType.FLOAT32, "x"));
		assertEquals(DataType.FLOAT32, EngineTypes.require("float32", "x"));
	}

	@Test
	void bfloat16CheckpointLoadsAsFloat32() throws Exception {
		try (NDManager m = NDManager.newBaseManager()) {
			TorchModule net = Networks.create(Networks.Kind.CLS, m);
			TorchLayout layout = net.torchLayout();
			Map<String, Tensor> state = new LinkedHashMap<>();
			for (String key : layout.keys()) {
				if (layout.isBatchCounter(key)) {
					state.put(key, Tensor.ofLongs(new long[0], new long[] { 5 }));
					continue;
				}
				long[] shape = layout.parameter(key).getShape().getShape();
				int n = Math.toIntExact(Tensor.numel(shape));
				ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
				// small integers and halves are exact in bfloat16: its bits are the float's upper 16
				for (int i = 0; i < n; i++) b.putShort((short) (Float.floatToIntBits(0.5f * (i % 7) - 1.5f) >>> 16));
				b.flip();
				state.put(key, new Tensor(Tensor.DType.BFLOAT16, shape, b));
			}
			StateDicts.load(net, state, "bf16 test state");
			for (String key : layout.keys()) {
				if (layout.isBatchCounter(key)) continue;
				NDArray a = layout.parameter(key).getArray();
				assertEquals(DataType.FLOAT32, a.getDataType(), key);
				float[] v = a.toFloatArray();
				for (int i = 0; i < v.length; i++) assertEquals(0.5f * (i % 7) - 1.5f, v[i], 0f, key + "[" + i + "]");
			}
		}
	}
}
