package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

import org.junit.jupiter.api.Test;

/** Channels-last storage must not change any value, nor (beyond float rounding) the networks' outputs. */
class MemoryLayoutTest {

	@Test
	void channelsLastKeepsShapeAndValues() {
		try (NDManager m = NDManager.newBaseManager()) {
			for (Shape shape : new Shape[] { new Shape(2, 3, 4, 5), new Shape(2, 1, 3, 4, 5), new Shape(3, 7, 2, 3, 4) }) {
				NDArray x = m.arange((float) shape.size()).reshape(shape);
				NDArray cl = MemoryLayout.channelsLast(x);
				assertEquals(shape, cl.getShape());
				assertArrayEquals(x.toFloatArray(), cl.toFloatArray(), 0f, "values in logical C order for " + shape);
				// element (n=1, c=last, 0, ..., 0) by hand: flat index (1 * C + C - 1) * plane
				long plane = shape.size() / (shape.get(0) * shape.get(1));
				long[] index = new long[shape.dimension()];
				index[0] = 1;
				index[1] = shape.get(1) - 1;
				assertEquals((float) ((shape.get(1) + shape.get(1) - 1) * plane), cl.getFloat(index));
				// applying it twice is harmless
				assertArrayEquals(x.toFloatArray(), MemoryLayout.channelsLast(cl).toFloatArray(), 0f);
			}
		}
	}

	@Test
	void networksGiveTheSameOutputsInBothLayouts() {
		try (NDManager m = NDManager.newBaseManager()) {
			for (Networks.Kind kind : new Networks.Kind[] { Networks.Kind.CLS, Networks.Kind.SEG }) {
				TorchModule net = Networks.create(kind, m);
				Networks.initializeFromScratch(net, 7);
				Shape shape = kind == Networks.Kind.SEG ? new Shape(2, 7, 32, 48) : new Shape(3, 1, 32, 48, 48);
				m.getEngine().setRandomSeed(5);
				NDArray x = m.randomNormal(shape).mul(300f);
				float[][] out = new float[2][];
				for (int layout = 0; layout < 2; layout++) {
					net.setChannelsLast(layout == 1);
					try (NDManager batch = m.newSubManager()) {
						NDArray input = x.duplicate();
						input.attach(batch);
						out[layout] = net.forward(new ParameterStore(batch, false), new NDList(input), false).head().toFloatArray();
					}
				}
				double worst = 0, largest = 0;
				for (int i = 0; i < out[0].length; i++) {
					worst = Math.max(worst, Math.abs(out[0][i] - out[1][i]));
					largest = Math.max(largest, Math.abs(out[0][i]));
				}
				assertTrue(largest > 0, kind + " output is all zero");
				assertTrue(worst <= 1e-4 * Math.max(1, largest), kind + ": layouts differ by " + worst + " (largest output " + largest + ")");
			}
		}
	}
}
