package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Helpers for checkpoint tests: hand-made pickles and zips, deep comparison with bit-exact tensors. */
final class CheckpointTestSupport {

	private CheckpointTestSupport() {}

	/** Builds pickle bytes opcode by opcode, so hostile inputs are written exactly as intended. */
	static final class PickleBytes {
		private final ByteArrayOutputStream out = new ByteArrayOutputStream();

		PickleBytes op(int... bytes) {
			for (int b : bytes) out.write(b);
			return this;
		}

		PickleBytes proto2() { return op(0x80, 2); }

		PickleBytes global(String module, String name) {
			op('c');
			out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
			return this;
		}

		PickleBytes str(String s) {
			byte[] b = s.getBytes(StandardCharsets.UTF_8);
			op('X').int32(b.length);
			out.writeBytes(b);
			return this;
		}

		PickleBytes int32(int v) {
			return op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
		}

		PickleBytes binint(int v) { return op('J').int32(v); }

		/** LONG1 of a non-negative value, 8 bytes little-endian. */
		PickleBytes long1(long v) {
			op(0x8a, 8);
			for (int i = 0; i < 8; i++) op((int) (v >>> (8 * i)) & 0xff);
			return this;
		}

		byte[] bytes() { return out.toByteArray(); }
	}

	/** The tensor part of a pickle: _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), 0, (n,), (1,), False, OrderedDict()) */
	static PickleBytes floatTensor(PickleBytes p, String key, long storageNumel, long n) {
		p.global("torch._utils", "_rebuild_tensor_v2").op('(').op('(').str("storage").global("torch", "FloatStorage")
			.str(key).str("cpu").long1(storageNumel).op('t').op('Q').binint(0).op('(').long1(n).op('t')
			.op('(').binint(1).op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
		return p;
	}

	/** A zip with the given entries (name → bytes), deflated unless {@code stored}. */
	static void writeZip(Path file, Map<String, byte[]> entries) throws IOException {
		try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
			for (Map.Entry<String, byte[]> e : entries.entrySet()) {
				zip.putNextEntry(new ZipEntry(e.getKey()));
				zip.write(e.getValue());
				zip.closeEntry();
			}
		}
	}

	/** Legacy file: magic, protocol, sys_info pickles, then {@code main}, then the key list and storages. */
	static byte[] legacy(byte[] main, byte[] keysAndStorages) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		out.writeBytes(new byte[] { (byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
			(byte) 0xa8, 0x50, 0x19, '.' });
		out.writeBytes(new byte[] { (byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.' });
		out.writeBytes(new PickleBytes().proto2().op('}').op('.').bytes());
		out.writeBytes(main);
		out.writeBytes(keysAndStorages);
		return out.toByteArray();
	}

	/** Deep equality: maps (with key order), lists, scalars, tensors bit for bit. */
	static void assertDeepEquals(Object expected, Object actual, String path) {
		if (expected instanceof Tensor) {
			assertInstanceOf(Tensor.class, actual, path);
			assertTensorEquals((Tensor) expected, (Tensor) actual, path);
		} else if (expected instanceof Map) {
			assertInstanceOf(Map.class, actual, path);
			Map<?, ?> e = (Map<?, ?>) expected, a = (Map<?, ?>) actual;
			assertEquals(new ArrayList<>(e.keySet()), new ArrayList<>(a.keySet()), path + " keys (in order)");
			for (Map.Entry<?, ?> entry : e.entrySet())
				assertDeepEquals(entry.getValue(), a.get(entry.getKey()), path + "/" + entry.getKey());
		} else if (expected instanceof List) {
			assertInstanceOf(List.class, actual, path);
			List<?> e = (List<?>) expected, a = (List<?>) actual;
			assertEquals(e.size(), a.size(), path + " size");
			for (int i = 0; i < e.size(); i++) assertDeepEquals(e.get(i), a.get(i), path + "/" + i);
		} else if (expected instanceof Double) {
			assertInstanceOf(Double.class, actual, path);
			assertEquals(Double.doubleToRawLongBits((Double) expected), Double.doubleToRawLongBits((Double) actual), path);
		} else {
			assertEquals(expected, actual, path);
		}
	}

	static void assertTensorEquals(Tensor expected, Tensor actual, String what) {
		assertEquals(expected.dtype(), actual.dtype(), what + " dtype");
		assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
		assertEquals(expected.data(), actual.data(), what + " bytes");
	}

	/**
	 * Manifest for tools/check_weights_only.py (format documented there); tensor bytes go to
	 * numbered .raw files in {@code dir}.
	 */
	static Path writeManifest(Object root, Path dir) throws IOException {
		List<String> lines = new ArrayList<>();
		describe(root, "", lines, dir, new int[1]);
		Path manifest = dir.resolve("manifest.tsv");
		Files.write(manifest, lines, StandardCharsets.UTF_8);
		return manifest;
	}

	private static void describe(Object o, String path, List<String> lines, Path dir, int[] counter) throws IOException {
		if (o instanceof Tensor) {
			Tensor t = (Tensor) o;
			String raw = (counter[0]++) + ".raw";
			ByteBuffer data = t.data();
			byte[] bytes = new byte[data.remaining()];
			data.get(bytes);
			Files.write(dir.resolve(raw), bytes);
			StringBuilder shape = new StringBuilder();
			for (long d : t.shape()) shape.append(shape.length() == 0 ? "" : ",").append(d);
			// Java's DType names, lower-cased, are numpy's names (float32, int64, bool, ...).
			lines.add(String.join("\t", "T", path, t.dtype().name().toLowerCase(), shape, raw));
		} else if (o instanceof Map) {
			Map<?, ?> m = (Map<?, ?>) o;
			boolean ordered = !m.isEmpty() && m.values().stream().allMatch(v -> v instanceof Tensor);
			lines.add(String.join("\t", "M", path, ordered ? "odict" : "dict", Integer.toString(m.size())));
			for (Map.Entry<?, ?> e : m.entrySet()) describe(e.getValue(), path + "/" + pythonStr(e.getKey()), lines, dir, counter);
		} else if (o instanceof List) {
			List<?> l = (List<?>) o;
			lines.add(String.join("\t", "M", path, "list", Integer.toString(l.size())));
			Iterator<?> it = l.iterator();
			for (int i = 0; it.hasNext(); i++) describe(it.next(), path + "/" + i, lines, dir, counter);
		} else if (o instanceof Boolean) {
			lines.add(String.join("\t", "B", path, (Boolean) o ? "True" : "False"));
		} else if (o instanceof Long || o instanceof Integer || o instanceof BigInteger) {
			lines.add(String.join("\t", "I", path, o.toString()));
		} else if (o instanceof Double) {
			lines.add(String.join("\t", "F", path, Double.toHexString((Double) o)));
		} else if (o instanceof String) {
			StringBuilder hex = new StringBuilder();
			for (byte b : ((String) o).getBytes(StandardCharsets.UTF_8)) hex.append(String.format("%02x", b));
			lines.add(String.join("\t", "S", path, hex));
		} else if (o == null) {
			lines.add(String.join("\t", "N", path));
		} else {
			fail("no manifest form for " + o.getClass());
		}
	}

	private static String pythonStr(Object key) {
		if (key instanceof Boolean) return (Boolean) key ? "True" : "False";
		return String.valueOf(key);
	}
}
