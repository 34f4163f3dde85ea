package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.nn.Devices;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;

/** TensorBoard files, metrics and the optimizers against hand-computed truths. */
class TrainingPartsTest {

	@TempDir
	Path tmp;

	// ---- an independent TFRecord / protobuf reader (table-driven CRC32C, not java.util.zip)

	private static final int[] CRC_TABLE = new int[256];
	static {
		for (int n = 0; n < 256; n++) {
			int c = n;
			for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
			CRC_TABLE[n] = c;
		}
	}

	private static int crc32c(byte[] b, int off, int len) {
		int c = ~0;
		for (int i = off; i < off + len; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
		return ~c;
	}

	private static int masked(int crc) {
		return Integer.rotateRight(crc, 15) + 0xa282ead8;
	}

	@Test
	void crc32cKnownVector() {
		byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
		assertEquals(0xE3069283, crc32c(b, 0, b.length));
		assertEquals(masked(0xE3069283), TensorBoardWriter.maskedCrc(b, 0, b.length));
	}

	record Event(double wallTime, long step, String fileVersion, Map<String, Float> scalars) {}

	private static List<Event> readEvents(Path file) throws IOException {
		byte[] all = Files.readAllBytes(file);
		ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
		List<Event> events = new ArrayList<>();
		while (buf.hasRemaining()) {
			int start = buf.position();
			long length = buf.getLong();
			assertEquals(masked(crc32c(all, start, 8)), buf.getInt(), "length CRC");
			int dataStart = buf.position();
			buf.position(dataStart + (int) length);
			assertEquals(masked(crc32c(all, dataStart, (int) length)), buf.getInt(), "data CRC");
			events.add(parseEvent(ByteBuffer.wrap(all, dataStart, (int) length).slice().order(ByteOrder.LITTLE_ENDIAN)));
		}
		return events;
	}

	private static long varint(ByteBuffer b) {
		long v = 0;
		for (int shift = 0;; shift += 7) {
			int x = b.get() & 0xff;
			v |= (long) (x & 0x7f) << shift;
			if (x < 0x80) return v;
		}
	}

	private static Event parseEvent(ByteBuffer b) {
		double wall = 0;
		long step = -1;
		String version = null;
		Map<String, Float> scalars = new LinkedHashMap<>();
		while (b.hasRemaining()) {
			long tag = varint(b);
			int field = (int) (tag >>> 3), wire = (int) (tag & 7);
			if (field == 1 && wire == 1) wall = b.getDouble();
			else if (field == 2 && wire == 0) step = varint(b);
			else if (field == 3 && wire == 2) version = new String(bytes(b), StandardCharsets.UTF_8);
			else if (field == 5 && wire == 2) {
				ByteBuffer summary = ByteBuffer.wrap(bytes(b)).order(ByteOrder.LITTLE_ENDIAN);
				while (summary.hasRemaining()) {
					assertEquals((1 << 3) | 2, varint(summary), "Summary.value");
					ByteBuffer value = ByteBuffer.wrap(bytes(summary)).order(ByteOrder.LITTLE_ENDIAN);
					String name = null;
					Float v = null;
					while (value.hasRemaining()) {
						long t = varint(value);
						if (t == ((1 << 3) | 2)) name = new String(bytes(value), StandardCharsets.UTF_8);
						else if (t == ((2 << 3) | 5)) v = value.getFloat();
						else fail("unexpected Value field " + t);
					}
					scalars.put(name, v);
				}
			} else fail("unexpected Event field " + field + " wire " + wire);
		}
		return new Event(wall, step, version, scalars);
	}

	private static byte[] bytes(ByteBuffer b) {
		byte[] out = new byte[(int) varint(b)];
		b.get(out);
		return out;
	}

	@Test
	void tensorBoardEventsDecode() throws Exception {
		Path file;
		try (TensorBoardWriter w = new TensorBoardWriter(tmp.resolve("trn"))) {
			Map<String, Double> values = new LinkedHashMap<>();
			values.put("loss/all", 0.25);
			values.put("pr/f1_score", 0.8);
			w.scalars(3000, values);
			w.scalars(6000, Map.of("loss/all", 0.125));
			file = w.file();
		}
		assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
		List<Event> events = readEvents(file);
		assertEquals(3, events.size());
		assertEquals("brain.Event:2", events.get(0).fileVersion());
		assertEquals(3000, events.get(1).step());
		assertEquals(Map.of("loss/all", 0.25f, "pr/f1_score", 0.8f), events.get(1).scalars());
		assertEquals(6000, events.get(2).step());
		assertEquals(0.125f, events.get(2).scalars().get("loss/all"));
		assertTrue(Math.abs(events.get(2).wallTime() - System.currentTimeMillis() / 1000.0) < 3600);
	}

	@Test
	void classificationMetricsByHand() {
		// labels: P P P N N ; predictions (p > 0.5): P P N P N
		boolean[] pos = { true, true, true, false, false };
		float[] p = { 0.9f, 0.6f, 0.4f, 0.7f, 0.1f };
		float[] loss = { 1, 2, 3, 4, 5 };
		Metrics.Result r = Metrics.classification(1, "val", pos, p, loss, new double[] { 10, 8, 3, 5, 4 }, true);
		assertEquals(3.0, r.get("loss/all"), 1e-12);
		assertEquals(4.5, r.get("loss/neg"), 1e-12);
		assertEquals(2.0, r.get("loss/pos"), 1e-12);
		assertEquals(60.0, r.get("correct/all"), 1e-12);
		assertEquals(50.0, r.get("correct/neg"), 1e-12);
		assertEquals(200.0 / 3, r.get("correct/pos"), 1e-12);
		assertEquals(2.0 / 3, r.get("pr/precision"), 1e-12); // tp 2, fp 1
		assertEquals(2.0 / 3, r.get("pr/recall"), 1e-12); // fn 1
		assertEquals(2.0 / 3, r.get("pr/f1_score"), 1e-12);
		// AUC: pairs (pos > neg) of 3×2: 0.9>{.7,.1}, 0.6>{.1}, 0.4>{.1} → 4 of 6
		assertEquals(4.0 / 6, r.get("auc"), 1e-12);
		// diameters: pos {10, 8, 3} vs neg {5, 4}: 10, 8 beat both, 3 beats none → 4 of 6
		assertEquals(4.0 / 6, r.get("auc_diameter"), 1e-12);
		assertTrue(r.logText().startsWith("E1 val      3.0000 loss,  60.0% correct, 0.6667 precision"), r.logText());
		assertTrue(r.logText().contains("E1 val_ben  4.5000 loss,  50.0% correct (1 of 2)"), r.logText());
		assertEquals(0.5, Metrics.rocAuc(new boolean[] { true, false }, new double[] { 1, 1 }), 0, "ties count half");
	}

	@Test
	void segmentationMetricsByHand() {
		Metrics.Result r = Metrics.segmentation(2, "trn", new float[] { 0.5f, 0.25f }, new double[] { 3, 1 }, new double[] { 1, 3 }, new double[] { 2, 0 });
		assertEquals(0.375, r.get("loss/all"), 1e-12);
		assertEquals(50, r.get("percent_all/tp"), 1e-12);
		assertEquals(50, r.get("percent_all/fn"), 1e-12);
		assertEquals(25, r.get("percent_all/fp"), 1e-12);
		assertEquals(4.0 / 6, r.get("pr/precision"), 1e-12);
		assertEquals(0.5, r.get("pr/recall"), 1e-12);
	}

	@Test
	void diceLossByHand() {
		try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
			NDArray p = m.create(new float[] { 0.5f, 1, 0, 0.25f }, new Shape(1, 1, 2, 2));
			NDArray l = m.create(new float[] { 1, 1, 0, 0 }, new Shape(1, 1, 2, 2));
			// 1 − (2·1.5 + 1) / (1.75 + 2 + 1)
			assertEquals(1 - 4 / 4.75, TrainingLoop.diceLoss(p, l).getFloat(0), 1e-6);
		}
	}

	/** Two steps of each optimizer on w·c (gradient c), against PyTorch's formulas computed by hand. */
	@Test
	void optimizersFollowPyTorch() {
		try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
			float[] w0 = { 1, -2, 0.5f }, c = { 0.5f, -1, 2 };
			// SGD lr 0.1, momentum 0.9, weight decay 0.01: g = c + 0.01 w; buf = g, then 0.9 buf + g
			Parameter ps = param(m, w0);
			TorchOptimizer sgd = new TorchOptimizer.Sgd(List.of(ps), new boolean[] { true }, 0.1, 0.9, 0.01);
			double[] w = { 1, -2, 0.5 }, buf = new double[3];
			for (int step = 0; step < 2; step++) {
				backward(m, ps, c);
				sgd.step();
				for (int i = 0; i < 3; i++) {
					double g = c[i] + 0.01 * w[i];
					buf[i] = step == 0 ? g : 0.9 * buf[i] + g;
					w[i] -= 0.1 * buf[i];
				}
			}
			assertArrayEquals(toFloat(w), ps.getArray().toFloatArray(), 1e-6f);
			Map<?, ?> state = (Map<?, ?>) sgd.stateDict().get("state");
			assertArrayEquals(toFloat(buf), ((org.lungnodules.io.Tensor) ((Map<?, ?>) state.get(0L)).get("momentum_buffer")).toFloatArray(), 1e-6f);

			// Adam lr 0.01: m, v with bias correction
			Parameter pa = param(m, w0);
			TorchOptimizer adam = new TorchOptimizer.Adam(List.of(pa), new boolean[] { true }, 0.01, 0);
			double[] wa = { 1, -2, 0.5 }, mo = new double[3], v = new double[3];
			for (int t = 1; t <= 2; t++) {
				backward(m, pa, c);
				adam.step();
				for (int i = 0; i < 3; i++) {
					mo[i] = 0.9 * mo[i] + 0.1 * c[i];
					v[i] = 0.999 * v[i] + 0.001 * c[i] * c[i];
					double mHat = mo[i] / (1 - Math.pow(0.9, t)), vHat = v[i] / (1 - Math.pow(0.999, t));
					wa[i] -= 0.01 * mHat / (Math.sqrt(vHat) + 1e-8);
				}
			}
			assertArrayEquals(toFloat(wa), pa.getArray().toFloatArray(), 1e-6f);

			// The state survives a save / load into a fresh optimizer: one more step gives the same weights.
			Parameter pb = param(m, pa.getArray().toFloatArray());
			TorchOptimizer restored = new TorchOptimizer.Adam(List.of(pb), new boolean[] { true }, 0.01, 0);
			restored.loadStateDict(adam.stateDict());
			backward(m, pa, c);
			adam.step();
			backward(m, pb, c);
			restored.step();
			assertArrayEquals(pa.getArray().toFloatArray(), pb.getArray().toFloatArray(), 0f);
		}
	}

	private static Parameter param(NDManager m, float[] values) {
		Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).build();
		p.setArray(m.create(values));
		p.getArray().setRequiresGradient(true);
		return p;
	}

	private static void backward(NDManager m, Parameter p, float[] c) {
		try (GradientCollector gc = Devices.engine().newGradientCollector()) {
			gc.backward(p.getArray().mul(m.create(c)).sum());
		}
	}

	private static float[] toFloat(double[] d) {
		float[] f = new float[d.length];
		for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
		return f;
	}
}
