package org.lungnodules.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle interpreter that never runs code: it understands the opcodes a weights file needs and
 * treats the few globals PyTorch uses for weights as known recipes (OrderedDict, tensor rebuilding,
 * storage types). Every other global, and every opcode that could create arbitrary objects
 * (INST, OBJ, NEWOBJ, EXT*), is refused with a {@link CheckpointException} naming it.
 * <p>
 * Result types: dict/OrderedDict → {@link LinkedHashMap}, list → {@link ArrayList}, tuple →
 * unmodifiable {@link List}, int → {@link Long} (or {@link BigInteger} beyond 64 bits), float →
 * {@link Double}, str → {@link String}, bytes → {@code byte[]}, tensors → {@link Tensor}.
 * <p>
 * Every length read from the stream is checked against the bytes that remain before anything is
 * allocated, and the memo and stack are bounded, so a hostile or truncated pickle fails cleanly.
 */
final class Unpickler {

	/** Globals a weights file may name; everything else is refused. */
	static final String ORDERED_DICT = "collections.OrderedDict";
	static final String REBUILD_TENSOR_V2 = "torch._utils._rebuild_tensor_v2";
	static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";

	/** Bounds that no real weights file comes near but that keep hostile input from exhausting memory. */
	static final int MAX_STACK = 1 << 22;
	static final int MAX_MEMO = 1 << 22;
	static final int MAX_MARK_DEPTH = 10_000;
	static final int MAX_GLOBAL_LINE = 256;

	/** A storage referenced by a persistent id; {@code data} is null during a layout-only pass. */
	static final class Storage {
		final Tensor.DType dtype;
		final String key;
		final long numel;
		final ByteBuffer data;

		Storage(Tensor.DType dtype, String key, long numel, ByteBuffer data) {
			this.dtype = dtype;
			this.key = key;
			this.numel = numel;
			this.data = data;
		}
	}

	/** Supplies storage bytes for a persistent id ('storage', type, key, location, numel). */
	interface StorageLoader {
		Storage load(Tensor.DType dtype, String key, String location, long numel) throws CheckpointException;
	}

	/** A whitelisted global as it sits on the stack: only a name, never a Java or Python callable. */
	private static final class Global {
		final String name;
		final Tensor.DType storageType; // non-null for torch.*Storage

		Global(String name, Tensor.DType storageType) {
			this.name = name;
			this.storageType = storageType;
		}

		@Override
		public String toString() { return name; }
	}

	/** Stands in for a tensor when storages are not loaded yet (legacy files keep them after the pickle). */
	private static final Object DEFERRED_TENSOR = new Object() {
		@Override
		public String toString() { return "tensor (layout pass)"; }
	};

	private final Path file;
	private final String what;
	private final byte[] buf;
	private final int end;
	private final StorageLoader loader;
	private int pos;

	private List<Object> stack = new ArrayList<>();
	private final List<List<Object>> marks = new ArrayList<>();
	private int stackTotal;
	private final Map<Long, Object> memo = new HashMap<>();
	/** OrderedDict instances (BUILD is allowed on them), told apart from plain dicts by identity. */
	private final Set<Object> orderedDicts = Collections.newSetFromMap(new IdentityHashMap<>());

	/**
	 * @param what names the pickle in messages (e.g. "data.pkl")
	 * @param buf the bytes; the pickle starts at {@code start} and may not read past {@code end}
	 */
	Unpickler(Path file, String what, byte[] buf, int start, int end, StorageLoader loader) {
		this.file = file;
		this.what = what;
		this.buf = buf;
		this.pos = start;
		this.end = end;
		this.loader = loader;
	}

	/** Position just after the STOP opcode, once {@link #load()} has returned. */
	int position() { return pos; }

	Object load() throws CheckpointException {
		while (true) {
			int opPos = pos;
			int op = u8();
			switch (op) {
				case 0x80: { // PROTO
					int proto = u8();
					if (proto > 5) throw fail(opPos, "unsupported pickle protocol " + proto);
					break;
				}
				case 0x95: { // FRAME: only a length hint for buffered readers
					long len = i64();
					if (len < 0 || len > end - pos) throw fail(opPos, "frame of " + len + " bytes exceeds the data");
					break;
				}
				case '.': { // STOP
					if (!marks.isEmpty()) throw fail(opPos, "STOP inside an unclosed MARK");
					if (stack.size() != 1) throw fail(opPos, "STOP with " + stack.size() + " objects on the stack");
					return stack.get(0);
				}
				case '(': // MARK
					if (marks.size() >= MAX_MARK_DEPTH) throw fail(opPos, "MARK nesting deeper than " + MAX_MARK_DEPTH);
					marks.add(stack);
					stack = new ArrayList<>();
					break;
				case '}': push(new LinkedHashMap<Object, Object>()); break; // EMPTY_DICT
				case ']': push(new ArrayList<Object>()); break; // EMPTY_LIST
				case ')': push(tuple(List.of())); break; // EMPTY_TUPLE
				case 'N': push(null); break; // NONE
				case 0x88: push(Boolean.TRUE); break; // NEWTRUE
				case 0x89: push(Boolean.FALSE); break; // NEWFALSE
				case 'K': push((long) u8()); break; // BININT1
				case 'M': push((long) (u8() | (u8() << 8))); break; // BININT2
				case 'J': push((long) i32()); break; // BININT
				case 0x8a: push(decodeLong(opPos, u8())); break; // LONG1
				case 'G': push(Double.longBitsToDouble(Long.reverseBytes(i64()))); break; // BINFLOAT (big-endian)
				case 'X': push(utf8(opPos, length(opPos, u32()))); break; // BINUNICODE
				case 0x8d: push(utf8(opPos, length(opPos, i64()))); break; // BINUNICODE8
				case 0x8c: push(utf8(opPos, length(opPos, u8()))); break; // SHORT_BINUNICODE
				// Python 2 str: torch.load decodes it as UTF-8 by default, so do we.
				case 'T': push(utf8(opPos, length(opPos, i32()))); break; // BINSTRING
				case 'U': push(utf8(opPos, length(opPos, u8()))); break; // SHORT_BINSTRING
				case 'B': push(bytes(length(opPos, u32()))); break; // BINBYTES
				case 'C': push(bytes(length(opPos, u8()))); break; // SHORT_BINBYTES
				case 0x8e: push(bytes(length(opPos, i64()))); break; // BINBYTES8
				case 0x85: push(tuple(Arrays.asList(pop(opPos)))); break; // TUPLE1
				case 0x86: { // TUPLE2
					Object b = pop(opPos), a = pop(opPos);
					push(tuple(Arrays.asList(a, b)));
					break;
				}
				case 0x87: { // TUPLE3
					Object c = pop(opPos), b = pop(opPos), a = pop(opPos);
					push(tuple(Arrays.asList(a, b, c)));
					break;
				}
				case 't': push(tuple(popMark(opPos))); break; // TUPLE
				case 'l': push(new ArrayList<>(popMark(opPos))); break; // LIST
				case 'd': { // DICT
					List<Object> items = popMark(opPos);
					Map<Object, Object> map = new LinkedHashMap<>();
					putPairs(opPos, map, items);
					push(map);
					break;
				}
				case 'a': { // APPEND
					Object item = pop(opPos);
					listTarget(opPos).add(item);
					break;
				}
				case 'e': { // APPENDS
					List<Object> items = popMark(opPos);
					listTarget(opPos).addAll(items);
					break;
				}
				case 's': { // SETITEM
					Object value = pop(opPos), key = pop(opPos);
					dictTarget(opPos).put(key, value);
					break;
				}
				case 'u': { // SETITEMS
					List<Object> items = popMark(opPos);
					putPairs(opPos, dictTarget(opPos), items);
					break;
				}
				case 'q': memoPut(opPos, u8()); break; // BINPUT
				case 'r': memoPut(opPos, u32()); break; // LONG_BINPUT
				case 0x94: memoPut(opPos, memo.size()); break; // MEMOIZE
				case 'h': push(memoGet(opPos, u8())); break; // BINGET
				case 'j': push(memoGet(opPos, u32())); break; // LONG_BINGET
				case 'c': { // GLOBAL module\nname\n
					String module = line(opPos), name = line(opPos);
					push(global(opPos, module, name));
					break;
				}
				case 0x93: { // STACK_GLOBAL
					Object name = pop(opPos), module = pop(opPos);
					if (!(module instanceof String) || !(name instanceof String))
						throw fail(opPos, "STACK_GLOBAL needs two strings");
					push(global(opPos, (String) module, (String) name));
					break;
				}
				case 'R': { // REDUCE
					Object args = pop(opPos), callable = pop(opPos);
					push(reduce(opPos, callable, args));
					break;
				}
				case 'Q': push(persistentLoad(opPos, pop(opPos))); break; // BINPERSID
				case 'b': { // BUILD
					Object state = pop(opPos);
					build(opPos, peek(opPos), state);
					break;
				}
				default:
					throw fail(opPos, "refused pickle opcode " + opcodeName(op) + ": weights files do not need it");
			}
		}
	}

	// ---- globals and the calls they allow

	private Global global(int opPos, String module, String name) throws CheckpointException {
		String full = module + "." + name;
		if (full.equals(ORDERED_DICT) || full.equals(REBUILD_TENSOR_V2) || full.equals(REBUILD_PARAMETER))
			return new Global(full, null);
		if (module.equals("torch")) {
			Tensor.DType storage = Tensor.DType.fromStorageName(name);
			if (storage != null) return new Global(full, storage);
		}
		throw fail(opPos, "refused global " + full + " (only collections.OrderedDict, " + REBUILD_TENSOR_V2 + ", " +
			REBUILD_PARAMETER + " and torch.*Storage types are allowed in a weights file)");
	}

	private Object reduce(int opPos, Object callable, Object argsObject) throws CheckpointException {
		if (!(callable instanceof Global))
			throw fail(opPos, "refused REDUCE of " + describe(callable) + ": only allowed globals can be called");
		Global g = (Global) callable;
		if (!(argsObject instanceof List))
			throw fail(opPos, "REDUCE of " + g + " with non-tuple arguments " + describe(argsObject));
		List<?> args = (List<?>) argsObject;
		switch (g.name) {
			case ORDERED_DICT: {
				Map<Object, Object> map = new LinkedHashMap<>();
				if (args.size() == 1 && args.get(0) instanceof List) { // OrderedDict([(k, v), ...])
					for (Object pair : (List<?>) args.get(0)) {
						if (!(pair instanceof List) || ((List<?>) pair).size() != 2)
							throw fail(opPos, "OrderedDict item is not a pair: " + describe(pair));
						map.put(((List<?>) pair).get(0), ((List<?>) pair).get(1));
					}
				} else if (!args.isEmpty()) {
					throw fail(opPos, "OrderedDict called with unexpected arguments " + describe(args));
				}
				orderedDicts.add(map);
				return map;
			}
			case REBUILD_TENSOR_V2:
				return rebuildTensor(opPos, args);
			case REBUILD_PARAMETER: {
				// (data, requires_grad, backward_hooks): the parameter is its tensor for our purposes
				if (args.size() < 1 || !(args.get(0) instanceof Tensor || args.get(0) == DEFERRED_TENSOR))
					throw fail(opPos, REBUILD_PARAMETER + " needs a tensor, got " + describe(args));
				return args.get(0);
			}
			default:
				throw fail(opPos, "refused REDUCE of " + g + ": storage types only appear inside persistent ids");
		}
	}

	private Object persistentLoad(int opPos, Object pid) throws CheckpointException {
		if (!(pid instanceof List))
			throw fail(opPos, "persistent id is not a tuple: " + describe(pid));
		List<?> t = (List<?>) pid;
		Object tag = t.isEmpty() ? null : t.get(0);
		if (tag instanceof byte[]) tag = new String((byte[]) tag, StandardCharsets.US_ASCII);
		if (!"storage".equals(tag))
			throw fail(opPos, "only 'storage' persistent ids are allowed, got " + describe(pid));
		if (t.size() < 5 || t.size() > 6)
			throw fail(opPos, "storage persistent id needs 5 fields, got " + t.size());
		if (t.size() == 6 && t.get(5) != null)
			throw fail(opPos, "storage views (legacy view_metadata) are not supported");
		if (!(t.get(1) instanceof Global) || ((Global) t.get(1)).storageType == null)
			throw fail(opPos, "storage type is not a torch.*Storage global: " + describe(t.get(1)));
		Object key = t.get(2), location = t.get(3), numel = t.get(4);
		if (key instanceof byte[]) key = new String((byte[]) key, StandardCharsets.US_ASCII);
		if (!(key instanceof String) || !(location instanceof String) || !(numel instanceof Long) || (Long) numel < 0)
			throw fail(opPos, "malformed storage persistent id " + describe(pid));
		return loader.load(((Global) t.get(1)).storageType, (String) key, (String) location, (Long) numel);
	}

	/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
	private Object rebuildTensor(int opPos, List<?> args) throws CheckpointException {
		if (args.size() < 6 || args.size() > 7)
			throw fail(opPos, REBUILD_TENSOR_V2 + " expects 6 or 7 arguments, got " + args.size());
		if (!(args.get(0) instanceof Storage))
			throw fail(opPos, REBUILD_TENSOR_V2 + " needs a storage, got " + describe(args.get(0)));
		Storage storage = (Storage) args.get(0);
		long offset = asLong(opPos, args.get(1), "storage offset");
		long[] size = longs(opPos, args.get(2), "size");
		long[] stride = longs(opPos, args.get(3), "stride");
		if (size.length != stride.length)
			throw fail(opPos, "tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
		long numel;
		long lastIndex = offset; // highest element index the view touches
		try {
			numel = Tensor.numel(size);
			for (int i = 0; i < size.length; i++) {
				if (stride[i] < 0) throw fail(opPos, "negative stride " + Arrays.toString(stride));
				if (size[i] > 0) lastIndex = Math.addExact(lastIndex, Math.multiplyExact(size[i] - 1, stride[i]));
			}
		} catch (IllegalArgumentException | ArithmeticException e) {
			throw fail(opPos, "bad tensor size " + Arrays.toString(size) + " / stride " + Arrays.toString(stride));
		}
		if (offset < 0 || (numel > 0 && lastIndex >= storage.numel))
			throw fail(opPos, "tensor of size " + Arrays.toString(size) + ", stride " + Arrays.toString(stride) + ", offset " +
				offset + " does not fit its storage '" + storage.key + "' of " + storage.numel + " elements");
		if (storage.data == null) return DEFERRED_TENSOR;
		return new Tensor(storage.dtype, size, contiguousCopy(storage, offset, size, stride, numel));
	}

	/** The view's elements in C order. A contiguous view is one copy; otherwise element by element. */
	private static ByteBuffer contiguousCopy(Storage storage, long offset, long[] size, long[] stride, long numel) {
		int esize = storage.dtype.bytes;
		ByteBuffer src = storage.data.duplicate();
		byte[] out = new byte[Math.toIntExact(numel * esize)];
		boolean contiguous = true;
		long expected = 1;
		for (int i = size.length - 1; i >= 0; i--) {
			if (size[i] != 1 && stride[i] != expected) contiguous = false;
			expected *= size[i];
		}
		if (contiguous) {
			src.position(Math.toIntExact(offset * esize));
			src.get(out);
		} else {
			int rank = size.length;
			long[] index = new long[rank];
			for (long n = 0; n < numel; n++) {
				long at = offset;
				for (int d = 0; d < rank; d++) at += index[d] * stride[d];
				src.position(Math.toIntExact(at * esize));
				src.get(out, (int) (n * esize), esize);
				for (int d = rank - 1; d >= 0; d--) { // odometer increment
					if (++index[d] < size[d]) break;
					index[d] = 0;
				}
			}
		}
		return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
	}

	private void build(int opPos, Object instance, Object state) throws CheckpointException {
		if (orderedDicts.contains(instance)) {
			// torch state dicts carry attributes such as _metadata (module versions); we do not need them.
			if (state == null || state instanceof Map) return;
			throw fail(opPos, "BUILD of an OrderedDict with state " + describe(state));
		}
		if (instance instanceof Tensor || instance == DEFERRED_TENSOR) {
			boolean empty = state == null || (state instanceof Map && ((Map<?, ?>) state).isEmpty()) ||
				(state instanceof List && ((List<?>) state).isEmpty());
			if (empty) return;
			throw fail(opPos, "refused BUILD of a tensor with non-empty state " + describe(state));
		}
		throw fail(opPos, "refused BUILD on " + describe(instance) + ": only OrderedDict and tensors may be built");
	}

	// ---- stack, marks, memo

	private void push(Object o) throws CheckpointException {
		if (++stackTotal > MAX_STACK) throw fail(pos, "pickle stack grows beyond " + MAX_STACK + " objects");
		stack.add(o);
	}

	private Object pop(int opPos) throws CheckpointException {
		if (stack.isEmpty()) throw fail(opPos, "pickle stack underflow");
		stackTotal--;
		return stack.remove(stack.size() - 1);
	}

	private Object peek(int opPos) throws CheckpointException {
		if (stack.isEmpty()) throw fail(opPos, "pickle stack underflow");
		return stack.get(stack.size() - 1);
	}

	private List<Object> popMark(int opPos) throws CheckpointException {
		if (marks.isEmpty()) throw fail(opPos, "no MARK to pop to");
		List<Object> items = stack;
		stackTotal -= items.size();
		stack = marks.remove(marks.size() - 1);
		return items;
	}

	@SuppressWarnings("unchecked")
	private List<Object> listTarget(int opPos) throws CheckpointException {
		Object target = peek(opPos);
		if (!(target instanceof ArrayList)) throw fail(opPos, "APPEND to " + describe(target) + ", not a list");
		return (List<Object>) target;
	}

	@SuppressWarnings("unchecked")
	private Map<Object, Object> dictTarget(int opPos) throws CheckpointException {
		Object target = peek(opPos);
		if (!(target instanceof LinkedHashMap)) throw fail(opPos, "SETITEM on " + describe(target) + ", not a dict");
		return (Map<Object, Object>) target;
	}

	private void putPairs(int opPos, Map<Object, Object> map, List<Object> items) throws CheckpointException {
		if (items.size() % 2 != 0) throw fail(opPos, "odd number of items for a dict");
		for (int i = 0; i < items.size(); i += 2) map.put(items.get(i), items.get(i + 1));
	}

	private void memoPut(int opPos, long index) throws CheckpointException {
		if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) throw fail(opPos, "pickle memo grows beyond " + MAX_MEMO + " entries");
		memo.put(index, peek(opPos));
	}

	private Object memoGet(int opPos, long index) throws CheckpointException {
		if (!memo.containsKey(index)) throw fail(opPos, "memo entry " + index + " was never stored");
		return memo.get(index);
	}

	private static List<Object> tuple(List<Object> items) {
		return Collections.unmodifiableList(new ArrayList<>(items));
	}

	// ---- reading primitive values, every length checked against what remains

	private int u8() throws CheckpointException {
		if (pos >= end) throw fail(pos, "truncated pickle");
		return buf[pos++] & 0xff;
	}

	private int i32() throws CheckpointException {
		need(4);
		int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
		pos += 4;
		return v;
	}

	private long u32() throws CheckpointException {
		return i32() & 0xffffffffL;
	}

	private long i64() throws CheckpointException {
		need(8);
		long v = 0;
		for (int i = 7; i >= 0; i--) v = (v << 8) | (buf[pos + i] & 0xff);
		pos += 8;
		return v;
	}

	private void need(long n) throws CheckpointException {
		if (n > end - pos) throw fail(pos, "truncated pickle: needs " + n + " more bytes, " + (end - pos) + " remain");
	}

	/** A declared length, checked against the remaining bytes before anything is allocated. */
	private int length(int opPos, long declared) throws CheckpointException {
		if (declared < 0 || declared > end - pos)
			throw fail(opPos, "declared length " + declared + " exceeds the " + (end - pos) + " bytes that remain");
		return (int) declared;
	}

	private byte[] bytes(int n) {
		byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
		pos += n;
		return b;
	}

	private String utf8(int opPos, int n) throws CheckpointException {
		try {
			String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, pos, n)).toString();
			pos += n;
			return s;
		} catch (CharacterCodingException e) {
			throw fail(opPos, "string is not valid UTF-8");
		}
	}

	private String line(int opPos) throws CheckpointException {
		int start = pos;
		while (pos < end && buf[pos] != '\n') {
			if (pos - start >= MAX_GLOBAL_LINE) throw fail(opPos, "GLOBAL name longer than " + MAX_GLOBAL_LINE + " bytes");
			pos++;
		}
		if (pos >= end) throw fail(opPos, "truncated GLOBAL name");
		String s = new String(buf, start, pos - start, StandardCharsets.UTF_8);
		pos++; // newline
		return s;
	}

	/** LONG1: little-endian two's complement of n bytes. */
	private Object decodeLong(int opPos, int n) throws CheckpointException {
		need(n);
		if (n == 0) return 0L;
		byte[] be = new byte[n];
		for (int i = 0; i < n; i++) be[i] = buf[pos + n - 1 - i];
		pos += n;
		BigInteger v = new BigInteger(be);
		return v.bitLength() < 64 ? (Object) v.longValue() : v;
	}

	private long asLong(int opPos, Object o, String what) throws CheckpointException {
		if (!(o instanceof Long)) throw fail(opPos, what + " is not an int: " + describe(o));
		return (Long) o;
	}

	private long[] longs(int opPos, Object o, String what) throws CheckpointException {
		if (!(o instanceof List)) throw fail(opPos, "tensor " + what + " is not a tuple: " + describe(o));
		List<?> l = (List<?>) o;
		long[] out = new long[l.size()];
		for (int i = 0; i < out.length; i++) out[i] = asLong(opPos, l.get(i), "tensor " + what + " entry");
		return out;
	}

	// ---- messages

	private CheckpointException fail(int at, String problem) {
		return new CheckpointException(file, what + " at byte " + at + ": " + problem);
	}

	private static String describe(Object o) {
		if (o == null) return "None";
		if (o instanceof Global || o instanceof Tensor || o instanceof String || o instanceof Long) return "'" + o + "'";
		if (o instanceof Storage) return "storage '" + ((Storage) o).key + "'";
		String s = o.getClass().getSimpleName();
		if (o instanceof List) s = "tuple/list of " + ((List<?>) o).size();
		else if (o instanceof Map) s = "dict of " + ((Map<?, ?>) o).size();
		return s;
	}

	private static String opcodeName(int op) {
		switch (op) {
			case 'i': return "INST";
			case 'o': return "OBJ";
			case 0x81: return "NEWOBJ";
			case 0x92: return "NEWOBJ_EX";
			case 'P': return "PERSID";
			case 0x82: case 0x83: case 0x84: return "EXT";
			case 'I': return "INT";
			case 'L': return "LONG";
			case 0x8b: return "LONG4";
			case 'S': return "STRING";
			case 'V': return "UNICODE";
			case 'F': return "FLOAT";
			case 'p': return "PUT";
			case 'g': return "GET";
			case '0': return "POP";
			case '1': return "POP_MARK";
			case '2': return "DUP";
			case 0x8f: return "EMPTY_SET";
			case 0x90: return "ADDITEMS";
			case 0x91: return "FROZENSET";
			case 0x96: return "BYTEARRAY8";
			case 0x97: return "NEXT_BUFFER";
			case 0x98: return "READONLY_BUFFER";
			default: return String.format("0x%02x", op);
		}
	}
}
