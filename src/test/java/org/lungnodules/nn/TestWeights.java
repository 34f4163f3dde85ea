package org.lungnodules.nn;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.lungnodules.io.Tensor;

/**
 * TEMPORARY, test-only: extracts the state dict of a zip-format PyTorch file (as in
 * {@code ../shared/models/zip-format}) until {@code io.TorchCheckpoint} lands; then replace calls to
 * {@link #read(Path)} by {@code TorchCheckpoint.read(path).stateDict()} and delete this class.
 * <p>
 * It runs only the handful of pickle opcodes those two files use, trusts the files (they are our
 * own reference data) and supports only contiguous tensors.
 */
final class TestWeights {

	private TestWeights() {}

	/** A tensor reference as _rebuild_tensor_v2 describes it, before its storage is attached. */
	private record TensorRef(String dtypeStorage, String storageKey, long offset, long[] shape) {}

	private static final Object MARK = new Object();

	static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
		try (ZipFile zip = new ZipFile(file.toFile())) {
			ZipEntry pkl = zip.stream().filter(e -> e.getName().endsWith("/data.pkl")).findFirst()
				.orElseThrow(() -> new IOException(file + ": no data.pkl"));
			String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
			Object root = unpickle(zip.getInputStream(pkl).readAllBytes());
			@SuppressWarnings("unchecked")
			Map<String, Object> dict = (Map<String, Object>) root;
			if (dict.containsKey("model_state")) {
				@SuppressWarnings("unchecked")
				Map<String, Object> inner = (Map<String, Object>) dict.get("model_state");
				dict = inner;
			}
			LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
			for (Map.Entry<String, Object> e : dict.entrySet()) {
				TensorRef ref = (TensorRef) e.getValue();
				Tensor.DType type = Tensor.DType.fromStorageName(ref.dtypeStorage());
				byte[] bytes = zip.getInputStream(zip.getEntry(prefix + "data/" + ref.storageKey())).readAllBytes();
				int start = Math.toIntExact(ref.offset() * type.bytes);
				int length = Math.toIntExact(Tensor.numel(ref.shape()) * type.bytes);
				ByteBuffer data = ByteBuffer.wrap(bytes, start, length).slice().order(ByteOrder.LITTLE_ENDIAN);
				out.put(e.getKey(), new Tensor(type, ref.shape(), data));
			}
			return out;
		}
	}

	private static Object unpickle(byte[] b) throws IOException {
		ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
		Deque<Object> stack = new ArrayDeque<>();
		Map<Integer, Object> memo = new HashMap<>();
		while (true) {
			int op = in.get() & 0xff;
			switch (op) {
				case 0x80: in.get(); break; // PROTO
				case '}': stack.push(new LinkedHashMap<String, Object>()); break;
				case ')': stack.push(new ArrayList<>()); break;
				case '(': stack.push(MARK); break;
				case 'X': { int n = in.getInt(); byte[] s = new byte[n]; in.get(s); stack.push(new String(s, StandardCharsets.UTF_8)); break; }
				case 'K': stack.push((long) (in.get() & 0xff)); break;
				case 'M': stack.push((long) (in.getShort() & 0xffff)); break;
				case 'J': stack.push((long) in.getInt()); break;
				case 0x88: stack.push(Boolean.TRUE); break;
				case 0x89: stack.push(Boolean.FALSE); break;
				case 'N': stack.push("None"); break;
				case 'q': memo.put(in.get() & 0xff, stack.peek()); break;
				case 'r': memo.put(in.getInt(), stack.peek()); break;
				case 'h': stack.push(memo.get(in.get() & 0xff)); break;
				case 'j': stack.push(memo.get(in.getInt())); break;
				case 'c': stack.push(line(in) + " " + line(in)); break;
				case 't': stack.push(popToMark(stack)); break;
				case 0x85: case 0x86: case 0x87: {
					List<Object> t = new ArrayList<>();
					for (int i = 0; i < op - 0x84; i++) t.add(0, stack.pop());
					stack.push(t);
					break;
				}
				case 'Q': stack.push(new PersistentId((List<?>) stack.pop())); break;
				case 'R': {
					List<?> args = (List<?>) stack.pop();
					String fn = (String) stack.pop();
					stack.push(reduce(fn, args));
					break;
				}
				case 'b': stack.pop(); break; // BUILD: drop the state (OrderedDict _metadata)
				case 's': { Object v = stack.pop(); Object k = stack.pop(); put(stack.peek(), k, v); break; }
				case 'u': {
					List<Object> items = popToMark(stack);
					for (int i = 0; i < items.size(); i += 2) put(stack.peek(), items.get(i), items.get(i + 1));
					break;
				}
				case '.': return stack.pop();
				default: throw new IOException("TestWeights: unsupported pickle opcode 0x" + Integer.toHexString(op));
			}
		}
	}

	private record PersistentId(List<?> tuple) {}

	private static Object reduce(String fn, List<?> args) throws IOException {
		switch (fn) {
			case "collections OrderedDict": return new LinkedHashMap<String, Object>();
			case "torch._utils _rebuild_tensor_v2": {
				List<?> pid = ((PersistentId) args.get(0)).tuple(); // ('storage', type, key, location, numel)
				String type = ((String) pid.get(1)).replace("torch ", "");
				List<?> size = (List<?>) args.get(2);
				long[] shape = new long[size.size()];
				for (int i = 0; i < shape.length; i++) shape[i] = (Long) size.get(i);
				return new TensorRef(type, (String) pid.get(2), (Long) args.get(1), shape);
			}
			default: throw new IOException("TestWeights: unsupported callable " + fn);
		}
	}

	@SuppressWarnings("unchecked")
	private static void put(Object dict, Object k, Object v) {
		((Map<Object, Object>) dict).put(k, v);
	}

	private static List<Object> popToMark(Deque<Object> stack) {
		List<Object> items = new ArrayList<>();
		for (Object o = stack.pop(); o != MARK; o = stack.pop()) items.add(0, o);
		return items;
	}

	private static String line(ByteBuffer in) {
		StringBuilder sb = new StringBuilder();
		for (byte c = in.get(); c != '\n'; c = in.get()) sb.append((char) c);
		return sb.toString();
	}
}
