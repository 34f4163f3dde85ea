package org.lungnodules.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.ShortArray;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.view.Views;

/**
 * NIfTI-1 CTs: single-file {@code .nii}, and {@code .nii.gz} (gzip), read and written.
 * <p>
 * <b>World frame.</b> NIfTI's world is RAS (+x right, +y anterior, +z superior); LUNA16's, DICOM's
 * and ITK's is LPS. Reading takes the voxel-to-world affine from the sform when
 * {@code sform_code > 0}, else from the qform (quaternion, with qfac from {@code pixdim[0]}) when
 * {@code qform_code > 0}, else from pixdim alone (the standard's "method 1"), and turns it into LPS
 * by World_LPS = diag(-1, -1, 1) · World_RAS. Voxel axes i, j, k are x (fastest), y, z as in
 * MetaImage; the spacing of an axis is the length of its affine column and its direction the unit
 * column, which gives {@link Geometry}'s origin, spacing and direction.
 * <p>
 * <b>Sheared grids are refused.</b> An sform whose voxel axes are not perpendicular (more than
 * about 0.006° off, see {@link #MAX_AXIS_COSINE}) is a sheared grid, as from a tilted gantry. The
 * analysis works on box-shaped crops with one spacing per axis, so on such a grid sizes in mm (the
 * nodule diameter, the mask radius) would be silently wrong; the DICOM reader refuses gantry tilt
 * for the same reason. A user can resample the scan, or set {@code sform_code} 0 to use the qform,
 * which cannot shear.
 * <p>
 * <b>Values.</b> Data types uint8, int8, int16, uint16, int32, uint32, float32 and float64, either
 * byte order (told by {@code sizeof_hdr}). {@code scl_slope}/{@code scl_inter} are applied (slope 0
 * or non-finite: none). When they keep every value an integer in the 16-bit range, as with HU, the
 * volume is 16-bit signed like LUNA16's; otherwise float (double for float64, int32 and uint32
 * data, which float cannot hold exactly).
 * <p>
 * <b>Exact round trip.</b> NIfTI-1 stores geometry as 32-bit floats, so a MetaImage's offset
 * -171.699997 would come back as -171.69999695. To keep MetaImage → NIfTI → MetaImage identical in
 * world coordinates, {@link #write} also stores the exact doubles (origin, spacing and direction in
 * LPS, and the dimensions) in a header extension: a short ASCII record starting with
 * {@value #RECORD_TAG}, with ecode 6 (NIFTI_ECODE_COMMENT, plain text, so any tool shows what it
 * is). The reader uses that record only when it agrees, to float precision, with the affine it read
 * from the header fields and with the dimensions. A file whose geometry another tool changed (and
 * which kept our extension) is therefore read by its header, as the standard says.
 * <p>
 * Writing: int16 when every voxel is an integer in the 16-bit range, else float32, or float64 when
 * float32 would change a value; qform and sform both set with code 1 (scanner), pixdim, xyzt_units
 * mm, magic "n+1"; little-endian; atomic. The direction must be orthonormal (a qform is a rotation).
 * <p>
 * Hostile files fail with a {@link NiftiException} naming the file and the field: sizes are checked
 * against the file length (for gzip, against the most that deflate can expand it) before anything is
 * allocated, and a gzip stream is read only up to the bytes the header needs.
 */
public final class Nifti {

	static final int HEADER_BYTES = 348;
	/** Header plus the 4-byte extension flag: the first byte an extension or the voxels may use. */
	private static final int AFTER_FLAG = 352;
	private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
	/** Deflate cannot expand data by more than about 1032:1; a header claiming more is bogus or a bomb. */
	private static final long MAX_GZIP_RATIO = 1040;
	/** NIFTI_ECODE_COMMENT: an extension of plain ASCII text. */
	static final int ECODE_COMMENT = 6;
	static final String RECORD_TAG = "lungnodules-geometry 1";
	/** Our record is a few hundred bytes; larger text extensions are someone else's and are skipped unread. */
	private static final int MAX_RECORD_BYTES = 4096;
	/** |cos| of the angle between two voxel axes above which a grid counts as sheared (about 0.006°). */
	static final double MAX_AXIS_COSINE = 1e-4;
	private static final int MAX_DIM = Short.MAX_VALUE;

	private Nifti() {}

	/** The data types we read, with their NIfTI codes. */
	private enum DataType {
		UINT8(2, MetType.Storage.BYTE), INT8(256, MetType.Storage.BYTE), INT16(4, MetType.Storage.SHORT),
		UINT16(512, MetType.Storage.SHORT), INT32(8, MetType.Storage.INT), UINT32(768, MetType.Storage.INT),
		FLOAT32(16, MetType.Storage.FLOAT), FLOAT64(64, MetType.Storage.DOUBLE);

		final int code;
		final MetType.Storage storage;

		DataType(int code, MetType.Storage storage) {
			this.code = code;
			this.storage = storage;
		}

		static DataType of(int code) {
			for (DataType t : values())
				if (t.code == code) return t;
			return null;
		}

		int bytes() { return storage.bytes; }
		int bits() { return 8 * storage.bytes; }
		boolean isInteger() { return this != FLOAT32 && this != FLOAT64; }

		/** Stored element {@code i} as a number. */
		double value(Object a, int i) {
			switch (this) {
				case UINT8: return ((byte[]) a)[i] & 0xff;
				case INT8: return ((byte[]) a)[i];
				case INT16: return ((short[]) a)[i];
				case UINT16: return ((short[]) a)[i] & 0xffff;
				case INT32: return ((int[]) a)[i];
				case UINT32: return ((int[]) a)[i] & 0xffffffffL;
				case FLOAT32: return ((float[]) a)[i];
				default: return ((double[]) a)[i];
			}
		}
	}

	/** Names of the NIfTI-1 data types we refuse, so the message says what the file holds. */
	private static String refusedTypeName(int code) {
		switch (code) {
			case 0: return "DT_UNKNOWN (0)";
			case 1: return "binary (1 bit per voxel)";
			case 32: return "complex64";
			case 128: return "RGB24";
			case 1024: return "int64";
			case 1280: return "uint64";
			case 1536: return "float128";
			case 1792: return "complex128";
			case 2048: return "complex256";
			case 2304: return "RGBA32";
			default: return "code " + code + " (not a NIfTI-1 data type)";
		}
	}

	// ---------------------------------------------------------------- header

	/** The header fields we use, as read and checked. */
	private static final class Header {
		final Path file;
		ByteOrder order;
		final short[] dim = new short[8];
		DataType type;
		final float[] pixdim = new float[8];
		float voxOffset, sclSlope, sclInter;
		short qformCode, sformCode;
		float quatB, quatC, quatD, qoffX, qoffY, qoffZ;
		final float[][] srow = new float[3][4];
		long[] dims;
		long count, dataBytes, dataStart;

		Header(Path file) {
			this.file = file;
		}

		NiftiException fail(String problem) {
			return new NiftiException(file, problem);
		}

		String dimText() {
			return "dim " + Arrays.toString(Arrays.copyOfRange(dim, 0, Math.max(1, Math.min(8, dim[0] + 1))));
		}
	}

	private static Header parseHeader(Path file, byte[] b) throws NiftiException {
		Header h = new Header(file);
		ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
		int size = bb.getInt(0);
		if (size == HEADER_BYTES) h.order = ByteOrder.LITTLE_ENDIAN;
		else if (Integer.reverseBytes(size) == HEADER_BYTES) h.order = ByteOrder.BIG_ENDIAN;
		else if (size == 540 || Integer.reverseBytes(size) == 540)
			throw h.fail("sizeof_hdr is 540: a NIfTI-2 file; only NIfTI-1 (sizeof_hdr 348) is read");
		else throw h.fail("sizeof_hdr is " + size + " (" + Integer.reverseBytes(size) + " byte-swapped), not 348: not a NIfTI-1 file");
		bb.order(h.order);

		String magic = new String(b, 344, 4, StandardCharsets.ISO_8859_1);
		if (magic.equals("ni1\0"))
			throw h.fail("magic is \"ni1\": the header of a .hdr/.img pair; only single-file NIfTI-1 (magic \"n+1\") is read");
		if (!magic.equals("n+1\0"))
			throw h.fail("magic is \"" + printable(magic) + "\", not \"n+1\": not a single-file NIfTI-1 (ANALYZE 7.5 files are not read)");

		for (int i = 0; i < 8; i++)
			h.dim[i] = bb.getShort(40 + 2 * i);
		for (int i = 0; i < 8; i++)
			h.pixdim[i] = bb.getFloat(76 + 4 * i);
		short datatype = bb.getShort(70);
		h.voxOffset = bb.getFloat(108);
		h.sclSlope = bb.getFloat(112);
		h.sclInter = bb.getFloat(116);
		h.qformCode = bb.getShort(252);
		h.sformCode = bb.getShort(254);
		h.quatB = bb.getFloat(256);
		h.quatC = bb.getFloat(260);
		h.quatD = bb.getFloat(264);
		h.qoffX = bb.getFloat(268);
		h.qoffY = bb.getFloat(272);
		h.qoffZ = bb.getFloat(276);
		for (int r = 0; r < 3; r++)
			for (int c = 0; c < 4; c++)
				h.srow[r][c] = bb.getFloat(280 + 16 * r + 4 * c);

		int n = h.dim[0];
		if (n < 1 || n > 7) throw h.fail("dim[0] is " + n + ", but it must be 1 to 7 (the number of dimensions)");
		if (n < 3) throw h.fail("dim[0] is " + n + ": a " + n + "D image, but a CT must be 3D");
		for (int i = 1; i <= n; i++)
			if (h.dim[i] < 1) throw h.fail("dim[" + i + "] is " + h.dim[i] + ": every size must be at least 1 (" + h.dimText() + ")");
		if (n > 4) throw h.fail("dim[0] is " + n + ": a " + n + "D image; a CT must be 3D, or 4D with one volume (" + h.dimText() + ")");
		if (n == 4 && h.dim[4] != 1)
			throw h.fail("dim[4] is " + h.dim[4] + ": a series of " + h.dim[4] + " volumes; a CT must be one volume (" + h.dimText() + ")");

		h.type = DataType.of(datatype);
		if (h.type == null) throw h.fail("datatype is " + refusedTypeName(datatype) +
			"; a CT must be uint8, int8, int16, uint16, int32, uint32, float32 or float64");

		if (!Float.isFinite(h.voxOffset) || h.voxOffset != Math.rint(h.voxOffset))
			throw h.fail("vox_offset is " + h.voxOffset + ", not a whole byte offset");
		if (h.voxOffset < HEADER_BYTES)
			throw h.fail("vox_offset is " + (long) h.voxOffset + ", inside the 348-byte header (a single-file NIfTI needs at least 352)");

		h.dims = new long[] { h.dim[1], h.dim[2], h.dim[3] };
		h.count = h.dims[0] * h.dims[1] * h.dims[2];
		h.dataBytes = h.count * h.type.bytes();
		h.dataStart = (long) h.voxOffset;
		return h;
	}

	private static String printable(String s) {
		StringBuilder sb = new StringBuilder();
		for (char ch : s.toCharArray())
			sb.append(ch >= 32 && ch < 127 ? String.valueOf(ch) : String.format("\\x%02x", (int) ch));
		return sb.toString();
	}

	// ---------------------------------------------------------------- reading

	/** Reads a .nii or .nii.gz CT (gzip is told by the file's first bytes); series UID = the file name without its ending. */
	public static CtVolume read(Path file) throws IOException {
		long fileSize;
		try {
			fileSize = Files.size(file);
		}
		catch (NoSuchFileException e) {
			throw new NiftiException(file, "no such file");
		}
		boolean gzip = isGzip(file);
		try (InputStream raw = Files.newInputStream(file);
			InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : new BufferedInputStream(raw, 1 << 16))
		{
			byte[] head = in.readNBytes(HEADER_BYTES);
			if (head.length < HEADER_BYTES)
				throw new NiftiException(file, "truncated header: " + head.length + " of its 348 bytes" + (gzip ? " (after gunzip)" : ""));
			Header h = parseHeader(file, head);
			checkSizes(h, fileSize, gzip);

			Record record = readExtensions(h, in);
			Geometry geometry = geometry(h, record);

			// Every size check is done; only now is memory allocated.
			long maxHeap = Runtime.getRuntime().maxMemory();
			if (h.dataBytes > maxHeap)
				throw h.fail(h.dimText() + " of " + h.type.name().toLowerCase(Locale.ROOT) + " needs " + mb(h.dataBytes) +
					" MB, more than the whole Java heap (" + mb(maxHeap) + " MB, raise -Xmx)");
			Object array;
			try {
				array = h.type.storage.newArray((int) h.count);
			}
			catch (OutOfMemoryError e) {
				throw h.fail("not enough free heap for " + mb(h.dataBytes) + " MB of voxels (raise -Xmx)");
			}
			readData(h, in, array, gzip);
			return new CtVolume(values(h, array), geometry, CtReader.nameOf(file));
		}
		catch (ZipException e) {
			throw new NiftiException(file, "corrupt gzip data: " + e.getMessage(), e);
		}
		catch (EOFException e) {
			throw new NiftiException(file, "gzip stream truncated: " + e.getMessage(), e);
		}
	}

	private static boolean isGzip(Path file) throws IOException {
		try (InputStream in = Files.newInputStream(file)) {
			byte[] b = in.readNBytes(2);
			return b.length == 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b;
		}
	}

	/** Refuses headers whose voxels cannot be in this file, before anything is allocated or inflated. */
	private static void checkSizes(Header h, long fileSize, boolean gzip) throws NiftiException {
		if (h.count > MAX_ARRAY)
			throw h.fail(h.dimText() + " gives " + h.count + " voxels, more than one Java array holds (2^31); no CT is that large");
		long needed = h.dataStart + h.dataBytes;
		if (!gzip) {
			if (h.dataStart > fileSize)
				throw h.fail("vox_offset " + h.dataStart + " lies past the end of the file (" + fileSize + " bytes)");
			if (needed > fileSize)
				throw h.fail("truncated: " + h.dimText() + " of " + h.type.name().toLowerCase(Locale.ROOT) + " needs " + h.dataBytes +
					" bytes from vox_offset " + h.dataStart + ", but the file holds " + (fileSize - h.dataStart));
		}
		else {
			long most = fileSize * MAX_GZIP_RATIO + 4096;
			if (h.dataStart > most)
				throw h.fail("vox_offset " + h.dataStart + " lies past the end of the data: a gzip file of " + fileSize +
					" bytes cannot inflate to more than about " + most);
			if (needed > most)
				throw h.fail(h.dimText() + " of " + h.type.name().toLowerCase(Locale.ROOT) + " claims " + needed +
					" bytes, but a gzip file of " + fileSize + " bytes cannot inflate to more than about " + most +
					" (truncated file, or a bogus header)");
		}
	}

	/** Our exact geometry, as stored in the extension. */
	private static final class Record {
		final long[] dims;
		final Geometry geometry;

		Record(long[] dims, Geometry geometry) {
			this.dims = dims;
			this.geometry = geometry;
		}
	}

	/**
	 * Reads from byte 348 to vox_offset: the extension flag and any extensions, keeping our record
	 * if there is one. A malformed extension list is not an error (the voxels are still fine): the
	 * rest of it is skipped unread.
	 */
	private static Record readExtensions(Header h, InputStream in) throws IOException {
		long pos = HEADER_BYTES;
		Record record = null;
		if (h.dataStart >= AFTER_FLAG) {
			byte[] flag = readExactly(h, in, 4, pos, "the extension flag");
			pos += 4;
			if (flag[0] != 0) {
				while (pos + 8 <= h.dataStart) {
					ByteBuffer e = ByteBuffer.wrap(readExactly(h, in, 8, pos, "an extension header")).order(h.order);
					pos += 8;
					int esize = e.getInt(0), ecode = e.getInt(4);
					if (esize < 8 || pos - 8 + esize > h.dataStart) break;
					int body = esize - 8;
					if (ecode == ECODE_COMMENT && body <= MAX_RECORD_BYTES) {
						byte[] text = readExactly(h, in, body, pos, "an extension");
						if (record == null) record = parseRecord(text);
					}
					else skipExactly(h, in, body, pos, "an extension");
					pos += body;
				}
			}
		}
		skipExactly(h, in, h.dataStart - pos, pos, "the bytes before vox_offset");
		return record;
	}

	private static Record parseRecord(byte[] text) {
		String s = new String(text, StandardCharsets.US_ASCII);
		int nul = s.indexOf('\0');
		if (nul >= 0) s = s.substring(0, nul);
		String[] lines = s.split("\n");
		if (lines.length < 5 || !lines[0].equals(RECORD_TAG)) return null;
		try {
			double[] dims = numbers(lines[1], "dim", 3);
			double[] origin = numbers(lines[2], "origin_lps", 3);
			double[] spacing = numbers(lines[3], "spacing", 3);
			double[] direction = numbers(lines[4], "direction_lps", 9);
			if (origin == null || spacing == null || direction == null || dims == null) return null;
			return new Record(new long[] { (long) dims[0], (long) dims[1], (long) dims[2] }, new Geometry(origin, spacing, direction));
		}
		catch (IllegalArgumentException e) {
			// Not a record we can use (edited, or damaged): the header fields alone are used.
			return null;
		}
	}

	private static double[] numbers(String line, String key, int n) {
		String[] f = line.trim().split(" +");
		if (f.length != n + 1 || !f[0].equals(key)) return null;
		double[] v = new double[n];
		for (int i = 0; i < n; i++)
			v[i] = Double.parseDouble(f[i + 1]);
		return v;
	}

	private static byte[] readExactly(Header h, InputStream in, int n, long pos, String what) throws IOException {
		byte[] b = in.readNBytes(n);
		if (b.length < n) throw h.fail("truncated at byte offset " + (pos + b.length) + ", inside " + what + " (vox_offset " + h.dataStart + ")");
		return b;
	}

	private static void skipExactly(Header h, InputStream in, long n, long pos, String what) throws IOException {
		byte[] scratch = new byte[(int) Math.min(n, 1 << 16)];
		long done = 0;
		while (done < n) {
			int k = in.read(scratch, 0, (int) Math.min(scratch.length, n - done));
			if (k < 0) throw h.fail("truncated at byte offset " + (pos + done) + ", inside " + what + " (vox_offset " + h.dataStart + ")");
			done += k;
		}
	}

	/** Reads exactly the voxel bytes (never more: a gzip stream is inflated only this far) into the array. */
	private static void readData(Header h, InputStream in, Object array, boolean gzip) throws IOException {
		VoxelStreams.Sink sink = new VoxelStreams.Sink(h.type.storage, new Object[] { array });
		ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(h.order);
		long left = h.dataBytes;
		while (left > 0) {
			int k = in.read(buf.array(), buf.position(), (int) Math.min(buf.remaining(), left));
			if (k < 0) throw h.fail("truncated: the voxel data end after " + (h.dataBytes - left) + " of the " + h.dataBytes + " bytes " +
				h.dimText() + " of " + h.type.name().toLowerCase(Locale.ROOT) + " needs (from vox_offset " + h.dataStart +
				(gzip ? ", after gunzip)" : ")"));
			buf.position(buf.position() + k);
			left -= k;
			buf.flip();
			sink.put(buf);
			buf.compact();
		}
	}

	/** The stored values with scl_slope/scl_inter applied, in the narrowest type that holds them exactly. */
	private static RandomAccessibleInterval<? extends RealType<?>> values(Header h, Object raw) {
		double slope = h.sclSlope, inter = h.sclInter;
		// The standard: slope 0 means no scaling; nifti1_io also ignores non-finite values.
		boolean scaled = slope != 0 && Double.isFinite(slope) && Double.isFinite(inter) && !(slope == 1 && inter == 0);
		if (!scaled) {
			slope = 1;
			inter = 0;
		}
		DataType t = h.type;
		int n = (int) h.count;
		long[] dims = h.dims;
		if (t == DataType.INT16 && !scaled) return ArrayImgs.shorts((short[]) raw, dims);
		if (t.isInteger() && slope == Math.rint(slope) && inter == Math.rint(inter)) {
			boolean fits = true;
			for (int i = 0; i < n && fits; i++) {
				double v = t.value(raw, i) * slope + inter;
				fits = v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
			}
			if (fits) {
				short[] out = t == DataType.INT16 ? (short[]) raw : new short[n];
				for (int i = 0; i < n; i++)
					out[i] = (short) (t.value(raw, i) * slope + inter);
				return ArrayImgs.shorts(out, dims);
			}
		}
		if (!scaled && t == DataType.FLOAT32) return ArrayImgs.floats((float[]) raw, dims);
		if (!scaled && t == DataType.FLOAT64) return ArrayImgs.doubles((double[]) raw, dims);
		if (t == DataType.FLOAT64 || t == DataType.INT32 || t == DataType.UINT32) {
			double[] out = t == DataType.FLOAT64 ? (double[]) raw : new double[n];
			for (int i = 0; i < n; i++)
				out[i] = t.value(raw, i) * slope + inter;
			return ArrayImgs.doubles(out, dims);
		}
		float[] out = t == DataType.FLOAT32 ? (float[]) raw : new float[n];
		for (int i = 0; i < n; i++)
			out[i] = (float) (t.value(raw, i) * slope + inter);
		return ArrayImgs.floats(out, dims);
	}

	// ---------------------------------------------------------------- geometry

	/** The CT's geometry: our exact record when it agrees with the header's affine, else the header's affine. */
	private static Geometry geometry(Header h, Record record) throws NiftiException {
		double[][] ras = affineRas(h);
		Geometry fromHeader;
		try {
			fromHeader = lps(ras);
		}
		catch (IllegalArgumentException e) {
			// affineRas checks every field it uses; this only keeps any rule Geometry adds later reported against the file.
			throw h.fail("the header's transform gives no usable geometry: " + e.getMessage());
		}
		if (record != null && agrees(record, h.dims, fromHeader)) return record.geometry;
		return fromHeader;
	}

	/** Voxel (i, j, k) to RAS world, 3 rows of 4, from the sform, the qform or pixdim, as the standard orders them. */
	private static double[][] affineRas(Header h) throws NiftiException {
		double[][] a = new double[3][4];
		if (h.sformCode > 0) {
			String[] rows = { "srow_x", "srow_y", "srow_z" };
			for (int r = 0; r < 3; r++)
				for (int c = 0; c < 4; c++) {
					if (!Float.isFinite(h.srow[r][c]))
						throw h.fail(rows[r] + "[" + c + "] is " + h.srow[r][c] + " (sform_code " + h.sformCode + "): the sform must be finite");
					a[r][c] = h.srow[r][c];
				}
			String[] axes = { "i (x)", "j (y)", "k (z)" };
			double[] norm = new double[3];
			for (int c = 0; c < 3; c++) {
				norm[c] = Math.sqrt(a[0][c] * a[0][c] + a[1][c] * a[1][c] + a[2][c] * a[2][c]);
				if (!(norm[c] > 0))
					throw h.fail("the sform (srow_x/y/z, sform_code " + h.sformCode + ") has a zero column for voxel axis " + axes[c] +
						": no spacing along it");
			}
			for (int c = 0; c < 3; c++)
				for (int d = c + 1; d < 3; d++) {
					double cos = (a[0][c] * a[0][d] + a[1][c] * a[1][d] + a[2][c] * a[2][d]) / (norm[c] * norm[d]);
					if (Math.abs(cos) > MAX_AXIS_COSINE)
						throw h.fail(String.format(Locale.ROOT, "the sform (srow_x/y/z, sform_code %d) is sheared: voxel axes %s and %s are " +
							"%.4f degrees apart, not 90 (a tilted gantry?). The analysis needs perpendicular voxel axes: resample the " +
							"scan, or set sform_code to 0 to use the qform", h.sformCode, axes[c], axes[d], Math.toDegrees(Math.acos(cos))));
				}
			return a;
		}
		double dx = spacing(h, 1), dy = spacing(h, 2), dz = spacing(h, 3);
		if (h.qformCode > 0) {
			float[] q = { h.quatB, h.quatC, h.quatD, h.qoffX, h.qoffY, h.qoffZ };
			String[] names = { "quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z" };
			for (int i = 0; i < 6; i++)
				if (!Float.isFinite(q[i])) throw h.fail(names[i] + " is " + q[i] + " (qform_code " + h.qformCode + "): the qform must be finite");
			double b = h.quatB, c = h.quatC, d = h.quatD;
			double aa = 1 - (b * b + c * c + d * d);
			double qa;
			if (aa < 1e-7) {
				// b, c, d already make a unit vector (up to float rounding): a 180° rotation, a = 0.
				double s = Math.sqrt(b * b + c * c + d * d);
				b /= s;
				c /= s;
				d /= s;
				qa = 0;
			}
			else qa = Math.sqrt(aa);
			double[][] r = {
				{ qa * qa + b * b - c * c - d * d, 2 * (b * c - qa * d), 2 * (b * d + qa * c) },
				{ 2 * (b * c + qa * d), qa * qa + c * c - b * b - d * d, 2 * (c * d - qa * b) },
				{ 2 * (b * d - qa * c), 2 * (c * d + qa * b), qa * qa + d * d - b * b - c * c } };
			double qfac = h.pixdim[0] < 0 ? -1 : 1;
			double[] step = { dx, dy, dz * qfac };
			for (int row = 0; row < 3; row++)
				for (int col = 0; col < 3; col++)
					a[row][col] = r[row][col] * step[col];
			a[0][3] = h.qoffX;
			a[1][3] = h.qoffY;
			a[2][3] = h.qoffZ;
			return a;
		}
		// Method 1 (no codes): voxel spacing only, no position in the patient.
		a[0][0] = dx;
		a[1][1] = dy;
		a[2][2] = dz;
		return a;
	}

	private static double spacing(Header h, int axis) throws NiftiException {
		float s = h.pixdim[axis];
		if (!(s > 0) || !Float.isFinite(s))
			throw h.fail("pixdim[" + axis + "] is " + s + ": the voxel spacing must be a positive number (mm)");
		return s;
	}

	/** A RAS affine (checked: finite, no zero column) as an LPS geometry. */
	private static Geometry lps(double[][] ras) {
		double[] origin = new double[3], spacing = new double[3], direction = new double[9];
		for (int c = 0; c < 3; c++)
			spacing[c] = Math.sqrt(ras[0][c] * ras[0][c] + ras[1][c] * ras[1][c] + ras[2][c] * ras[2][c]);
		for (int r = 0; r < 3; r++) {
			double flip = r < 2 ? -1 : 1;
			// + 0.0 turns -0.0 into 0.0, so flipped zeros compare equal to written ones.
			origin[r] = flip * ras[r][3] + 0.0;
			for (int c = 0; c < 3; c++)
				direction[3 * r + c] = flip * ras[r][c] / spacing[c] + 0.0;
		}
		return new Geometry(origin, spacing, direction);
	}

	/**
	 * True when our record describes the same grid as the header, to float precision: the same
	 * dimensions, each voxel axis (direction times spacing) within 1e-5 of its length, the origin
	 * within 1e-4 mm plus 1e-6 of its size. Float rounding and the quaternion of the qform stay far
	 * inside these; any real edit (a shift, a flip, a resampling) does not.
	 */
	private static boolean agrees(Record record, long[] dims, Geometry header) {
		if (!Arrays.equals(record.dims, dims)) return false;
		double[] rs = record.geometry.spacing(), rd = record.geometry.direction(), ro = record.geometry.origin();
		double[] hs = header.spacing(), hd = header.direction(), ho = header.origin();
		for (int c = 0; c < 3; c++)
			for (int r = 0; r < 3; r++)
				if (!(Math.abs(rd[3 * r + c] * rs[c] - hd[3 * r + c] * hs[c]) <= 1e-5 * rs[c])) return false;
		for (int r = 0; r < 3; r++)
			if (!(Math.abs(ro[r] - ho[r]) <= 1e-4 + 1e-6 * Math.abs(ro[r]))) return false;
		return true;
	}

	// ---------------------------------------------------------------- writing

	/**
	 * Writes the CT as NIfTI-1, gzip-compressed when the name ends in .nii.gz (else it must end in
	 * .nii). Atomic: a temporary file in the same folder, then moved into place.
	 */
	public static void write(Path file, CtVolume volume) throws IOException {
		String lower = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
		boolean gzip = lower.endsWith(".nii.gz");
		if (!gzip && !lower.endsWith(".nii")) throw new NiftiException(file, "a NIfTI file name must end in .nii or .nii.gz");
		RandomAccessibleInterval<? extends RealType<?>> img = volume.image();
		long[] dims = img.dimensionsAsLongArray();
		for (int d = 0; d < 3; d++)
			if (dims[d] > MAX_DIM)
				throw new NiftiException(file, "the CT has " + dims[d] + " voxels along axis " + d + "; NIfTI-1 sizes are 16-bit (at most " +
					MAX_DIM + ")");
		Geometry g = volume.geometry();
		checkOrthonormal(file, g.direction());
		DataType type = outputType(img);
		byte[] header = headerBytes(dims, type, g);
		AtomicFiles.write(file, target -> {
			GZIPOutputStream zip = gzip ? new GZIPOutputStream(target, 1 << 16) : null;
			OutputStream out = gzip ? zip : new BufferedOutputStream(target, 1 << 16);
			out.write(header);
			writeVoxels(out, img, type);
			if (zip != null) zip.finish();
			out.flush();
		});
	}

	/** A qform is a rotation (with an optional flip), so the direction must be one, up to the rounding of DICOM's 6-digit cosines. */
	private static void checkOrthonormal(Path file, double[] d) throws NiftiException {
		for (int c = 0; c < 3; c++)
			for (int e = c; e < 3; e++) {
				double dot = d[c] * d[e] + d[3 + c] * d[3 + e] + d[6 + c] * d[6 + e];
				double want = c == e ? 1 : 0;
				if (!(Math.abs(dot - want) <= MAX_AXIS_COSINE))
					throw new NiftiException(file, "the CT's direction " + Arrays.toString(d) + " is not orthonormal (axes " + c + " and " + e +
						"); NIfTI's qform holds only rotations");
			}
	}

	/** int16 when every value is an integer in its range, else float32, else (a value float32 would change) float64. */
	private static DataType outputType(RandomAccessibleInterval<? extends RealType<?>> img) {
		if (img.getType() instanceof ShortType) return DataType.INT16;
		boolean shorts = true, floats = true;
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		while (c.hasNext() && (shorts || floats)) {
			double v = c.next().getRealDouble();
			if (shorts && !(v == Math.rint(v) && v >= Short.MIN_VALUE && v <= Short.MAX_VALUE)) shorts = false;
			if (floats && (float) v != v && !Double.isNaN(v)) floats = false;
		}
		return shorts ? DataType.INT16 : floats ? DataType.FLOAT32 : DataType.FLOAT64;
	}

	private static byte[] headerBytes(long[] dims, DataType type, Geometry g) {
		byte[] record = recordBytes(dims, g);
		int voxOffset = AFTER_FLAG + 8 + record.length;
		ByteBuffer b = ByteBuffer.allocate(voxOffset).order(ByteOrder.LITTLE_ENDIAN);
		b.putInt(0, HEADER_BYTES);
		b.put(38, (byte) 'r'); // "regular", as ANALYZE readers expect
		short[] dim = { 3, (short) dims[0], (short) dims[1], (short) dims[2], 1, 1, 1, 1 };
		for (int i = 0; i < 8; i++)
			b.putShort(40 + 2 * i, dim[i]);
		b.putShort(70, (short) type.code);
		b.putShort(72, (short) type.bits());

		// RAS = diag(-1, -1, 1) · LPS, for the direction's rows and the origin alike.
		double[] s = g.spacing(), o = g.origin(), d = g.direction();
		double[][] dirRas = new double[3][3];
		double[] originRas = new double[3];
		for (int r = 0; r < 3; r++) {
			double flip = r < 2 ? -1 : 1;
			originRas[r] = flip * o[r];
			for (int c = 0; c < 3; c++)
				dirRas[r][c] = flip * d[3 * r + c];
		}
		double[] q = quaternion(dirRas);
		b.putFloat(76, (float) q[3]); // pixdim[0] = qfac
		for (int i = 0; i < 3; i++)
			b.putFloat(80 + 4 * i, (float) s[i]);
		b.putFloat(108, voxOffset);
		b.putFloat(112, 1f); // scl_slope: values are stored as they are
		b.putFloat(116, 0f);
		b.put(123, (byte) 2); // xyzt_units: NIFTI_UNITS_MM
		byte[] descrip = "Lung Nodules for Fiji".getBytes(StandardCharsets.US_ASCII);
		b.put(148, descrip);
		b.putShort(252, (short) 1); // qform_code: NIFTI_XFORM_SCANNER_ANAT
		b.putShort(254, (short) 1); // sform_code: the same
		for (int i = 0; i < 3; i++) {
			b.putFloat(256 + 4 * i, (float) q[i]);
			b.putFloat(268 + 4 * i, (float) originRas[i]);
		}
		for (int r = 0; r < 3; r++) {
			for (int c = 0; c < 3; c++)
				b.putFloat(280 + 16 * r + 4 * c, (float) (dirRas[r][c] * s[c]));
			b.putFloat(280 + 16 * r + 12, (float) originRas[r]);
		}
		b.put(344, "n+1\0".getBytes(StandardCharsets.US_ASCII));
		b.put(348, (byte) 1); // an extension follows
		b.putInt(AFTER_FLAG, 8 + record.length);
		b.putInt(AFTER_FLAG + 4, ECODE_COMMENT);
		b.put(AFTER_FLAG + 8, record);
		return b.array();
	}

	/** Our record of the exact geometry, NUL-padded so that the extension (8 + this) is a multiple of 16 bytes. */
	private static byte[] recordBytes(long[] dims, Geometry g) {
		StringBuilder sb = new StringBuilder(RECORD_TAG).append('\n');
		sb.append("dim ").append(dims[0]).append(' ').append(dims[1]).append(' ').append(dims[2]).append('\n');
		line(sb, "origin_lps", g.origin());
		line(sb, "spacing", g.spacing());
		line(sb, "direction_lps", g.direction());
		byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
		int length = ((text.length + 1 + 8 + 15) / 16) * 16 - 8;
		return Arrays.copyOf(text, length);
	}

	private static void line(StringBuilder sb, String key, double[] values) {
		sb.append(key);
		// Double.toString gives the shortest text that parses back to the same double.
		for (double v : values)
			sb.append(' ').append(Double.toString(v));
		sb.append('\n');
	}

	/**
	 * The qform quaternion (b, c, d) and qfac of a RAS direction: qfac -1 when the axes are
	 * left-handed (the k axis is then negated to make a rotation).
	 */
	static double[] quaternion(double[][] dir) {
		double[][] r = new double[3][];
		for (int i = 0; i < 3; i++)
			r[i] = dir[i].clone();
		double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
			r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
		double qfac = det < 0 ? -1 : 1;
		if (qfac < 0)
			for (int i = 0; i < 3; i++)
				r[i][2] = -r[i][2];
		double a, b, c, d;
		double trace = r[0][0] + r[1][1] + r[2][2] + 1;
		if (trace > 0.5) {
			a = 0.5 * Math.sqrt(trace);
			b = 0.25 * (r[2][1] - r[1][2]) / a;
			c = 0.25 * (r[0][2] - r[2][0]) / a;
			d = 0.25 * (r[1][0] - r[0][1]) / a;
		}
		else {
			// Near a half turn: take the largest of b, c, d from the diagonal, for precision.
			double xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
			double yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
			double zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
			if (xd > 1) {
				b = 0.5 * Math.sqrt(xd);
				c = 0.25 * (r[0][1] + r[1][0]) / b;
				d = 0.25 * (r[0][2] + r[2][0]) / b;
				a = 0.25 * (r[2][1] - r[1][2]) / b;
			}
			else if (yd > 1) {
				c = 0.5 * Math.sqrt(yd);
				b = 0.25 * (r[0][1] + r[1][0]) / c;
				d = 0.25 * (r[1][2] + r[2][1]) / c;
				a = 0.25 * (r[0][2] - r[2][0]) / c;
			}
			else {
				d = 0.5 * Math.sqrt(zd);
				b = 0.25 * (r[0][2] + r[2][0]) / d;
				c = 0.25 * (r[1][2] + r[2][1]) / d;
				a = 0.25 * (r[1][0] - r[0][1]) / d;
			}
		}
		double norm = Math.sqrt(a * a + b * b + c * c + d * d);
		if (a < 0) norm = -norm; // the standard keeps a >= 0
		return new double[] { b / norm + 0.0, c / norm + 0.0, d / norm + 0.0, qfac };
	}

	private static void writeVoxels(OutputStream out, RandomAccessibleInterval<? extends RealType<?>> img, DataType type)
		throws IOException
	{
		VoxelStreams.Writer w = new VoxelStreams.Writer(out, ByteOrder.LITTLE_ENDIAN);
		short[] shorts = backingShorts(img);
		if (type == DataType.INT16 && shorts != null) {
			w.putArray(MetType.Storage.SHORT, shorts, shorts.length);
		}
		else {
			Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
			while (c.hasNext()) {
				RealType<?> v = c.next();
				ByteBuffer b = w.room(type.bytes());
				if (type == DataType.INT16) b.putShort((short) v.getRealDouble());
				else if (type == DataType.FLOAT32) b.putFloat(v.getRealFloat());
				else b.putDouble(v.getRealDouble());
			}
		}
		w.flush();
	}

	/** The short[] behind a 16-bit ArrayImg (x fastest, as NIfTI stores voxels), or null. */
	private static short[] backingShorts(RandomAccessibleInterval<? extends RealType<?>> img) {
		if (!(img instanceof ArrayImg) || !(img.getType() instanceof ShortType)) return null;
		Object access = ((ArrayImg<?, ?>) img).update(null);
		if (!(access instanceof ShortArray)) return null;
		short[] a = ((ShortArray) access).getCurrentStorageArray();
		return a.length == Views.iterable(img).size() ? a : null;
	}

	private static long mb(long bytes) {
		return (bytes + (1 << 20) - 1) >> 20;
	}
}
