package org.lungnodules.training;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.lungnodules.Progress;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.io.MetaImage;

/**
 * A disk cache of every crop training needs, so that training never re-reads whole CTs.
 * <p>
 * <b>Layout.</b> One file per CT, {@code <cache>/<series uid>.chunks}, written once by
 * {@link #prepare} and then only read:
 * <pre>
 * "LNCACHE1"                         magic (8 bytes); all numbers big-endian
 * UTF    absolute path of the scan    } the stamp of the source CT: a cache file is only used while
 * long   .mhd size, .mhd mtime (ms)   } the CT's header and data files still have this size and
 * long   data size, data mtime (ms)   } modification time (-1, -1 when the data is inside the .mha
 *                                     or the scan is NIfTI); for a DICOM series folder: file count and
 *                                     folder mtime, then the files' total size and latest mtime
 * int    depth, height, width         of the CT
 * int    contents                     bits: 1 classifier chunks, 2 malignancy chunks, 4 segmentation
 *                                     crops, 8 validation slices
 * int    n, then n ints               slices with nodule-mask voxels (segmentation only, else n = 0)
 * int    entries, then per entry      byte type (1 chunk, 2 seg crop, 3 slice), double x, y, z (the
 *                                     table's world point; a slice has x = its index), long offset
 * data   per entry                    shorts (clamped HU, C order), then for seg crops and slices
 *                                     the mask of one slice, one bit per voxel
 * </pre>
 * HU fit in shorts exactly after the clamp to [-1000, 1000], which halves the space of floats.
 * Files are written to a temp file in the cache folder and moved into place, so a cache file is
 * complete or absent: an interrupted {@code prepare} resumes by skipping the CTs whose file is
 * fresh and holds every entry asked for.
 * <p>
 * <b>Stale entries.</b> Every read compares the stamp with the CT files on disk (two stat calls)
 * and throws {@link StaleCacheException} if either file changed, rather than train on old crops.
 * <p>
 * <b>Memory, for all of LUNA16</b> (~890 CTs, ~551,000 candidates, ~1,200 nodules). Preparing holds
 * one CT at a time: 512×512×~300 shorts = 157 MB, plus the reader's own copy while converting (≤ 2×
 * that for MET_SHORT) and a mask bit set (10 MB): under 0.5 GB. Reading holds the index of every
 * file, ~551,000 entries × ~100 bytes (key, boxed offset, hash node) ≈ 55 MB, the candidate list of
 * {@link LunaData} (~551,000 × ~60 bytes ≈ 33 MB), at most {@value #MAX_OPEN_FILES} open channels,
 * and one read buffer per thread (largest entry: a 512×512 slice, 0.55 MB). Nothing grows with
 * epochs: the sample sources keep only the current epoch's permutation (4 bytes per candidate).
 * So ≤ 4 GB heap is ample; ~0.2 GB is the working set. <b>Disk:</b> a chunk is 32·48·48·2 =
 * 147,456 bytes, so all candidates take ~81 GB (the book's float cache needed twice that);
 * segmentation crops are 7·96·96·2 + 1,152 = 130 KB each (~0.16 GB for all nodules), validation
 * slices 0.55 MB each (~50 per validation CT: ~2.5 GB for 89 CTs). {@code kind=mal} alone
 * (nodule chunks only) needs ~0.2 GB.
 * <p>
 * Thread-safe for reading.
 */
public final class ChunkCache implements Crops, AutoCloseable {

	/** What to prepare. CLS: a chunk for every candidate; MAL: a chunk for every nodule; SEG: seg crops for every nodule and whole slices for the validation series. */
	public enum Kind {
		CLS(1), MAL(2), SEG(4);

		final int bit;

		Kind(int bit) { this.bit = bit; }

		/** Parses cls, seg, mal or all. */
		public static Set<Kind> parse(String text) {
			String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
			return switch (t) {
				case "cls" -> EnumSet.of(CLS);
				case "mal" -> EnumSet.of(MAL);
				case "seg" -> EnumSet.of(SEG);
				case "all" -> EnumSet.allOf(Kind.class);
				default -> throw new IllegalArgumentException("kind must be cls, seg, mal or all, not '" + text + "'");
			};
		}
	}

	/** Thrown when a cache file was made from a CT that has changed since. */
	public static final class StaleCacheException extends IOException {
		private static final long serialVersionUID = 1L;

		public StaleCacheException(Path cacheFile, Path ct, String what) {
			super("The training cache " + cacheFile + " is stale: " + ct + " " + what +
				" since the cache was made. Run prepare-cache again.");
		}
	}

	/** What {@link #prepare} did: CTs written, CTs skipped because complete, bytes written. */
	public record PrepareResult(int written, int skipped, long bytes) {}

	static final int MAX_OPEN_FILES = 64;
	private static final byte[] MAGIC = { 'L', 'N', 'C', 'A', 'C', 'H', 'E', '1' };
	private static final int SLICES_BIT = 8;
	private static final byte CHUNK_ENTRY = 1, SEG_ENTRY = 2, SLICE_ENTRY = 3;
	private static final String SUFFIX = ".chunks";

	private final Path dir;
	private final LunaData data;
	private final Map<String, Index> indexes = new ConcurrentHashMap<>();
	private final Map<String, FileChannel> channels;
	private final ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocate(1 << 16));

	private ChunkCache(Path dir, LunaData data) {
		this.dir = dir;
		this.data = data;
		this.channels = new LinkedHashMap<>(16, 0.75f, true) {
			private static final long serialVersionUID = 1L;

			@Override
			protected boolean removeEldestEntry(Map.Entry<String, FileChannel> eldest) {
				if (size() <= MAX_OPEN_FILES) return false;
				try {
					eldest.getValue().close();
				}
				catch (IOException e) {
					// a read-only channel has nothing to flush
				}
				return true;
			}
		};
	}

	/** Opens a prepared cache folder for reading. */
	public static ChunkCache open(Path dir, LunaData data) throws IOException {
		if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "the cache folder does not exist; run prepare-cache");
		return new ChunkCache(dir, data);
	}

	public Path dir() { return dir; }

	/** The cache file of a series. */
	public Path fileOf(String uid) { return dir.resolve(uid + SUFFIX); }

	// ---------------------------------------------------------------- the source stamp

	/** Size and mtime of a CT's header and data files. */
	record Stamp(String mhd, long mhdSize, long mhdTime, long dataSize, long dataTime) {

		static Stamp of(Path mhd, Path dataFile) throws IOException {
			SeriesStamp s = SeriesStamp.of(mhd, dataFile);
			return new Stamp(mhd.toAbsolutePath().normalize().toString(), s.firstSize(), s.firstTime(), s.secondSize(), s.secondTime());
		}
	}

	/**
	 * The separate voxel file of a .mhd, or null when it is LOCAL (.mha) or a list of files, and for
	 * every other kind of scan (a NIfTI file holds its voxels; a DICOM series folder is stamped by its files).
	 */
	static Path dataFileOf(Path mhd) throws IOException {
		String lower = String.valueOf(mhd.getFileName()).toLowerCase(java.util.Locale.ROOT);
		if (!lower.endsWith(".mhd") || Files.isDirectory(mhd)) return null;
		String name = MetaImage.readHeaderOnly(mhd).header().get("ElementDataFile");
		if (name == null || name.equalsIgnoreCase("LOCAL") || name.contains(" ") || name.equalsIgnoreCase("LIST")) return null;
		Path p = mhd.toAbsolutePath().getParent().resolve(name);
		return Files.isRegularFile(p) ? p : null;
	}

	// ---------------------------------------------------------------- the index

	private record Key(byte type, double x, double y, double z) {}

	/** A cache file's header, read once per series. */
	private record Index(Path file, Stamp stamp, Path mhd, Path dataFile, int[] shape, int contents, int[] positiveSlices,
		Map<Key, Long> offsets) {}

	private static Key key(byte type, CandidateInfo c) {
		return new Key(type, c.x(), c.y(), c.z());
	}

	private static Key sliceKey(int index) {
		return new Key(SLICE_ENTRY, index, 0, 0);
	}

	private static Index readIndex(Path file, Path mhd, Path dataFile) throws IOException {
		try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
			byte[] magic = new byte[MAGIC.length];
			in.readFully(magic);
			if (!Arrays.equals(magic, MAGIC)) throw new IOException(file + " is not a training cache file (bad magic)");
			Stamp stamp = new Stamp(in.readUTF(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
			int[] shape = { in.readInt(), in.readInt(), in.readInt() };
			for (int s : shape)
				if (s < 1) throw new IOException(file + " is corrupt: CT shape " + Arrays.toString(shape));
			int contents = in.readInt();
			int n = in.readInt();
			if (n < 0 || n > shape[0]) throw new IOException(file + " is corrupt: " + n + " positive slices in a CT of " + shape[0]);
			int[] positive = new int[n];
			for (int i = 0; i < n; i++) positive[i] = in.readInt();
			int entries = in.readInt();
			long fileSize = Files.size(file);
			if (entries < 0 || entries > fileSize / 33) throw new IOException(file + " is corrupt: " + entries + " entries");
			Map<Key, Long> offsets = new HashMap<>(entries * 2);
			for (int i = 0; i < entries; i++) {
				Key k = new Key(in.readByte(), in.readDouble(), in.readDouble(), in.readDouble());
				long offset = in.readLong();
				if (offset < 0 || offset + entryBytes(k.type(), shape) > fileSize)
					throw new IOException(file + " is corrupt or truncated: entry " + i + " lies past the end");
				offsets.put(k, offset);
			}
			return new Index(file, stamp, mhd, dataFile, shape, contents, positive, offsets);
		}
		catch (EOFException e) {
			throw new IOException(file + " is truncated", e);
		}
	}

	private static int entryShorts(byte type, int[] shape) {
		return switch (type) {
			case CHUNK_ENTRY -> CHUNK[0] * CHUNK[1] * CHUNK[2];
			case SEG_ENTRY -> SEG_CROP[0] * SEG_CROP[1] * SEG_CROP[2];
			case SLICE_ENTRY -> shape[1] * shape[2];
			default -> throw new IllegalArgumentException("unknown cache entry type " + type);
		};
	}

	private static int maskVoxels(byte type, int[] shape) {
		return switch (type) {
			case SEG_ENTRY -> SEG_CROP[1] * SEG_CROP[2];
			case SLICE_ENTRY -> shape[1] * shape[2];
			default -> 0;
		};
	}

	private static long entryBytes(byte type, int[] shape) {
		return 2L * entryShorts(type, shape) + (maskVoxels(type, shape) + 7) / 8;
	}

	/** The index of a series, read on first use and checked against the CT on every call. */
	private Index index(String uid) throws IOException {
		Index ix = indexes.get(uid);
		if (ix == null) {
			Path file = fileOf(uid);
			if (!Files.isRegularFile(file))
				throw new NoSuchFileException(file.toString(), null, "no training cache for series " + uid + "; run prepare-cache");
			Path mhd = data.ctPath(uid);
			ix = readIndex(file, mhd, dataFileOf(mhd));
			indexes.put(uid, ix);
		}
		Stamp now = Stamp.of(ix.mhd(), ix.dataFile());
		if (now.mhdSize() != ix.stamp().mhdSize() || now.mhdTime() != ix.stamp().mhdTime())
			throw new StaleCacheException(ix.file(), ix.mhd(), "has changed");
		if (now.dataSize() != ix.stamp().dataSize() || now.dataTime() != ix.stamp().dataTime())
			throw new StaleCacheException(ix.file(), ix.dataFile() != null ? ix.dataFile() : ix.mhd(), "has changed");
		return ix;
	}

	private FileChannel channel(Index ix) throws IOException {
		String name = ix.file().toString();
		synchronized (channels) {
			FileChannel ch = channels.get(name);
			if (ch == null || !ch.isOpen()) {
				ch = FileChannel.open(ix.file(), StandardOpenOption.READ);
				channels.put(name, ch);
			}
			return ch;
		}
	}

	/** Reads one entry: shorts into dst as floats, and the mask bits (if any and wanted) as 0/1. */
	private void read(String uid, Key key, String what, float[] dst, int offset, float[] mask, int maskOffset) throws IOException {
		Index ix = index(uid);
		Long at = ix.offsets().get(key);
		if (at == null)
			throw new IOException("The training cache " + ix.file() + " has no " + what + "; run prepare-cache with the kind (and split) used now");
		int shorts = entryShorts(key.type(), ix.shape()), maskVoxels = maskVoxels(key.type(), ix.shape());
		int bytes = (int) entryBytes(key.type(), ix.shape());
		ByteBuffer buf = buffers.get();
		if (buf.capacity() < bytes) {
			buf = ByteBuffer.allocate(bytes);
			buffers.set(buf);
		}
		buf.clear().limit(bytes);
		FileChannel ch = channel(ix);
		long pos = at;
		while (buf.hasRemaining()) {
			int n;
			try {
				n = ch.read(buf, pos);
			}
			catch (java.nio.channels.ClosedChannelException e) {
				// evicted by another thread between channel() and read(): open it again
				ch = channel(ix);
				continue;
			}
			if (n < 0) throw new IOException(ix.file() + " is truncated");
			pos += n;
		}
		buf.flip();
		for (int i = 0; i < shorts; i++)
			dst[offset + i] = buf.getShort();
		if (mask != null)
			for (int i = 0; i < maskVoxels; i++)
				mask[maskOffset + i] = (buf.get(2 * shorts + (i >> 3)) >> (i & 7) & 1) != 0 ? 1f : 0f;
	}

	// ---------------------------------------------------------------- Crops

	@Override
	public void chunk(CandidateInfo c, float[] dst, int offset) throws IOException {
		read(c.seriesUid(), key(CHUNK_ENTRY, c), "chunk for the candidate at (" + c.x() + ", " + c.y() + ", " + c.z() + ")",
			dst, offset, null, 0);
	}

	@Override
	public void segCrop(CandidateInfo n, float[] dst, int offset, float[] mask, int maskOffset) throws IOException {
		read(n.seriesUid(), key(SEG_ENTRY, n), "segmentation crop for the nodule at (" + n.x() + ", " + n.y() + ", " + n.z() + ")",
			dst, offset, mask, maskOffset);
	}

	@Override
	public int[] shape(String uid) throws IOException {
		return index(uid).shape().clone();
	}

	@Override
	public int[] positiveSlices(String uid) throws IOException {
		Index ix = index(uid);
		if ((ix.contents() & Kind.SEG.bit) == 0)
			throw new IOException("The training cache " + ix.file() + " holds no segmentation data; run prepare-cache kind=seg");
		return ix.positiveSlices().clone();
	}

	@Override
	public void slice(String uid, int index, float[] dst, int offset, float[] mask, int maskOffset) throws IOException {
		int z = Math.max(0, Math.min(index(uid).shape()[0] - 1, index));
		read(uid, sliceKey(z), "slice " + z + " (validation slices are cached only for the validation series of the split given to prepare-cache)",
			dst, offset, mask, maskOffset);
	}

	@Override
	public void close() {
		synchronized (channels) {
			for (FileChannel ch : channels.values()) {
				try {
					ch.close();
				}
				catch (IOException e) {
					// read-only
				}
			}
			channels.clear();
		}
		indexes.clear();
	}

	// ---------------------------------------------------------------- preparing

	/** The entries a series needs for {@code kinds}, in write order. */
	private static List<Key> needed(LunaData data, String uid, Set<Kind> kinds) {
		List<Key> keys = new ArrayList<>();
		Set<Key> seen = new java.util.HashSet<>();
		for (CandidateInfo c : data.candidates(uid)) {
			if (kinds.contains(Kind.CLS) || (kinds.contains(Kind.MAL) && c.isNodule())) {
				Key k = key(CHUNK_ENTRY, c);
				if (seen.add(k)) keys.add(k);
			}
			if (kinds.contains(Kind.SEG) && c.isNodule()) {
				Key k = key(SEG_ENTRY, c);
				if (seen.add(k)) keys.add(k);
			}
		}
		return keys;
	}

	private static int contentsBits(Set<Kind> kinds, boolean slices) {
		int bits = 0;
		for (Kind k : kinds) bits |= k.bit;
		return bits | (slices ? SLICES_BIT : 0);
	}

	/** True when the file exists, matches the CT, and holds everything asked for. */
	private static boolean complete(Path file, Path mhd, Path dataFile, List<Key> keys, int contents) {
		if (!Files.isRegularFile(file)) return false;
		try {
			Index ix = readIndex(file, mhd, dataFile);
			if (!ix.stamp().equals(Stamp.of(mhd, dataFile))) return false;
			if ((ix.contents() & contents) != contents) return false;
			return ix.offsets().keySet().containsAll(keys);
		}
		catch (IOException e) {
			return false; // unreadable or corrupt: rebuild it
		}
	}

	/**
	 * Crops every entry {@code kinds} need into {@code dir} (created if missing), one CT in memory at
	 * a time. CTs whose cache file is already complete and fresh are skipped, so a second run, or a
	 * run after an interruption, does only the missing work. An existing file with other kinds keeps
	 * them (the rebuilt file holds the union).
	 *
	 * @throws Progress.Canceled if {@code progress} asks to stop (finished CT files stay, the
	 *         current one is not written)
	 */
	public static PrepareResult prepare(LunaData data, Path dir, Set<Kind> kinds, Progress progress) throws IOException {
		if (kinds.isEmpty()) throw new IllegalArgumentException("Nothing to prepare: no kind given");
		Progress p = progress == null ? Progress.NONE : progress;
		Files.createDirectories(dir);
		List<String> series = data.series();
		int written = 0, skipped = 0;
		long bytes = 0;
		for (int s = 0; s < series.size(); s++) {
			p.checkCanceled();
			String uid = series.get(s);
			p.report("Preparing training cache: CT " + (s + 1) + " of " + series.size(), (double) s / series.size());
			Path mhd = data.ctPath(uid);
			Path dataFile = dataFileOf(mhd);
			Path file = dir.resolve(uid + SUFFIX);
			boolean slices = kinds.contains(Kind.SEG) && data.isValidation(uid);
			List<Key> keys = needed(data, uid, kinds);
			int contents = contentsBits(kinds, slices);
			if (complete(file, mhd, dataFile, keys, contents)) {
				skipped++;
				continue;
			}
			// Keep what an older file of this CT held, so that preparing kind=seg after kind=cls
			// does not throw the classifier chunks away.
			Set<Kind> union = EnumSet.copyOf(kinds);
			if (Files.isRegularFile(file)) {
				try {
					Index old = readIndex(file, mhd, dataFile);
					for (Kind k : Kind.values())
						if ((old.contents() & k.bit) != 0) union.add(k);
					slices |= (old.contents() & SLICES_BIT) != 0 && union.contains(Kind.SEG);
				}
				catch (IOException e) {
					// corrupt: rebuilt from scratch below
				}
			}
			Stamp stamp = Stamp.of(mhd, dataFile);
			LoadedCt ct = LoadedCt.read(mhd, uid, data.nodules(uid), null);
			bytes += write(file, ct, data.candidates(uid), needed(data, uid, union), union, slices, stamp);
			written++;
		}
		p.report("Preparing training cache", 1);
		return new PrepareResult(written, skipped, bytes);
	}

	/** Writes one CT's cache file atomically; returns its size. */
	static long write(Path file, LoadedCt ct, List<CandidateInfo> candidates, List<Key> keys, Set<Kind> kinds, boolean slices,
		Stamp stamp) throws IOException {
		int[] shape = { ct.depth(), ct.height(), ct.width() };
		boolean seg = kinds.contains(Kind.SEG);
		int[] positive = seg ? ct.positiveSlices() : new int[0];
		List<Key> entries = new ArrayList<>(keys);
		if (slices) {
			TreeSet<Integer> wanted = new TreeSet<>();
			for (int z : positive)
				for (int d = -SEG_CROP[0] / 2; d <= SEG_CROP[0] / 2; d++)
					wanted.add(Math.max(0, Math.min(shape[0] - 1, z + d)));
			for (int z : wanted) entries.add(sliceKey(z));
		}
		Map<Key, CandidateInfo> byKey = new HashMap<>();
		for (CandidateInfo c : candidates) {
			byKey.putIfAbsent(key(CHUNK_ENTRY, c), c);
			byKey.putIfAbsent(key(SEG_ENTRY, c), c);
		}
		byte[] header = header(stamp, shape, contentsBits(kinds, slices), positive, entries, 0);
		// Entry offsets follow from the header length, which does not depend on their values.
		long offset = header.length;
		for (Key k : entries) offset += entryBytes(k.type(), shape);
		header = header(stamp, shape, contentsBits(kinds, slices), positive, entries, header.length);
		Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
		try {
			try (OutputStream os = Files.newOutputStream(tmp);
				DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
				out.write(header);
				float[] values = new float[Math.max(entryShorts(CHUNK_ENTRY, shape),
					Math.max(entryShorts(SLICE_ENTRY, shape), entryShorts(SEG_ENTRY, shape)))];
				float[] mask = new float[Math.max(maskVoxels(SLICE_ENTRY, shape), maskVoxels(SEG_ENTRY, shape))];
				for (Key k : entries) {
					int n = entryShorts(k.type(), shape), m = maskVoxels(k.type(), shape);
					switch (k.type()) {
						case CHUNK_ENTRY -> {
							CandidateInfo c = byKey.get(k);
							ct.copy(ct.cropStart(c.x(), c.y(), c.z(), CHUNK), CHUNK, values, 0);
						}
						case SEG_ENTRY -> {
							CandidateInfo c = byKey.get(k);
							int[] start = ct.cropStart(c.x(), c.y(), c.z(), SEG_CROP);
							ct.copy(start, SEG_CROP, values, 0);
							ct.copyMask(start[0] + SEG_CROP[0] / 2, start[1], SEG_CROP[1], start[2], SEG_CROP[2], mask, 0);
						}
						default -> {
							int z = (int) k.x();
							ct.copySlice(z, values, 0);
							ct.copyMask(z, 0, shape[1], 0, shape[2], mask, 0);
						}
					}
					for (int i = 0; i < n; i++)
						out.writeShort((short) values[i]);
					for (int i = 0; i < m; i += 8) {
						int b = 0;
						for (int j = 0; j < 8 && i + j < m; j++)
							if (mask[i + j] != 0) b |= 1 << j;
						out.writeByte(b);
					}
				}
			}
			long size = Files.size(tmp);
			if (size != offset) throw new IOException("Internal error writing " + file + ": " + size + " bytes instead of " + offset);
			try {
				Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
			}
			catch (AtomicMoveNotSupportedException e) {
				Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
			}
			return size;
		}
		finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static byte[] header(Stamp stamp, int[] shape, int contents, int[] positive, List<Key> entries, long dataStart)
		throws IOException {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.write(MAGIC);
			out.writeUTF(stamp.mhd());
			out.writeLong(stamp.mhdSize());
			out.writeLong(stamp.mhdTime());
			out.writeLong(stamp.dataSize());
			out.writeLong(stamp.dataTime());
			for (int s : shape) out.writeInt(s);
			out.writeInt(contents);
			out.writeInt(positive.length);
			for (int z : positive) out.writeInt(z);
			out.writeInt(entries.size());
			long offset = dataStart;
			for (Key k : entries) {
				out.writeByte(k.type());
				out.writeDouble(k.x());
				out.writeDouble(k.y());
				out.writeDouble(k.z());
				out.writeLong(offset);
				offset += entryBytes(k.type(), shape);
			}
		}
		return bytes.toByteArray();
	}
}
