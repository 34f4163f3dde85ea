package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.lungnodules.io.TorchCheckpoint;

/**
 * The DJL networks with the book's weights reproduce outputs computed by real PyTorch
 * ({@code ../shared/reference/unit}), and state dicts load, export and fail as specified.
 */
class NetworkReferenceTest {

	/** The book's published weights, in PyTorch's legacy format (what users download). */
	static final String CLS = "models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state";
	static final String SEG = "models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";
	static final String OTHER_CLS = "models/book/alternate_cls_2019-06-16_14.18.58_ch12-other-model.best.state";
	/** The same weights re-saved in the zip format. */
	static final String CLS_ZIP = "models/zip-format/cls-final.zipformat.pt";
	static final String SEG_ZIP = "models/zip-format/seg-final.state-dict-only.pt";

	private static NDManager manager;

	@BeforeAll
	static void start() { manager = NDManager.newBaseManager(); }

	@AfterAll
	static void stop() { manager.close(); }

	/** Little-endian float32 file, read directly (the MetaImage reader lives elsewhere). */
	static float[] readFloats(Path file) throws IOException {
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
		float[] out = new float[b.remaining() / 4];
		b.asFloatBuffer().get(out);
		return out;
	}

	static LinkedHashMap<String, Tensor> weights(String relative) throws IOException {
		return TorchCheckpoint.read(SharedData.require(relative)).stateDict();
	}

	static TorchModule loaded(Networks.Kind kind, String relative) throws IOException {
		TorchModule net = Networks.create(kind, manager);
		StateDicts.load(net, weights(relative), relative);
		return net;
	}

	/** Runs one batch and returns the outputs as Java arrays; no NDArray outlives the call. */
	static List<float[]> run(TorchModule net, float[] input, Shape shape) {
		try (NDManager batch = manager.newSubManager()) {
			NDList out = net.forward(new ParameterStore(batch, false), new NDList(batch.create(input, shape)), false);
			List<float[]> result = new ArrayList<>();
			for (NDArray a : out) result.add(a.toFloatArray());
			return result;
		}
	}

	@Test
	void classifierMatchesPyTorch() throws IOException {
		TorchModule net = loaded(Networks.Kind.CLS, CLS);
		float[] input = readFloats(SharedData.require("reference/unit/cls-inputs.raw"));
		assertEquals(8 * 32 * 48 * 48, input.length);
		List<String> rows = Files.readAllLines(SharedData.require("reference/unit/cls-expected.csv"));
		assertEquals("sample,logit0,logit1,p_nodule", rows.get(0));
		List<float[]> out = run(net, input, new Shape(8, 1, 32, 48, 48));
		float[] logits = out.get(0), probs = out.get(1);
		for (int i = 0; i < 8; i++) {
			String[] f = rows.get(i + 1).split(",");
			assertEquals(i, Integer.parseInt(f[0]));
			assertEquals(Double.parseDouble(f[1]), logits[2 * i], 1e-3, "logit0 of sample " + i);
			assertEquals(Double.parseDouble(f[2]), logits[2 * i + 1], 1e-3, "logit1 of sample " + i);
			assertEquals(Double.parseDouble(f[3]), probs[2 * i + 1], 1e-4, "p_nodule of sample " + i);
		}
	}

	@Test
	void unetMatchesPyTorch() throws IOException {
		TorchModule net = loaded(Networks.Kind.SEG, SEG);
		float[] input = readFloats(SharedData.require("reference/unit/seg-inputs.raw"));
		float[] expected = readFloats(SharedData.require("reference/unit/seg-expected.raw"));
		assertEquals(4 * 7 * 64 * 64, input.length);
		assertEquals(4 * 64 * 64, expected.length);
		float[] got = run(net, input, new Shape(4, 7, 64, 64)).get(0);
		assertEquals(expected.length, got.length);
		int positives = 0;
		for (int i = 0; i < got.length; i++) {
			assertEquals(expected[i], got[i], 1e-4, "probability at flat index " + i);
			if (expected[i] > 0.5f) positives++;
		}
		assertTrue(positives > 0, "reference should contain some foreground");
	}

	@Test
	void parameterCountsMatchTheBook() {
		assertEquals(222_220, Networks.create(Networks.Kind.CLS, manager).torchLayout().trainableParameterCount());
		assertEquals(222_220, Networks.create(Networks.Kind.MAL, manager).torchLayout().trainableParameterCount());
		assertEquals(118_271, Networks.create(Networks.Kind.SEG, manager).torchLayout().trainableParameterCount());
	}

	@Test
	void layoutKeysAreExactlyTheFileKeys() throws IOException {
		assertEquals(new ArrayList<>(weights(CLS).keySet()), Networks.create(Networks.Kind.CLS, manager).torchLayout().keys());
		assertEquals(new ArrayList<>(weights(SEG).keySet()), Networks.create(Networks.Kind.SEG, manager).torchLayout().keys());
	}

	@Test
	void exportRoundTripsBitForBit() throws IOException {
		for (String file : new String[] { CLS, SEG }) {
			LinkedHashMap<String, Tensor> original = weights(file);
			TorchModule net = loaded(file == CLS ? Networks.Kind.CLS : Networks.Kind.SEG, file);
			LinkedHashMap<String, Tensor> exported = StateDicts.export(net);
			assertEquals(new ArrayList<>(original.keySet()), new ArrayList<>(exported.keySet()), "key order");
			for (Map.Entry<String, Tensor> e : original.entrySet()) {
				Tensor got = exported.get(e.getKey());
				assertEquals(e.getValue().dtype(), got.dtype(), e.getKey());
				assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
				assertEquals(e.getValue().data(), got.data(), "bytes of " + e.getKey());
			}
		}
	}

	@Test
	void mismatchListsEveryProblemAndChangesNothing() throws IOException {
		TorchModule net = loaded(Networks.Kind.CLS, CLS);
		LinkedHashMap<String, Tensor> before = StateDicts.export(net);
		LinkedHashMap<String, Tensor> bad = new LinkedHashMap<>(weights(CLS));
		bad.put("block1.conv1.weights", bad.remove("block1.conv1.weight"));
		bad.remove("head_linear.bias");
		bad.put("block2.conv1.bias", Tensor.ofFloats(new long[] { 15 }, new float[15]));
		bad.put("tail_batchnorm.num_batches_tracked", Tensor.ofFloats(new long[0], new float[1]));
		WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> StateDicts.load(net, bad, "bad.pt"));
		List<String> p = e.problems();
		assertEquals(5, p.size(), e.getMessage());
		assertTrue(p.contains("missing key block1.conv1.weight [8, 1, 3, 3, 3]"), e.getMessage());
		assertTrue(p.contains("missing key head_linear.bias [2]"), e.getMessage());
		assertTrue(p.contains("unexpected key block1.conv1.weights [8, 1, 3, 3, 3]"), e.getMessage());
		assertTrue(p.contains("wrong shape for block2.conv1.bias: [15] in the state dict, network has [16]"), e.getMessage());
		assertTrue(p.contains("wrong type for tail_batchnorm.num_batches_tracked: FLOAT32, expected INT64"), e.getMessage());
		assertTrue(e.getMessage().startsWith("bad.pt does not fit the network (5 problems)"), e.getMessage());
		LinkedHashMap<String, Tensor> after = StateDicts.export(net);
		for (String key : before.keySet()) assertEquals(before.get(key).data(), after.get(key).data(), key);
	}

	@Test
	void segmentationWeightsDoNotFitTheClassifier() throws IOException {
		TorchModule net = Networks.create(Networks.Kind.CLS, manager);
		WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> StateDicts.load(net, weights(SEG), SEG));
		// 23 classifier keys missing, 81 U-Net keys unexpected
		assertEquals(23 + 81, e.problems().size(), e.getMessage());
	}

	@Test
	void zipFormatFilesGiveIdenticalOutputs() throws IOException {
		float[] clsInput = readFloats(SharedData.require("reference/unit/cls-inputs.raw"));
		float[] segInput = readFloats(SharedData.require("reference/unit/seg-inputs.raw"));
		Shape clsShape = new Shape(8, 1, 32, 48, 48), segShape = new Shape(4, 7, 64, 64);
		List<float[]> legacy = run(loaded(Networks.Kind.CLS, CLS), clsInput, clsShape);
		List<float[]> zip = run(loaded(Networks.Kind.CLS, CLS_ZIP), clsInput, clsShape);
		assertArrayEquals(legacy.get(0), zip.get(0), "classifier logits");
		assertArrayEquals(legacy.get(1), zip.get(1), "classifier probabilities");
		assertArrayEquals(run(loaded(Networks.Kind.SEG, SEG), segInput, segShape).get(0),
			run(loaded(Networks.Kind.SEG, SEG_ZIP), segInput, segShape).get(0), "U-Net probabilities");
	}

	@Test
	void olderClassifierDoesNotLoadAsTheClassifier() throws IOException {
		TorchModule net = Networks.create(Networks.Kind.CLS, manager);
		WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> StateDicts.load(net, weights(OTHER_CLS), OTHER_CLS));
		assertTrue(e.problems().contains("missing key block1.conv1.weight [8, 1, 3, 3, 3]"), e.getMessage());
		assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("unexpected key convAndPool_seq.")), e.getMessage());
		assertTrue(e.getMessage().startsWith(OTHER_CLS + " does not fit the network"), e.getMessage());
	}

	@Test
	void modelFilesNameTheFileAndRole() throws IOException {
		java.nio.file.Path other = SharedData.require(OTHER_CLS);
		WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> ModelFiles.load(other, Networks.Kind.CLS));
		assertTrue(e.getMessage().startsWith(other + " (as the nodule classifier) does not fit"), e.getMessage());
		assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("missing key ")), e.getMessage());
		assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("unexpected key ")), e.getMessage());
		java.nio.file.Path missing = other.resolveSibling("no-such-model.state");
		IOException m = assertThrows(java.nio.file.NoSuchFileException.class, () -> ModelFiles.load(missing, Networks.Kind.SEG));
		assertTrue(m.getMessage().contains("no-such-model.state") && m.getMessage().contains("segmentation U-Net"), m.getMessage());
		// Both formats load for their role, with the same keys.
		assertEquals(ModelFiles.load(SharedData.require(SEG), Networks.Kind.SEG).keySet(),
			ModelFiles.load(SharedData.require(SEG_ZIP), Networks.Kind.SEG).keySet());
		assertEquals(ModelFiles.load(SharedData.require(CLS_ZIP), Networks.Kind.MAL).keySet(), weights(CLS).keySet());
	}

	@Test
	void initializationFollowsThePublishedRecipe() {
		TorchModule net = Networks.create(Networks.Kind.SEG, manager);
		Networks.initializeFromScratch(net, 42);
		Map<String, Tensor> sd = StateDicts.export(net);
		// unet.down_path.2.block.3: 64×64×3×3, fan_out 576: weight std sqrt(2/576), bias mean -1/24 std 1/24
		assertMoments(sd.get("unet.down_path.2.block.3.weight").toFloatArray(), 0, Math.sqrt(2.0 / 576), 0.05);
		// transposed conv (64, 32, 2, 2): PyTorch's fan_out is 64 × 4
		assertMoments(sd.get("unet.up_path.0.up.weight").toFloatArray(), 0, Math.sqrt(2.0 / 256), 0.05);
		float[] bn = sd.get("unet.down_path.0.block.2.running_var").toFloatArray();
		for (float v : bn) assertEquals(1f, v);
		TorchModule cls = Networks.create(Networks.Kind.CLS, manager);
		Networks.initializeFromScratch(cls, 7);
		// all biases together: mean of -bound per layer, checked on the largest bias-bearing layer set
		float[] b = StateDicts.export(cls).get("block4.conv2.bias").toFloatArray(); // fan_out 64·27
		double bound = 1 / Math.sqrt(64 * 27);
		double mean = 0;
		for (float v : b) mean += v / b.length;
		assertEquals(-bound, mean, 4 * bound / Math.sqrt(b.length));
		// seeded: the same seed gives the same weights
		TorchModule again = Networks.create(Networks.Kind.CLS, manager);
		Networks.initializeFromScratch(again, 7);
		assertEquals(StateDicts.export(cls).get("head_linear.weight").data(), StateDicts.export(again).get("head_linear.weight").data());
	}

	private static void assertMoments(float[] v, double mean, double std, double relTol) {
		double m = 0, s = 0;
		for (float x : v) m += x;
		m /= v.length;
		for (float x : v) s += (x - m) * (x - m);
		s = Math.sqrt(s / v.length);
		assertEquals(mean, m, 5 * std / Math.sqrt(v.length));
		assertEquals(std, s, std * relTol);
	}
}
