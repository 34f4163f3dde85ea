package org.lungnodules.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Writes a checkpoint in PyTorch's zip format, restricted to what {@code torch.load(weights_only=True)}
 * accepts: a protocol-2 pickle that uses only the opcodes its restricted unpickler implements and
 * only the globals it allows (collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch.*Storage), with the tensor bytes as separate STORED zip entries.
 * <p>
 * Java → Python: Map → dict, or collections.OrderedDict when every value is a {@link Tensor} (a
 * state dict, as torch saves it); List → list; String → str; Long/Integer/Short/Byte/BigInteger →
 * int; Double/Float → float; Boolean → bool; null → None; Tensor → a tensor whose storage is
 * entry {@code archive/data/<n>}.
 */
final class Pickler {

	static final String ARCHIVE = "archive";
	/** PyTorch aligns each record's payload to 64 bytes (so it could be memory-mapped); so do we. */
	static final int ALIGNMENT = 64;
	private static final int MAX_DEPTH = 200;
	private static final int BATCH = 1000; // items per SETITEMS/APPENDS, as Python's pickler does

	private final Path file;
	private final ByteArrayOutputStream out = new ByteArrayOutputStream();
	private final Map<String, Integer> memoizedGlobals = new HashMap<>();
	private final IdentityHashMap<Tensor, Integer> storageKeys = new IdentityHashMap<>();
	private final List<Tensor> storages = new ArrayList<>();

	private Pickler(Path file) {
		this.file = file;
	}

	static void writeZip(Path file, Map<String, ?> root) throws IOException {
		Pickler p = new Pickler(file);
		p.out.write(0x80); // PROTO 2
		p.out.write(2);
		p.value(root, 0, "root");
		p.out.write('.'); // STOP

		List<Record> records = new ArrayList<>();
		records.add(new Record("data.pkl", ByteBuffer.wrap(p.out.toByteArray())));
		records.add(new Record("byteorder", ascii("little")));
		for (int i = 0; i < p.storages.size(); i++) records.add(new Record("data/" + i, p.storages.get(i).data()));
		records.add(new Record("version", ascii("3\n")));
		writeAtomically(file, records);
	}

	// ---- pickling

	private void value(Object v, int depth, String where) throws CheckpointException {
		if (depth > MAX_DEPTH) throw new CheckpointException(file, "cannot write " + where + ": nested deeper than " + MAX_DEPTH + " (a cycle?)");
		if (v == null) out.write('N');
		else if (v instanceof Boolean) out.write((Boolean) v ? 0x88 : 0x89);
		else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte)
			integer(BigInteger.valueOf(((Number) v).longValue()));
		else if (v instanceof BigInteger) integer((BigInteger) v);
		else if (v instanceof Double || v instanceof Float) {
			out.write('G'); // BINFLOAT, big-endian IEEE double
			writeBigEndianLong(Double.doubleToRawLongBits(((Number) v).doubleValue()));
		} else if (v instanceof String) string((String) v);
		else if (v instanceof Tensor) tensor((Tensor) v);
		else if (v instanceof Map) map((Map<?, ?>) v, depth, where);
		else if (v instanceof List) list((List<?>) v, depth, where);
		else throw new CheckpointException(file, "cannot write " + where + ": unsupported type " + v.getClass().getName());
	}

	private void map(Map<?, ?> map, int depth, String where) throws CheckpointException {
		boolean stateDict = !map.isEmpty() && map.values().stream().allMatch(x -> x instanceof Tensor);
		if (stateDict) { // OrderedDict(), then its items, exactly as pickling an OrderedDict does
			global("collections", "OrderedDict");
			out.write(')'); // EMPTY_TUPLE
			out.write('R'); // REDUCE
		} else {
			out.write('}'); // EMPTY_DICT
		}
		List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
		for (int start = 0; start < entries.size(); start += BATCH) {
			out.write('('); // MARK
			for (Map.Entry<?, ?> e : entries.subList(start, Math.min(entries.size(), start + BATCH))) {
				Object key = e.getKey();
				if (key instanceof Map || key instanceof List || key instanceof Tensor)
					throw new CheckpointException(file, "cannot write " + where + ": dict key of type " + key.getClass().getSimpleName());
				value(key, depth + 1, where + " key");
				value(e.getValue(), depth + 1, where + "." + key);
			}
			out.write('u'); // SETITEMS
		}
	}

	private void list(List<?> list, int depth, String where) throws CheckpointException {
		out.write(']'); // EMPTY_LIST
		for (int start = 0; start < list.size(); start += BATCH) {
			out.write('('); // MARK
			int stop = Math.min(list.size(), start + BATCH);
			for (int i = start; i < stop; i++) value(list.get(i), depth + 1, where + "[" + i + "]");
			out.write('e'); // APPENDS
		}
	}

	/** _rebuild_tensor_v2(('storage', torch.XStorage, key, 'cpu', numel), 0, shape, stride, False, OrderedDict()) */
	private void tensor(Tensor t) {
		Integer key = storageKeys.get(t);
		if (key == null) {
			key = storages.size();
			storageKeys.put(t, key);
			storages.add(t);
		}
		long[] shape = t.shape();
		long[] stride = new long[shape.length];
		long s = 1;
		for (int i = shape.length - 1; i >= 0; i--) {
			stride[i] = s;
			s *= shape[i];
		}
		global("torch._utils", "_rebuild_tensor_v2");
		out.write('(');
		out.write('(');
		string("storage");
		global("torch", t.dtype().storageName);
		string(Integer.toString(key));
		string("cpu");
		integer(BigInteger.valueOf(t.numel()));
		out.write('t'); // TUPLE
		out.write('Q'); // BINPERSID
		integer(BigInteger.ZERO); // storage offset
		longTuple(shape);
		longTuple(stride);
		out.write(0x89); // requires_grad False
		global("collections", "OrderedDict"); // backward hooks: OrderedDict()
		out.write(')');
		out.write('R');
		out.write('t'); // TUPLE of the six arguments
		out.write('R'); // REDUCE
	}

	private void longTuple(long[] values) {
		if (values.length == 0) {
			out.write(')');
			return;
		}
		out.write('(');
		for (long v : values) integer(BigInteger.valueOf(v));
		out.write('t');
	}

	/** GLOBAL once, then BINGET/LONG_BINGET from the memo (both understood by torch's restricted unpickler). */
	private void global(String module, String name) {
		String full = module + "\n" + name + "\n";
		Integer index = memoizedGlobals.get(full);
		if (index != null) {
			memoGet(index);
			return;
		}
		out.write('c');
		out.writeBytes(full.getBytes(StandardCharsets.US_ASCII));
		index = memoizedGlobals.size();
		memoizedGlobals.put(full, index);
		if (index < 256) {
			out.write('q'); // BINPUT
			out.write(index);
		} else {
			out.write('r'); // LONG_BINPUT
			writeLittleEndianInt(index);
		}
	}

	private void memoGet(int index) {
		if (index < 256) {
			out.write('h');
			out.write(index);
		} else {
			out.write('j');
			writeLittleEndianInt(index);
		}
	}

	private void integer(BigInteger v) {
		if (v.signum() >= 0 && v.bitLength() <= 8) {
			out.write('K'); // BININT1
			out.write(v.intValue());
		} else if (v.signum() >= 0 && v.bitLength() <= 16) {
			out.write('M'); // BININT2
			out.write(v.intValue() & 0xff);
			out.write(v.intValue() >>> 8);
		} else if (v.bitLength() <= 31) {
			out.write('J'); // BININT, signed
			writeLittleEndianInt(v.intValue());
		} else { // LONG1: minimal little-endian two's complement
			byte[] be = v.toByteArray();
			out.write(0x8a);
			out.write(be.length);
			for (int i = be.length - 1; i >= 0; i--) out.write(be[i]);
		}
	}

	private void string(String s) {
		byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
		out.write('X'); // BINUNICODE
		writeLittleEndianInt(utf8.length);
		out.writeBytes(utf8);
	}

	private void writeLittleEndianInt(int v) {
		for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
	}

	private void writeBigEndianLong(long v) {
		for (int i = 7; i >= 0; i--) out.write((int) (v >>> (8 * i)));
	}

	private static ByteBuffer ascii(String s) {
		return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
	}

	// ---- the zip container, written by hand so that entries are STORED with known sizes and aligned

	private static final class Record {
		final String name;
		final ByteBuffer data;
		long headerOffset;
		int crc;

		Record(String name, ByteBuffer data) {
			this.name = ARCHIVE + "/" + name;
			this.data = data;
		}
	}

	private static void writeAtomically(Path file, List<Record> records) throws IOException {
		Path dir = file.toAbsolutePath().getParent();
		Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
		try {
			try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
				writeZip(file, ch, records);
				ch.force(true);
			}
			Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		} finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static void writeZip(Path file, FileChannel ch, List<Record> records) throws IOException {
		if (records.size() > 0xffff) throw new CheckpointException(file, "too many tensors for a zip without zip64");
		long pos = 0;
		for (Record r : records) {
			byte[] name = r.name.getBytes(StandardCharsets.UTF_8);
			CRC32 crc = new CRC32();
			crc.update(r.data.duplicate());
			r.crc = (int) crc.getValue();
			r.headerOffset = pos;
			long size = r.data.remaining();
			// Extra field "FB" + length, filled with 'Z', so that the payload starts on a 64-byte boundary.
			long payloadStart = pos + 30 + name.length + 4;
			int padding = (int) ((ALIGNMENT - payloadStart % ALIGNMENT) % ALIGNMENT);
			if (pos + 30 + name.length + 4 + padding + size > 0xffffffffL)
				throw new CheckpointException(file, "checkpoint larger than 4 GiB needs zip64, which this writer does not produce");
			ByteBuffer h = le(30 + name.length + 4 + padding);
			h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0) // signature, version, flags, STORED
				.putShort((short) 0).putShort((short) 0x21) // time 00:00, date 1980-01-01 (deterministic output)
				.putInt(r.crc).putInt((int) size).putInt((int) size)
				.putShort((short) name.length).putShort((short) (4 + padding)).put(name)
				.put((byte) 'F').put((byte) 'B').putShort((short) padding);
			for (int i = 0; i < padding; i++) h.put((byte) 'Z');
			pos += writeFully(ch, h.flip());
			pos += writeFully(ch, r.data.duplicate());
		}
		long centralStart = pos;
		for (Record r : records) {
			byte[] name = r.name.getBytes(StandardCharsets.UTF_8);
			long size = r.data.remaining();
			ByteBuffer c = le(46 + name.length);
			c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0)
				.putShort((short) 0).putShort((short) 0x21).putInt(r.crc).putInt((int) size).putInt((int) size)
				.putShort((short) name.length).putShort((short) 0).putShort((short) 0) // extra, comment
				.putShort((short) 0).putShort((short) 0).putInt(0) // disk, internal and external attributes
				.putInt((int) r.headerOffset).put(name);
			pos += writeFully(ch, c.flip());
		}
		if (pos > 0xffffffffL) throw new CheckpointException(file, "zip central directory beyond 4 GiB");
		ByteBuffer end = le(22);
		end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) records.size())
			.putShort((short) records.size()).putInt((int) (pos - centralStart)).putInt((int) centralStart).putShort((short) 0);
		writeFully(ch, end.flip());
	}

	private static ByteBuffer le(int size) {
		return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
	}

	private static long writeFully(FileChannel ch, ByteBuffer b) throws IOException {
		long n = b.remaining();
		while (b.hasRemaining()) ch.write(b);
		return n;
	}
}
