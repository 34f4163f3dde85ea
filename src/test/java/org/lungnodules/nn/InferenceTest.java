package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;

/** The inference service gives the reference results in any batching, and leaks no arrays. */
class InferenceTest {

	private static Inference open(int batchSize) throws IOException {
		return Inference.builder().device("cpu").batchSize(batchSize)
			.network(Networks.Kind.CLS, NetworkReferenceTest.weights(NetworkReferenceTest.CLS), "cls")
			.network(Networks.Kind.SEG, NetworkReferenceTest.weights(NetworkReferenceTest.SEG), "seg")
			.build();
	}

	@Test
	void classifyMatchesPyTorchInUnevenBatches() throws IOException {
		float[] input = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/cls-inputs.raw"));
		List<String> rows = Files.readAllLines(SharedData.require("reference/unit/cls-expected.csv"));
		try (Inference inf = open(3)) { // batches of 3, 3, 2
			Inference.Classification c = inf.classify(input, 8);
			assertEquals(8, c.count());
			for (int i = 0; i < 8; i++) {
				String[] f = rows.get(i + 1).split(",");
				assertEquals(Double.parseDouble(f[1]), c.logits()[2 * i], 1e-3);
				assertEquals(Double.parseDouble(f[2]), c.logits()[2 * i + 1], 1e-3);
				assertEquals(Double.parseDouble(f[3]), c.positive(i), 1e-4);
				assertEquals(1.0, c.probabilities()[2 * i] + c.positive(i), 1e-6);
			}
		}
	}

	@Test
	void segmentMatchesPyTorchInUnevenBatches() throws IOException {
		float[] input = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/seg-inputs.raw"));
		float[] expected = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/seg-expected.raw"));
		try (Inference inf = open(3)) {
			float[] got = inf.segment(input, 4, 64, 64);
			assertEquals(expected.length, got.length);
			for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-4, "index " + i);
		}
	}

	/**
	 * Two streams of one intra-op thread each give PyTorch's reference outputs, and the caller keeps its
	 * own intra-op thread count (PyTorch's is per thread).
	 */
	@Test
	void twoStreamsGiveTheReferenceOutputs() throws IOException {
		float[] cls = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/cls-inputs.raw"));
		List<String> rows = Files.readAllLines(SharedData.require("reference/unit/cls-expected.csv"));
		float[] seg = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/seg-inputs.raw"));
		float[] expected = NetworkReferenceTest.readFloats(SharedData.require("reference/unit/seg-expected.raw"));
		int callerThreads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
		try (Inference inf = Inference.builder().device("cpu").batchSize(1).streams(2)
			.network(Networks.Kind.CLS, NetworkReferenceTest.weights(NetworkReferenceTest.CLS), "cls")
			.network(Networks.Kind.SEG, NetworkReferenceTest.weights(NetworkReferenceTest.SEG), "seg").build()) {
			assertEquals(2, inf.streams());
			for (int round = 0; round < 3; round++) {
				float[] got = inf.segment(seg, 4, 64, 64);
				for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-4, "index " + i);
				Inference.Classification c = inf.classify(cls, 8);
				for (int i = 0; i < 8; i++)
					assertEquals(Double.parseDouble(rows.get(i + 1).split(",")[3]), c.positive(i), 1e-4, "chunk " + i);
			}
		}
		assertEquals(callerThreads, ai.djl.pytorch.jni.JniUtils.getNumThreads());
	}

	@Test
	void fullSizeSliceWorks() throws IOException {
		float[] input = new float[7 * 512 * 512];
		Random r = new Random(1);
		for (int i = 0; i < input.length; i++) input[i] = (float) (r.nextGaussian() * 500 - 500);
		try (Inference inf = open(0)) {
			assertTrue(inf.batchSize(Networks.Kind.SEG, 512, 512) >= 1);
			float[] p = inf.segment(input, 1, 512, 512);
			assertEquals(512 * 512, p.length);
			for (float v : p) assertTrue(v >= 0 && v <= 1, "probability " + v);
		}
	}

	/**
	 * CPU batches keep the largest activation within 60 MiB (one 64 MB glibc heap less 4 MiB): the U-Net's
	 * 32-channel concatenation is 32 MiB per 512² slice (two would be 64 MiB) and 8 MiB per 256² slice
	 * (seven are 56 MiB, eight 64); the classifier's first block is 2.25 MiB per chunk (26 fit).
	 * A fixed batch size is capped the same way.
	 */
	@Test
	void cpuBatchesFitOneGlibcHeap() throws IOException {
		try (Inference inf = open(0)) {
			assertEquals(1, inf.batchSize(Networks.Kind.SEG, 512, 512));
			assertEquals(7, inf.batchSize(Networks.Kind.SEG, 256, 256));
			assertEquals(26, inf.batchSize(Networks.Kind.CLS, 0, 0));
		}
		try (Inference inf = open(8)) {
			assertEquals(1, inf.batchSize(Networks.Kind.SEG, 512, 512));
			assertEquals(8, inf.batchSize(Networks.Kind.SEG, 64, 64));
		}
	}

	@Test
	void manyBatchesLeaveNoArraysBehind() throws IOException {
		try (Inference inf = open(1)) {
			int before = inf.managedArrayCount();
			float[] slices = new float[2000 * 7 * 4 * 4];
			float[] p = inf.segment(slices, 2000, 4, 4); // 2,000 batches of one 4×4 slice
			assertEquals(2000 * 16, p.length);
			inf.classify(new float[5 * Inference.CHUNK_VOXELS], 5);
			assertEquals(before, inf.managedArrayCount());
		}
	}

	@Test
	void badRequestsFailClearly() throws IOException {
		try (Inference inf = open(0)) {
			assertThrows(IllegalArgumentException.class, () -> inf.classify(new float[10], 1));
			assertThrows(IllegalArgumentException.class, () -> inf.segment(new float[7 * 6 * 6], 1, 6, 6));
			IllegalStateException e = assertThrows(IllegalStateException.class, () -> inf.malignancy(new float[Inference.CHUNK_VOXELS], 1));
			assertTrue(e.getMessage().contains("mal"), e.getMessage());
		}
	}

	@Test
	void deviceChoice() {
		assertEquals(List.of(Device.cpu()), Devices.resolve("auto", 0));
		assertEquals(List.of(Device.cpu()), Devices.resolve("", 0));
		assertEquals(List.of(Device.gpu(0), Device.gpu(1)), Devices.resolve("auto", 2));
		assertEquals(List.of(Device.cpu()), Devices.resolve(" CPU ", 2));
		assertEquals(List.of(Device.gpu(0), Device.gpu(1)), Devices.resolve("gpu", 2));
		assertEquals(List.of(Device.gpu(1)), Devices.resolve("gpu:1", 2));
		assertEquals(List.of(Device.gpu(1), Device.gpu(0)), Devices.resolve("gpu:1,gpu:0", 2));
		assertEquals(List.of(Device.cpu(), Device.cpu()), Devices.resolve("cpu,cpu", 0));
		IllegalStateException e = assertThrows(IllegalStateException.class, () -> Devices.resolve("gpu", 0));
		assertTrue(e.getMessage().contains("device=gpu") && e.getMessage().contains("no GPU"), e.getMessage());
		e = assertThrows(IllegalStateException.class, () -> Devices.resolve("gpu:2", 2));
		assertTrue(e.getMessage().contains("sees 2 GPU(s)"), e.getMessage());
		for (String bad : new String[] { "tpu", "gpu:", "gpu:-1", "cpu,", "gpu 1", "gpu:99999" })
			assertThrows(IllegalArgumentException.class, () -> Devices.resolve(bad, 2), bad);
		// inference runs on one device: the first, and a list is refused with the reason
		assertEquals(Device.cpu(), Devices.choose("cpu"));
		IllegalArgumentException list = assertThrows(IllegalArgumentException.class, () -> Devices.choose("cpu,cpu"));
		assertTrue(list.getMessage().contains("one device"), list.getMessage());
	}
}
