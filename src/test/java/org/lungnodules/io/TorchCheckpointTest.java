package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lungnodules.io.CheckpointTestSupport.assertDeepEquals;
import static org.lungnodules.io.CheckpointTestSupport.assertTensorEquals;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;

/** Reading the book's real checkpoints in both formats, and writing our own. */
class TorchCheckpointTest {

	static final String CLS_LEGACY = "models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state";
	static final String SEG_LEGACY = "models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";
	static final String ALT_LEGACY = "models/book/alternate_cls_2019-06-16_14.18.58_ch12-other-model.best.state";
	static final String CLS_ZIP = "models/zip-format/cls-final.zipformat.pt";
	static final String SEG_ZIP = "models/zip-format/seg-final.state-dict-only.pt";

	@TempDir
	Path tmp;

	/** Trainable parameters: float tensors other than BatchNorm running statistics (as the README counts). */
	static long parameterCount(Map<String, Tensor> stateDict) {
		return stateDict.entrySet().stream()
			.filter(e -> e.getValue().dtype() == Tensor.DType.FLOAT32 && !e.getKey().contains(".running_"))
			.mapToLong(e -> e.getValue().numel()).sum();
	}

	@Test
	void classifierLegacyAndZipAgreeBitForBit() throws IOException {
		TorchCheckpoint legacy = TorchCheckpoint.read(SharedData.require(CLS_LEGACY));
		TorchCheckpoint zip = TorchCheckpoint.read(SharedData.require(CLS_ZIP));
		Map<String, Tensor> a = legacy.stateDict(), b = zip.stateDict();

		List<String> expectedKeys = new ArrayList<>(List.of("tail_batchnorm.weight", "tail_batchnorm.bias",
			"tail_batchnorm.running_mean", "tail_batchnorm.running_var", "tail_batchnorm.num_batches_tracked"));
		for (int block = 1; block <= 4; block++)
			for (int conv = 1; conv <= 2; conv++)
				for (String p : new String[] { "weight", "bias" }) expectedKeys.add("block" + block + ".conv" + conv + "." + p);
		expectedKeys.add("head_linear.weight");
		expectedKeys.add("head_linear.bias");
		assertEquals(expectedKeys, new ArrayList<>(a.keySet()), "legacy keys in file order");
		assertEquals(expectedKeys, new ArrayList<>(b.keySet()), "zip keys in file order");
		for (String k : expectedKeys) assertTensorEquals(a.get(k), b.get(k), k);

		// Shapes from the README's architecture: Conv3d 3x3x3, widths 8/16/32/64, Linear 1152 -> 2.
		assertArrayEquals(new long[] { 8, 1, 3, 3, 3 }, a.get("block1.conv1.weight").shape());
		assertArrayEquals(new long[] { 64, 64, 3, 3, 3 }, a.get("block4.conv2.weight").shape());
		assertArrayEquals(new long[] { 2, 1152 }, a.get("head_linear.weight").shape());
		assertEquals(Tensor.DType.INT64, a.get("tail_batchnorm.num_batches_tracked").dtype());
		assertArrayEquals(new long[0], a.get("tail_batchnorm.num_batches_tracked").shape());
		assertEquals(222_220, parameterCount(a));
		// running_var of a trained BatchNorm is positive; a misplaced storage offset would show here
		for (float v : a.get("tail_batchnorm.running_var").toFloatArray()) assertTrue(v > 0, "running_var " + v);

		Map<?, ?> legacyRoot = (Map<?, ?>) legacy.root();
		assertEquals(90L, legacyRoot.get("epoch"));
		assertEquals(4_500_000L, legacyRoot.get("totalTrainingSamples_count"));
		assertEquals("LunaModel", legacyRoot.get("model_name"));
		assertEquals("SGD", legacyRoot.get("optimizer_name"));
		assertEquals(90L, ((Map<?, ?>) zip.root()).get("epoch"));
		assertEquals(List.of("model_state", "epoch"), new ArrayList<>(((Map<?, ?>) zip.root()).keySet()));
	}

	@Test
	void optimizerStateLoadsAsPlainJava() throws IOException {
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(SharedData.require(CLS_LEGACY)).root();
		Map<?, ?> opt = assertInstanceOf(Map.class, root.get("optimizer_state"));
		assertTrue(opt.containsKey("state") && opt.containsKey("param_groups"), "optimizer keys " + opt.keySet());
		List<?> groups = assertInstanceOf(List.class, opt.get("param_groups"));
		Map<?, ?> group = assertInstanceOf(Map.class, groups.get(0));
		assertInstanceOf(Double.class, group.get("lr"));
		// SGD over the 20 parameter tensors (BatchNorm 2 + 8 convs x 2 + linear 2)
		assertEquals(20, assertInstanceOf(List.class, group.get("params")).size());
	}

	@Test
	void segmentationLegacyAndBareZipStateDictAgree() throws IOException {
		TorchCheckpoint legacy = TorchCheckpoint.read(SharedData.require(SEG_LEGACY));
		TorchCheckpoint zip = TorchCheckpoint.read(SharedData.require(SEG_ZIP));
		Map<String, Tensor> a = legacy.stateDict(), b = zip.stateDict();
		assertEquals(new ArrayList<>(a.keySet()), new ArrayList<>(b.keySet()));
		for (String k : a.keySet()) assertTensorEquals(a.get(k), b.get(k), k);
		assertEquals(118_271, parameterCount(a));
		assertArrayEquals(new long[] { 7 }, a.get("input_batchnorm.weight").shape());
		assertTrue(zip.root() instanceof Map && ((Map<?, ?>) zip.root()).values().stream().allMatch(v -> v instanceof Tensor),
			"bare state dict root");
	}

	@Test
	void alternateClassifierLoads() throws IOException {
		Map<String, Tensor> sd = TorchCheckpoint.read(SharedData.require(ALT_LEGACY)).stateDict();
		assertFalse(sd.isEmpty());
		assertTrue(sd.keySet().stream().anyMatch(k -> k.startsWith("convAndPool_seq.")), "keys " + sd.keySet());
	}

	@Test
	void roundTripIsBitIdentical() throws IOException {
		Map<String, Object> root = sampleRoot();
		Path file = tmp.resolve("round.pt");
		TorchCheckpoint.write(file, root);
		TorchCheckpoint back = TorchCheckpoint.read(file);
		assertDeepEquals(root, back.root(), "root");
		assertEquals(List.of("w", "b", "count", "half", "bytes", "flags", "empty", "transposed"), new ArrayList<>(back.stateDict().keySet()));
		// no temporary file left behind
		try (var files = Files.list(tmp)) {
			assertEquals(List.of(file), files.toList());
		}
	}

	@Test
	void writtenZipHasTorchLayout() throws IOException {
		Path file = tmp.resolve("layout.pt");
		TorchCheckpoint.write(file, sampleRoot());
		List<String> names = new ArrayList<>();
		try (ZipFile zip = new ZipFile(file.toFile())) {
			zip.stream().forEach(e -> {
				names.add(e.getName());
				assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
			});
		}
		assertEquals(List.of("archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/1", "archive/data/2",
			"archive/data/3", "archive/data/4", "archive/data/5", "archive/data/6", "archive/data/7", "archive/data/8",
			"archive/version"), names);
		// Payload alignment: each local header's data starts on a 64-byte boundary.
		byte[] all = Files.readAllBytes(file);
		ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
		int pos = 0, records = 0;
		while (b.getInt(pos) == 0x04034b50) {
			int size = b.getInt(pos + 22), nameLen = b.getShort(pos + 26), extraLen = b.getShort(pos + 28);
			int payload = pos + 30 + nameLen + extraLen;
			assertEquals(0, payload % 64, "payload of record " + records);
			pos = payload + size;
			records++;
		}
		assertEquals(names.size(), records);
	}

	@Test
	void overwritesAtomicallyAndRejectsUnsupportedValues() throws IOException {
		Path file = tmp.resolve("x.pt");
		TorchCheckpoint.write(file, Map.of("epoch", 1L));
		Map<String, Object> bad = new LinkedHashMap<>();
		bad.put("epoch", 2L);
		bad.put("thing", new Object());
		CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.write(file, bad));
		assertTrue(e.getMessage().contains("thing") && e.getMessage().contains(file.toString()), e.getMessage());
		assertEquals(1L, ((Map<?, ?>) TorchCheckpoint.read(file).root()).get("epoch"), "old file intact after a failed write");
		TorchCheckpoint.write(file, Map.of("epoch", 3L, "n", 7));
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(file).root();
		assertEquals(3L, root.get("epoch"));
		assertEquals(7L, root.get("n"), "Integer comes back as a Python int, i.e. Long");
	}

	@Test
	void stridedViewsAreCopiedInCOrder() throws IOException {
		// A 2x3 view with strides (1, 2) at offset 1 over storage [10..17]: the transpose of a 3x2 block.
		CheckpointTestSupport.PickleBytes p = new CheckpointTestSupport.PickleBytes().proto2();
		p.global("torch._utils", "_rebuild_tensor_v2").op('(').op('(').str("storage").global("torch", "FloatStorage")
			.str("0").str("cpu").binint(8).op('t').op('Q').binint(1).op('(').binint(2).binint(3).op('t')
			.op('(').binint(1).binint(2).op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('.');
		ByteBuffer storage = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
		for (int i = 0; i < 8; i++) storage.putFloat(10 + i);
		Path file = tmp.resolve("strided.pt");
		CheckpointTestSupport.writeZip(file, new LinkedHashMap<>(Map.of("a/data.pkl", p.bytes(), "a/data/0", storage.array())));
		Tensor t = (Tensor) TorchCheckpoint.read(file).root();
		assertArrayEquals(new long[] { 2, 3 }, t.shape());
		// element [i][j] = storage[1 + i + 2j]
		assertArrayEquals(new float[] { 11, 13, 15, 12, 14, 16 }, t.toFloatArray());
	}

	/** A checkpoint as the training code would save it, with every value kind the writer supports. */
	static Map<String, Object> sampleRoot() {
		Map<String, Object> model = new LinkedHashMap<>();
		model.put("w", Tensor.ofFloats(new long[] { 2, 3 }, new float[] { 1.5f, -0f, Float.NaN, Float.MIN_VALUE, 3e38f, -7.25f }));
		model.put("b", Tensor.ofFloats(new long[] { 2 }, new float[] { 0.1f, -0.2f }));
		model.put("count", Tensor.ofLongs(new long[0], new long[] { 1234567890123L }));
		model.put("half", new Tensor(Tensor.DType.FLOAT16, new long[] { 3 }, ByteBuffer.wrap(new byte[] { 0, 0x3c, 1, (byte) 0x80, (byte) 0xff, 0x7b })));
		model.put("bytes", new Tensor(Tensor.DType.UINT8, new long[] { 4 }, ByteBuffer.wrap(new byte[] { 0, 1, (byte) 200, (byte) 255 })));
		model.put("flags", new Tensor(Tensor.DType.BOOL, new long[] { 2, 1 }, ByteBuffer.wrap(new byte[] { 1, 0 })));
		model.put("empty", Tensor.ofFloats(new long[] { 0, 3 }, new float[0]));
		model.put("transposed", new Tensor(Tensor.DType.FLOAT64, new long[] { 1, 2 }, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(Math.PI).putDouble(-1e300).flip()));

		Map<String, Object> meta = new LinkedHashMap<>();
		meta.put("spacing_mm", Arrays.asList(0.7, 0.7, 1.25));
		meta.put("ok", true);
		meta.put("missing", null);
		meta.put("big", BigInteger.TWO.pow(70).negate());
		meta.put("negative", -5L);
		meta.put("medium", 70_000L);
		meta.put("large", 1L << 40);
		meta.put("unicode", "Ω µm — 結節");
		meta.put("nested", List.of(List.of(), Map.of(), List.of(1L, "two")));

		Map<String, Object> paramState = new LinkedHashMap<>();
		paramState.put("momentum_buffer", Tensor.ofFloats(new long[] { 2 }, new float[] { 0.01f, 0.02f }));
		paramState.put("step", 17L);
		Map<Object, Object> state = new LinkedHashMap<>();
		state.put(0L, paramState);
		Map<String, Object> group = new LinkedHashMap<>();
		group.put("lr", 0.001);
		group.put("momentum", 0.99);
		group.put("nesterov", false);
		group.put("params", List.of(0L, 1L));
		Map<String, Object> optimizer = new LinkedHashMap<>();
		optimizer.put("state", state);
		optimizer.put("param_groups", List.of(group));

		Map<String, Object> root = new LinkedHashMap<>();
		root.put("model_state", model);
		root.put("model_name", "LunaModel");
		root.put("epoch", 90L);
		root.put("metadata", meta);
		root.put("optimizer_state", optimizer);
		root.put("optimizer_name", "SGD");
		root.put("same_tensor_again", model.get("w"));
		return root;
	}
}
