package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;
import org.lungnodules.io.Tensor;

/** The DJL networks with the book's weights reproduce outputs computed by real PyTorch. */
class NetworkReferenceTest {

	private static NDManager manager;

	@BeforeAll
	static void start() { manager = NDManager.newBaseManager(); }

	@AfterAll
	static void stop() { manager.close(); }

	static float[] readFloats(Path file) throws IOException {
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
		float[] out = new float[b.remaining() / 4];
		b.asFloatBuffer().get(out);
		return out;
	}

	static TorchModule loaded(Networks.Kind kind, String file) throws IOException {
		Path path = SharedData.require("models/zip-format/" + file);
		TorchModule net = Networks.create(kind, manager);
		StateDicts.load(net, TestWeights.read(path), path.toString());
		return net;
	}

	static NDList run(TorchModule net, float[] input, Shape shape) {
		try (NDManager batch = manager.newSubManager()) {
			NDArray x = batch.create(input, shape);
			NDList out = net.forward(new ParameterStore(batch, false), new NDList(x), false);
			for (NDArray a : out) a.detach(); // keep results past the batch manager
			return out;
		}
	}

	@Test
	void printKeys() throws IOException {
		for (String f : new String[] { "cls-final.zipformat.pt", "seg-final.state-dict-only.pt" })
			for (Map.Entry<String, Tensor> e : TestWeights.read(SharedData.require("models/zip-format/" + f)).entrySet())
				System.out.println(f + " " + e.getKey() + " " + e.getValue());
	}

	@Test
	void classifierMatchesPyTorch() throws IOException {
		TorchModule net = loaded(Networks.Kind.CLS, "cls-final.zipformat.pt");
		float[] input = readFloats(SharedData.require("reference/unit/cls-inputs.raw"));
		List<String> rows = Files.readAllLines(SharedData.require("reference/unit/cls-expected.csv"));
		NDList out = run(net, input, new Shape(8, 1, 32, 48, 48));
		float[] logits = out.get(0).toFloatArray(), probs = out.get(1).toFloatArray();
		out.close();
		for (int i = 0; i < 8; i++) {
			String[] f = rows.get(i + 1).split(",");
			assertEquals(i, Integer.parseInt(f[0]));
			System.out.printf("%d %f %f %g | %s%n", i, logits[2 * i], logits[2 * i + 1], probs[2 * i + 1], rows.get(i + 1));
			assertEquals(Double.parseDouble(f[1]), logits[2 * i], 1e-3, "logit0 of sample " + i);
			assertEquals(Double.parseDouble(f[2]), logits[2 * i + 1], 1e-3, "logit1 of sample " + i);
			assertEquals(Double.parseDouble(f[3]), probs[2 * i + 1], 1e-4, "p_nodule of sample " + i);
		}
	}

	@Test
	void unetMatchesPyTorch() throws IOException {
		for (SegmentationUNet.ConvActivation act : SegmentationUNet.ConvActivation.values()) {
			SegmentationUNet net = new SegmentationUNet(act);
			net.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, net.exampleInputShape());
			Path path = SharedData.require("models/zip-format/seg-final.state-dict-only.pt");
			StateDicts.load(net, TestWeights.read(path), path.toString());
			float[] input = readFloats(SharedData.require("reference/unit/seg-inputs.raw"));
			float[] expected = readFloats(SharedData.require("reference/unit/seg-expected.raw"));
			NDList out = run(net, input, new Shape(4, 7, 64, 64));
			float[] got = out.head().toFloatArray();
			out.close();
			double maxDiff = 0;
			for (int i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
			System.out.println(act + " max diff " + maxDiff);
		}
	}
}
