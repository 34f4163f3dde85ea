package org.lungnodules.io;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * PyTorch checkpoints, read and written without PyTorch and without executing any pickle code.
 * <p>
 * API contract (other packages code against these names; the implementation fills them in):
 * <ul>
 * <li>{@code TorchCheckpoint.read(Path)}: legacy (.state) or zip-format file.</li>
 * <li>{@code root()}: the unpickled top-level object as plain Java: Map (LinkedHashMap), List,
 * String, Long, Double, Boolean, null, {@link Tensor}.</li>
 * <li>{@code stateDict()}: the tensors of {@code model_state} / {@code state_dict}, or the root
 * itself if it is a bare state dict; keys in file order.</li>
 * <li>{@code TorchCheckpoint.write(Path, Map root)}: zip format readable by
 * {@code torch.load(path, weights_only=True)}; written atomically.</li>
 * </ul>
 * The pickles are interpreted by {@link Unpickler}, which knows only the globals a weights file
 * needs; anything else is refused with a {@link CheckpointException}.
 */
public final class TorchCheckpoint {

	/** First pickle of a legacy file (torch.serialization MAGIC_NUMBER). */
	static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
	static final long LEGACY_PROTOCOL = 1001;
	/** Whole legacy files and single zip entries are held in a byte[]; larger ones are refused. */
	static final long MAX_IN_MEMORY = Integer.MAX_VALUE - 64;
	/** Deflate cannot expand data by more than about 1032:1, so a larger claimed size is a lie. */
	private static final long MAX_DEFLATE_RATIO = 1100;

	private final Path file;
	private final Object root;

	TorchCheckpoint(Path file, Object root) {
		this.file = file;
		this.root = root;
	}

	public Path file() { return file; }
	public Object root() { return root; }

	public static TorchCheckpoint read(Path file) throws IOException {
		long size;
		byte[] head = new byte[4];
		try (InputStream in = Files.newInputStream(file)) {
			size = Files.size(file);
			if (in.readNBytes(head, 0, 4) < 4) throw new CheckpointException(file, "too short to be a checkpoint (" + size + " bytes)");
		}
		boolean zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
		try {
			return new TorchCheckpoint(file, zip ? readZip(file) : readLegacy(file, size));
		} catch (CheckpointException e) {
			throw e;
		} catch (IOException | RuntimeException e) {
			// ZipFile and friends report damage in their own words; keep them but name the file.
			throw new CheckpointException(file, "unreadable " + (zip ? "zip" : "legacy") + " checkpoint: " + e, e);
		}
	}

	/**
	 * The model's tensors: the map under 'model_state' or 'state_dict', or the root itself when it
	 * holds tensors directly. Keys in file order; entries that are not tensors are skipped.
	 */
	public LinkedHashMap<String, Tensor> stateDict() throws IOException {
		Map<?, ?> source = null;
		if (root instanceof Map) {
			Map<?, ?> map = (Map<?, ?>) root;
			for (String key : new String[] { "model_state", "state_dict" })
				if (map.get(key) instanceof Map) {
					source = (Map<?, ?>) map.get(key);
					break;
				}
			if (source == null && map.values().stream().anyMatch(v -> v instanceof Tensor)) source = map;
		}
		if (source == null)
			throw new CheckpointException(file, "no state dict: the root has neither 'model_state' nor 'state_dict' nor tensors");
		LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
		for (Map.Entry<?, ?> e : source.entrySet())
			if (e.getKey() instanceof String && e.getValue() instanceof Tensor) out.put((String) e.getKey(), (Tensor) e.getValue());
		return out;
	}

	/**
	 * Writes {@code root} as a zip-format checkpoint that {@code torch.load(path, weights_only=True)}
	 * reads back with bit-identical tensors. See {@link Pickler} for how Java values map to Python.
	 */
	public static void write(Path file, Map<String, ?> root) throws IOException {
		Pickler.writeZip(file, root);
	}

	// ---- legacy format: a sequence of pickles followed by the raw storages

	private static Object readLegacy(Path file, long size) throws IOException {
		if (size > MAX_IN_MEMORY) throw new CheckpointException(file, "legacy checkpoint of " + size + " bytes is too large");
		byte[] buf = Files.readAllBytes(file);
		Unpickler.StorageLoader noStorages = (t, k, l, n) -> {
			throw new CheckpointException(file, "unexpected persistent id in a legacy header pickle");
		};

		Unpickler magic = new Unpickler(file, "magic number pickle", buf, 0, buf.length, noStorages);
		Object magicValue;
		try {
			magicValue = magic.load();
		} catch (CheckpointException e) {
			magicValue = e;
		}
		if (!(magicValue instanceof BigInteger && magicValue.equals(LEGACY_MAGIC)))
			throw new CheckpointException(file, "not a PyTorch checkpoint (no zip signature and no legacy magic number)",
				magicValue instanceof Throwable ? (Throwable) magicValue : null);
		Unpickler protocol = new Unpickler(file, "protocol pickle", buf, magic.position(), buf.length, noStorages);
		Object protocolValue = protocol.load();
		if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocolValue))
			throw new CheckpointException(file, "unsupported legacy protocol version " + protocolValue);
		Unpickler sysInfo = new Unpickler(file, "sys_info pickle", buf, protocol.position(), buf.length, noStorages);
		Object info = sysInfo.load();
		if (info instanceof Map && Boolean.FALSE.equals(((Map<?, ?>) info).get("little_endian")))
			throw new CheckpointException(file, "big-endian legacy checkpoints are not supported");

		// The storages follow the pickles, so a first pass only learns the layout (storage keys,
		// types and sizes) and where the main pickle ends.
		int mainStart = sysInfo.position();
		Map<String, Unpickler.Storage> declared = new LinkedHashMap<>();
		Unpickler layout = new Unpickler(file, "main pickle", buf, mainStart, buf.length, (dtype, key, location, numel) -> {
			Unpickler.Storage s = declared.get(key);
			if (s == null) declared.put(key, s = new Unpickler.Storage(dtype, key, numel, null));
			else if (s.dtype != dtype || s.numel != numel)
				throw new CheckpointException(file, "storage '" + key + "' declared twice with different type or size");
			return s;
		});
		layout.load();

		Unpickler keysPickle = new Unpickler(file, "storage key list", buf, layout.position(), buf.length, noStorages);
		Object keys = keysPickle.load();
		if (!(keys instanceof List)) throw new CheckpointException(file, "storage key list is not a list");
		Map<String, Unpickler.Storage> loaded = new HashMap<>();
		int pos = keysPickle.position();
		for (Object k : (List<?>) keys) {
			Unpickler.Storage s = declared.get(k);
			if (s == null) throw new CheckpointException(file, "storage key " + k + " is not used by any tensor");
			if (loaded.containsKey(k)) throw new CheckpointException(file, "storage key " + k + " listed twice");
			if (buf.length - pos < 8) throw new CheckpointException(file, "truncated before storage '" + k + "' (offset " + pos + ")");
			long count = ByteBuffer.wrap(buf, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
			pos += 8;
			if (count != s.numel)
				throw new CheckpointException(file, "storage '" + k + "' has " + count + " elements on disk but " + s.numel + " declared");
			if (count < 0 || count > (buf.length - pos) / s.dtype.bytes)
				throw new CheckpointException(file, "storage '" + k + "' needs " + count + " × " + s.dtype.bytes + " bytes but only " +
					(buf.length - pos) + " remain (truncated file?)");
			int bytes = (int) (count * s.dtype.bytes);
			ByteBuffer data = ByteBuffer.wrap(buf, pos, bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
			loaded.put((String) k, new Unpickler.Storage(s.dtype, s.key, s.numel, data));
			pos += bytes;
		}
		for (String k : declared.keySet())
			if (!loaded.containsKey(k)) throw new CheckpointException(file, "storage '" + k + "' is missing from the storage list");

		Unpickler main = new Unpickler(file, "main pickle", buf, mainStart, buf.length, (dtype, key, location, numel) -> loaded.get(key));
		return main.load();
	}

	// ---- zip format (PyTorch >= 1.6): <prefix>/data.pkl plus one entry per storage

	private static Object readZip(Path file) throws IOException {
		long fileSize = Files.size(file);
		try (ZipFile zip = new ZipFile(file.toFile())) {
			String prefix = null;
			for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements();) {
				String name = en.nextElement().getName();
				int slash = name.indexOf('/');
				if (slash > 0 && name.substring(slash).equals("/data.pkl")) {
					prefix = name.substring(0, slash);
					break;
				}
			}
			if (prefix == null) throw new CheckpointException(file, "zip has no <archive>/data.pkl entry: not a PyTorch checkpoint");
			ZipEntry order = zip.getEntry(prefix + "/byteorder");
			if (order != null) {
				String byteOrder = new String(readEntry(file, zip, order, 16, fileSize), StandardCharsets.US_ASCII).trim();
				if (!byteOrder.equals("little")) throw new CheckpointException(file, "byte order '" + byteOrder + "' is not supported");
			}
			ZipEntry pklEntry = zip.getEntry(prefix + "/data.pkl");
			byte[] pkl = readEntry(file, zip, pklEntry, MAX_IN_MEMORY, fileSize);
			String dataDir = prefix + "/data/";
			Map<String, Unpickler.Storage> cache = new HashMap<>();
			Unpickler unpickler = new Unpickler(file, "data.pkl", pkl, 0, pkl.length, (dtype, key, location, numel) -> {
				Unpickler.Storage s = cache.get(key);
				if (s != null) {
					if (s.dtype != dtype || s.numel != numel)
						throw new CheckpointException(file, "storage '" + key + "' declared twice with different type or size");
					return s;
				}
				ZipEntry entry = zip.getEntry(dataDir + key);
				if (entry == null) throw new CheckpointException(file, "storage entry " + dataDir + key + " is missing");
				long expected;
				try {
					expected = Math.multiplyExact(numel, (long) dtype.bytes);
				} catch (ArithmeticException e) {
					throw new CheckpointException(file, "storage '" + key + "' declares an impossible " + numel + " elements");
				}
				if (entry.getSize() != expected)
					throw new CheckpointException(file, "storage entry " + entry.getName() + " holds " + entry.getSize() + " bytes but " +
						numel + " × " + dtype + " need " + expected);
				byte[] bytes;
				try {
					bytes = readEntry(file, zip, entry, expected, fileSize);
				} catch (CheckpointException e) {
					throw e;
				} catch (IOException e) {
					throw new CheckpointException(file, "cannot read storage entry " + entry.getName() + ": " + e, e);
				}
				s = new Unpickler.Storage(dtype, key, numel, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
				cache.put(key, s);
				return s;
			});
			return unpickler.load();
		}
	}

	/**
	 * Reads one entry whose declared size is checked first: against {@code limit}, against the file
	 * size for stored entries and against the deflate ratio for compressed ones, so that a forged
	 * header or a zip bomb fails before any large allocation. The bytes actually delivered must
	 * match the declared size exactly.
	 */
	private static byte[] readEntry(Path file, ZipFile zip, ZipEntry entry, long limit, long fileSize) throws IOException {
		long size = entry.getSize();
		String name = entry.getName();
		if (size < 0) throw new CheckpointException(file, "zip entry " + name + " has no declared size");
		if (size > limit) throw new CheckpointException(file, "zip entry " + name + " declares " + size + " bytes, more than the " + limit + " allowed");
		long bound = entry.getMethod() == ZipEntry.STORED ? fileSize
			: Math.min(MAX_IN_MEMORY, Math.max(0, entry.getCompressedSize()) * MAX_DEFLATE_RATIO + 1024);
		if (size > bound)
			throw new CheckpointException(file, "zip entry " + name + " declares " + size + " bytes, impossible for a " + fileSize + "-byte file");
		try (InputStream in = zip.getInputStream(entry)) {
			byte[] out = in.readNBytes((int) size);
			if (out.length != size)
				throw new CheckpointException(file, "zip entry " + name + " is truncated: " + out.length + " of " + size + " bytes");
			if (in.read() != -1) throw new CheckpointException(file, "zip entry " + name + " holds more than its declared " + size + " bytes");
			return out;
		}
	}
}
