package org.lungnodules.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.ArrayDataAccess;
import net.imglib2.img.planar.PlanarImg;
import net.imglib2.img.planar.PlanarImgFactory;
import net.imglib2.type.numeric.IntegerType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

/**
 * A MetaImage (.mhd/.mha) image with its geometry: an ImgLib2 image with axes x, y, z[, t] and
 * the origin, spacing, direction and anatomical orientation of its header.
 * <p>
 * Supported: NDims 2–4; every scalar MET_* type (mapped to the ImgLib2 type that holds it
 * exactly; MET_LONG/MET_ULONG are 32-bit as in MetaIO); both byte orders; external data files
 * (.raw/.zraw), {@code ElementDataFile = LOCAL}, {@code LIST [nD]} and MetaIO's numbered pattern
 * form; zlib compression; {@code HeaderSize} including -1. Not supported, with a clear
 * {@link MetaImageException}: several channels per voxel, ASCII data, non-image objects.
 * <p>
 * Direction: {@link #direction()} is row-major with element [r][c] = component r of the direction
 * of axis c, like SimpleITK's GetDirection(). The file's TransformMatrix lists each axis direction
 * in turn, so it is the transpose; this class converts both ways.
 * <p>
 * Reading streams straight into the final primitive arrays in 8 MB chunks, so a volume needs
 * little more heap than its voxels. Writing is atomic (temporary files in the same folder, then
 * moved into place).
 */
public final class MetaImage {

	/** Largest ArrayImg: Java arrays hold a little less than 2^31 elements. */
	private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
	/** zlib cannot shrink data by more than about 1032:1; more claimed output means a bogus header. */
	private static final long MAX_ZLIB_RATIO = 1040;

	private final Path source;
	private final Img<? extends RealType<?>> image;
	private final long[] dims;
	private final double[] origin;
	private final double[] spacing;
	private final double[] direction;
	private final String anatomicalOrientation;
	private final MetType type;
	private final Map<String, String> header;

	private MetaImage(Path source, Img<? extends RealType<?>> image, long[] dims, MetType type, double[] origin, double[] spacing,
		double[] direction, String anatomicalOrientation, Map<String, String> header)
	{
		this.source = source;
		this.image = image;
		this.dims = dims;
		this.type = type;
		this.origin = origin;
		this.spacing = spacing;
		this.direction = direction;
		this.anatomicalOrientation = anatomicalOrientation;
		this.header = header;
	}

	/**
	 * An image to write, with its geometry. {@code direction} is row-major in SimpleITK's form
	 * (n×n for an n-D image), or null for the identity. All arrays are copied.
	 */
	public static MetaImage of(Img<? extends RealType<?>> image, double[] origin, double[] spacing, double[] direction,
		String anatomicalOrientation)
	{
		int n = image.numDimensions();
		if (n < 2 || n > 4) throw new IllegalArgumentException("MetaImage supports 2 to 4 dimensions, not " + n);
		double[] dir = direction == null ? MetaImageHeader.identity(n) : direction.clone();
		checkGeometry(n, origin, spacing, dir);
		long[] dims = image.dimensionsAsLongArray();
		MetType type = MetType.of(image.getType());
		String orientation = anatomicalOrientation != null ? anatomicalOrientation : n == 3 ? orientationOf(dir) : null;
		Map<String, String> header = headerEntries(dims, type, origin, spacing, dir, orientation, false, -1, null);
		return new MetaImage(null, image, dims, type, origin.clone(), spacing.clone(), dir, orientation, header);
	}

	/** {@link #of(Img, double[], double[], double[], String)} with the orientation derived from the direction (3D). */
	public static MetaImage of(Img<? extends RealType<?>> image, double[] origin, double[] spacing, double[] direction) {
		return of(image, origin, spacing, direction, null);
	}

	// ---------------------------------------------------------------- reading

	/** Reads header and voxels. */
	public static MetaImage read(Path file) throws IOException {
		MetaImageHeader h = MetaImageHeader.read(file);
		Img<? extends RealType<?>> img = readVoxels(h);
		return fromHeader(h, img);
	}

	/** Reads and checks only the header: geometry, type and sizes, for tables and quick looks. {@link #image()} then throws. */
	public static MetaImage readHeaderOnly(Path file) throws IOException {
		return fromHeader(MetaImageHeader.read(file), null);
	}

	/** A 3D CT with series UID = file name without .mhd/.mha. */
	public static CtVolume readVolume(Path file) throws IOException {
		MetaImage m = read(file);
		if (m.dims.length != 3)
			throw new MetaImageException(file, "key NDims is " + m.dims.length + ", but a CT volume must be 3D");
		return m.toVolume(seriesUidOf(file));
	}

	/** The file name without a .mhd or .mha ending (LUNA16 series UIDs contain dots, so only that ending goes). */
	public static String seriesUidOf(Path file) {
		String name = file.getFileName().toString();
		String lower = name.toLowerCase(Locale.ROOT);
		return lower.endsWith(".mhd") || lower.endsWith(".mha") ? name.substring(0, name.length() - 4) : name;
	}

	private static MetaImage fromHeader(MetaImageHeader h, Img<? extends RealType<?>> img) {
		return new MetaImage(h.file, img, h.dims.clone(), h.type, h.origin.clone(), h.spacing.clone(), h.direction.clone(),
			h.anatomicalOrientation, h.entries);
	}

	/** One stretch of stored voxel data: a whole image, or one file of a LIST. */
	private static final class Segment {
		final Path path;
		final long offset, storedBytes, voxelBytes;

		Segment(Path path, long offset, long storedBytes, long voxelBytes) {
			this.path = path;
			this.offset = offset;
			this.storedBytes = storedBytes;
			this.voxelBytes = voxelBytes;
		}
	}

	private static Img<? extends RealType<?>> readVoxels(MetaImageHeader h) throws IOException {
		long count = h.elementCount();
		long bytes = count * h.type.bytes();
		List<Segment> segments;
		try {
			segments = locate(h, bytes);
		}
		catch (MetaImageException e) {
			throw aboutData(h, e);
		}
		// Every size check is done; only now is memory allocated.
		long maxHeap = Runtime.getRuntime().maxMemory();
		if (bytes > maxHeap)
			throw new MetaImageException(h.file, "DimSize " + Arrays.toString(h.dims) + " of " + h.type + " needs " + mb(bytes) +
				" MB, more than the whole Java heap (" + mb(maxHeap) + " MB, raise -Xmx)");

		Object[] arrays;
		Img<? extends RealType<?>> img;
		try {
			if (count <= MAX_ARRAY) {
				Object a = h.type.storage.newArray((int) count);
				arrays = new Object[] { a };
				img = h.type.wrap(a, h.dims);
			}
			else {
				long plane = h.dims[0] * h.dims[1];
				if (plane > MAX_ARRAY)
					throw new MetaImageException(h.file, "key DimSize: one x-y plane has " + plane + " voxels, more than a Java array holds");
				@SuppressWarnings({ "unchecked", "rawtypes" })
				PlanarImg<?, ?> planar = new PlanarImgFactory(h.type.type()).create(h.dims);
				arrays = new Object[planar.numSlices()];
				for (int i = 0; i < arrays.length; i++)
					arrays[i] = ((ArrayDataAccess<?>) planar.getPlane(i)).getCurrentStorageArray();
				@SuppressWarnings("unchecked")
				Img<? extends RealType<?>> typed = (Img<? extends RealType<?>>) planar;
				img = typed;
			}
		}
		catch (OutOfMemoryError e) {
			throw new MetaImageException(h.file, "not enough free heap for " + mb(bytes) + " MB of voxels (raise -Xmx)");
		}

		VoxelStreams.Sink sink = new VoxelStreams.Sink(h.type.storage, arrays);
		ByteBuffer chunk = VoxelStreams.chunk(h.bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
		for (Segment s : segments) {
			try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
				if (h.compressed) VoxelStreams.readZlib(ch, s.path, s.offset, s.storedBytes, s.voxelBytes, chunk, sink);
				else VoxelStreams.readRaw(ch, s.path, s.offset, s.voxelBytes, chunk, sink);
			}
			catch (MetaImageException e) {
				throw aboutData(h, e);
			}
		}
		return img;
	}

	/** A problem found in a separate data file, reported against the header the user opened. */
	private static MetaImageException aboutData(MetaImageHeader h, MetaImageException e) {
		if (e.file() == null || e.file().equals(h.file)) return e;
		return new MetaImageException(h.file, "data file " + e.getMessage(), e);
	}

	/** Finds and size-checks every stretch of voxel data the header names, before anything is allocated. */
	private static List<Segment> locate(MetaImageHeader h, long bytes) throws IOException {
		List<Segment> out = new ArrayList<>();
		if (!h.dataFiles.isEmpty()) {
			long files = 1;
			for (int d = h.dimsPerFile; d < h.nDims; d++)
				files *= h.dims[d];
			if (files != h.dataFiles.size())
				throw h.fail("ElementDataFile", "names " + h.dataFiles.size() + " files, but DimSize " + h.get("DimSize") + " with " +
					h.dimsPerFile + "D files needs " + files);
			long perFile = bytes / files;
			for (String name : h.dataFiles) {
				Path p = dataPath(h, name);
				// The header's CompressedDataSize covers all files together; each file is read to its end.
				out.add(segment(h, p, 0, perFile, -1));
			}
			return out;
		}
		if (h.dataFile.equalsIgnoreCase("LOCAL")) out.add(segment(h, h.file, h.headerEnd, bytes, h.compressedSize));
		else out.add(segment(h, dataPath(h, h.dataFile), 0, bytes, h.compressedSize));
		return out;
	}

	private static Segment segment(MetaImageHeader h, Path data, long base, long voxelBytes, long compressedSize)
		throws MetaImageException
	{
		long size;
		try {
			size = Files.size(data);
		}
		catch (IOException e) {
			throw new MetaImageException(data, "cannot read the size of the data file: " + e.getMessage(), e);
		}
		long stored = h.compressed ? compressedSize : voxelBytes;
		long offset;
		if (h.headerSize == -1) {
			// MetaIO's convention: the data are the last bytes of the file.
			if (stored < 0)
				throw h.fail("HeaderSize", "is -1 with compressed data, which also needs CompressedDataSize to find the data");
			offset = size - stored;
			if (offset < base)
				throw new MetaImageException(data, "holds " + (size - base) + " data bytes, but the header needs " + stored +
					" (HeaderSize = -1; truncated file or wrong DimSize)");
		}
		else {
			offset = base + h.headerSize;
			if (offset > size)
				throw new MetaImageException(data, "ends at byte offset " + size + ", before the data start at offset " + offset +
					" (HeaderSize " + h.headerSize + ")");
			if (stored < 0) stored = size - offset;
			long available = size - offset;
			if (available < stored)
				throw new MetaImageException(data, "truncated: " + available + " bytes from offset " + offset + ", but " +
					(h.compressed ? "CompressedDataSize says " + stored : "DimSize " + h.get("DimSize") + " of " + h.type + " needs " + stored));
			if (!h.compressed && available > stored)
				throw new MetaImageException(data, "holds " + available + " bytes from offset " + offset + ", but DimSize " +
					h.get("DimSize") + " of " + h.type + " needs exactly " + stored + " (wrong DimSize or ElementType?)");
		}
		if (h.compressed && voxelBytes / MAX_ZLIB_RATIO > stored + 1024)
			throw new MetaImageException(data, stored + " compressed bytes at offset " + offset + " cannot inflate to the " + voxelBytes +
				" bytes DimSize " + h.get("DimSize") + " of " + h.type + " needs");
		return new Segment(data, offset, stored, voxelBytes);
	}

	/** Resolves a data file name next to the header, refusing names that leave its folder. */
	private static Path dataPath(MetaImageHeader h, String name) throws MetaImageException {
		Path folder = h.file.toAbsolutePath().normalize().getParent();
		Path p;
		try {
			p = folder.resolve(name).normalize();
		}
		catch (InvalidPathException e) {
			throw h.fail("ElementDataFile", "'" + name + "' is not a valid file name");
		}
		if (!p.startsWith(folder) || p.equals(folder))
			throw h.fail("ElementDataFile", "'" + name + "' points outside the header's folder " + folder + "; refusing to read it");
		if (!Files.isRegularFile(p))
			throw h.fail("ElementDataFile", "names '" + name + "', but " + p + " does not exist");
		return p;
	}

	// ---------------------------------------------------------------- accessors

	/** The voxels, axes x, y, z[, t]: an ArrayImg when it fits in one Java array, else a PlanarImg. */
	public Img<? extends RealType<?>> image() {
		if (image == null) throw new IllegalStateException("Read with readHeaderOnly: " + source + " has no voxels loaded");
		return image;
	}

	/** The header file this was read from, or null for an image built in memory. */
	public Path source() { return source; }
	public long[] dimensions() { return dims.clone(); }
	public int numDimensions() { return dims.length; }
	/** World position of voxel 0 (the file's Offset), mm. */
	public double[] origin() { return origin.clone(); }
	public double[] spacing() { return spacing.clone(); }
	/** Row-major n×n, element [r][c] at r*n+c = component r of axis c (SimpleITK's GetDirection()). */
	public double[] direction() { return direction.clone(); }
	/** Such as "RAI", or null when the header has none. */
	public String anatomicalOrientation() { return anatomicalOrientation; }
	/** Such as "MET_SHORT". */
	public String elementType() { return type.name(); }
	/** The header's keys and values in file order, as read (for an image built in memory: what would be written). */
	public Map<String, String> header() { return header; }

	/** The 3D geometry. */
	public Geometry geometry() {
		if (dims.length != 3) throw new IllegalStateException("Geometry is 3D, but this MetaImage has " + dims.length + " dimensions");
		return new Geometry(origin, spacing, direction);
	}

	/** This 3D image as a CT volume. */
	public CtVolume toVolume(String seriesUid) {
		return new CtVolume(image(), geometry(), seriesUid);
	}

	// ---------------------------------------------------------------- writing

	/**
	 * Writes {@code m}: a .mhd gets its voxels in a .raw (or, compressed, .zraw) file of the same
	 * base name next to it; a .mha holds header and voxels (ElementDataFile = LOCAL). Little-endian.
	 */
	public static void write(Path file, MetaImage m, boolean compress) throws IOException {
		Img<? extends RealType<?>> img = m.image();
		// Keep the file's own name for types that share an ImgLib2 type (MET_LONG and MET_INT).
		MetType t = m.type.type().getClass() == img.getType().getClass() ? m.type : MetType.of(img.getType());
		writeImage(file, img, t, m.origin, m.spacing, m.direction, m.anatomicalOrientation, compress);
	}

	public static void writeVolume(Path file, CtVolume volume, boolean compress) throws IOException {
		Geometry g = volume.geometry();
		RandomAccessibleInterval<? extends RealType<?>> img = volume.image();
		writeImage(file, img, MetType.of(img.getType()), g.origin(), g.spacing(), g.direction(), orientationOf(g.direction()),
			compress);
	}

	private static void writeImage(Path file, RandomAccessibleInterval<? extends RealType<?>> img, MetType type, double[] origin,
		double[] spacing, double[] direction, String orientation, boolean compress) throws IOException
	{
		int n = img.numDimensions();
		if (n < 2 || n > 4) throw new MetaImageException(file, "MetaImage files here hold 2 to 4 dimensions, not " + n);
		checkGeometry(n, origin, spacing, direction);
		String name = file.getFileName().toString();
		String lower = name.toLowerCase(Locale.ROOT);
		boolean local = lower.endsWith(".mha");
		if (!local && !lower.endsWith(".mhd")) throw new MetaImageException(file, "a MetaImage file name must end in .mhd or .mha");
		Path target = file.toAbsolutePath().normalize();
		Path folder = target.getParent();
		long[] dims = img.dimensionsAsLongArray();
		List<Path> temps = new ArrayList<>();
		try {
			if (!local) {
				String dataName = name.substring(0, name.length() - 4) + (compress ? ".zraw" : ".raw");
				Path tmpData = temp(folder, dataName, temps);
				try (OutputStream os = Files.newOutputStream(tmpData)) {
					writeVoxels(os, img, type, compress);
				}
				long stored = compress ? Files.size(tmpData) : -1;
				Path tmpHeader = temp(folder, name, temps);
				Files.write(tmpHeader, headerText(dims, type, origin, spacing, direction, orientation, compress, stored, dataName));
				moveAtomically(tmpData, folder.resolve(dataName));
				moveAtomically(tmpHeader, target);
			}
			else {
				Path tmp = temp(folder, name, temps);
				if (compress) {
					// CompressedDataSize precedes the data, so compress first, then copy behind the header.
					Path tmpData = temp(folder, name + ".zlib", temps);
					try (OutputStream os = Files.newOutputStream(tmpData)) {
						writeVoxels(os, img, type, true);
					}
					long stored = Files.size(tmpData);
					try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE);
						FileChannel in = FileChannel.open(tmpData, StandardOpenOption.READ))
					{
						byte[] head = headerText(dims, type, origin, spacing, direction, orientation, true, stored, "LOCAL");
						ByteBuffer hb = ByteBuffer.wrap(head);
						while (hb.hasRemaining()) out.write(hb);
						long pos = 0;
						while (pos < stored)
							pos += in.transferTo(pos, stored - pos, out);
					}
				}
				else {
					try (OutputStream os = Files.newOutputStream(tmp)) {
						os.write(headerText(dims, type, origin, spacing, direction, orientation, false, -1, "LOCAL"));
						writeVoxels(os, img, type, false);
					}
				}
				moveAtomically(tmp, target);
			}
		}
		finally {
			for (Path t : temps)
				Files.deleteIfExists(t);
		}
	}

	/**
	 * A new empty file next to the target. Not Files.createTempFile: that makes owner-only (0600)
	 * files, and the moved result should get the usual permissions (umask) like any other file.
	 */
	private static Path temp(Path folder, String name, List<Path> temps) throws IOException {
		java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
		for (int attempt = 0;; attempt++) {
			Path t = folder.resolve("." + name + "." + Long.toHexString(random.nextLong() & Long.MAX_VALUE) + ".tmp");
			try {
				Files.createFile(t);
				temps.add(t);
				return t;
			}
			catch (java.nio.file.FileAlreadyExistsException e) {
				if (attempt > 10) throw e;
			}
		}
	}

	private static void moveAtomically(Path from, Path to) throws IOException {
		try {
			Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		catch (AtomicMoveNotSupportedException e) {
			Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
		}
	}

	/** Writes the voxels in file order (x fastest), little-endian, optionally zlib-compressed. */
	private static void writeVoxels(OutputStream file, RandomAccessibleInterval<? extends RealType<?>> img, MetType type,
		boolean compress) throws IOException
	{
		Deflater deflater = compress ? new Deflater(Deflater.DEFAULT_COMPRESSION) : null;
		try {
			OutputStream os = compress ? new DeflaterOutputStream(file, deflater, 1 << 16) : new BufferedOutputStream(file, 1 << 16);
			VoxelStreams.Writer w = new VoxelStreams.Writer(os, ByteOrder.LITTLE_ENDIAN);
			Object[] arrays = backingArrays(img, type);
			if (arrays != null) {
				for (Object a : arrays)
					w.putArray(type.storage, a, java.lang.reflect.Array.getLength(a));
			}
			else {
				writeByCursor(w, img, type);
			}
			w.flush();
			if (compress) ((DeflaterOutputStream) os).finish();
			os.flush();
		}
		finally {
			if (deflater != null) deflater.end();
		}
	}

	/** Any image, any RealType: element by element, integers through getIntegerLong so 64-bit values stay exact. */
	private static void writeByCursor(VoxelStreams.Writer w, RandomAccessibleInterval<? extends RealType<?>> img, MetType type)
		throws IOException
	{
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		int size = type.bytes();
		boolean integerSource = img.getType() instanceof IntegerType;
		while (c.hasNext()) {
			RealType<?> v = c.next();
			ByteBuffer b = w.room(size);
			long asLong = integerSource ? ((IntegerType<?>) v).getIntegerLong() : (long) v.getRealDouble();
			switch (type.storage) {
				case BYTE: b.put((byte) asLong); break;
				case SHORT: b.putShort((short) asLong); break;
				case INT: b.putInt((int) asLong); break;
				case LONG: b.putLong(asLong); break;
				case FLOAT: b.putFloat(v.getRealFloat()); break;
				default: b.putDouble(v.getRealDouble()); break;
			}
		}
	}

	/** The primitive arrays behind an ArrayImg or PlanarImg of exactly {@code type}'s storage, in file order; else null. */
	private static Object[] backingArrays(RandomAccessibleInterval<?> img, MetType type) {
		Class<?> want = type.storage.newArray(0).getClass();
		// Same primitive storage means the bits can be copied as they are.
		if (!(img.getType() instanceof RealType) || MetType.of((RealType<?>) img.getType()).storage != type.storage) return null;
		long size = Views.iterable(img).size();
		Object[] arrays;
		if (img instanceof ArrayImg) {
			Object access = ((ArrayImg<?, ?>) img).update(null);
			if (!(access instanceof ArrayDataAccess)) return null;
			arrays = new Object[] { ((ArrayDataAccess<?>) access).getCurrentStorageArray() };
		}
		else if (img instanceof PlanarImg) {
			PlanarImg<?, ?> p = (PlanarImg<?, ?>) img;
			arrays = new Object[p.numSlices()];
			for (int i = 0; i < arrays.length; i++) {
				Object access = p.getPlane(i);
				if (!(access instanceof ArrayDataAccess)) return null;
				arrays[i] = ((ArrayDataAccess<?>) access).getCurrentStorageArray();
			}
		}
		else return null;
		long total = 0;
		for (Object a : arrays) {
			if (a.getClass() != want) return null;
			total += java.lang.reflect.Array.getLength(a);
		}
		return total == size ? arrays : null;
	}

	// ---------------------------------------------------------------- header text

	private static byte[] headerText(long[] dims, MetType type, double[] origin, double[] spacing, double[] direction,
		String orientation, boolean compressed, long compressedSize, String dataFile)
	{
		StringBuilder sb = new StringBuilder();
		for (Map.Entry<String, String> e : headerEntries(dims, type, origin, spacing, direction, orientation, compressed,
			compressedSize, dataFile).entrySet())
			sb.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
		return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
	}

	/** The keys ITK writes, in ITK's order; ElementDataFile last, as MetaIO requires. */
	private static Map<String, String> headerEntries(long[] dims, MetType type, double[] origin, double[] spacing,
		double[] direction, String orientation, boolean compressed, long compressedSize, String dataFile)
	{
		int n = dims.length;
		Map<String, String> h = new LinkedHashMap<>();
		h.put("ObjectType", "Image");
		h.put("NDims", Integer.toString(n));
		h.put("BinaryData", "True");
		h.put("BinaryDataByteOrderMSB", "False");
		h.put("CompressedData", compressed ? "True" : "False");
		if (compressed && compressedSize >= 0) h.put("CompressedDataSize", Long.toString(compressedSize));
		h.put("TransformMatrix", numbers(MetaImageHeader.transpose(direction, n)));
		h.put("Offset", numbers(origin));
		h.put("CenterOfRotation", numbers(new double[n]));
		if (orientation != null && !orientation.isBlank()) h.put("AnatomicalOrientation", orientation.trim());
		h.put("ElementSpacing", numbers(spacing));
		StringBuilder ds = new StringBuilder();
		for (long d : dims)
			ds.append(ds.length() == 0 ? "" : " ").append(d);
		h.put("DimSize", ds.toString());
		h.put("ElementType", type.name());
		if (dataFile != null) h.put("ElementDataFile", dataFile);
		return Collections.unmodifiableMap(h);
	}

	/** Shortest decimal form that reads back to the same double, without exponent notation. */
	private static String numbers(double[] values) {
		StringBuilder sb = new StringBuilder();
		for (double v : values) {
			if (sb.length() > 0) sb.append(' ');
			String s = BigDecimal.valueOf(v == 0 ? 0.0 : v).toPlainString(); // -0.0 prints as 0
			if (s.endsWith(".0")) s = s.substring(0, s.length() - 2);
			sb.append(s);
		}
		return sb.toString();
	}

	/**
	 * ITK's AnatomicalOrientation code for a 3D direction: per axis, the patient direction it
	 * points from (identity gives "RAI"), taken from the largest component of that axis.
	 */
	static String orientationOf(double[] direction) {
		if (direction.length != 9) return null;
		char[] code = new char[3];
		for (int c = 0; c < 3; c++) {
			int best = 0;
			for (int r = 1; r < 3; r++)
				if (Math.abs(direction[r * 3 + c]) > Math.abs(direction[best * 3 + c])) best = r;
			boolean positive = direction[best * 3 + c] > 0;
			code[c] = best == 0 ? (positive ? 'R' : 'L') : best == 1 ? (positive ? 'A' : 'P') : (positive ? 'I' : 'S');
		}
		return new String(code);
	}

	private static void checkGeometry(int n, double[] origin, double[] spacing, double[] direction) {
		if (origin.length != n || spacing.length != n || direction.length != n * n)
			throw new IllegalArgumentException("A " + n + "D MetaImage needs " + n + " origin values, " + n + " spacings and a " + n +
				"x" + n + " direction; got " + origin.length + ", " + spacing.length + ", " + direction.length);
		for (double s : spacing)
			if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("Spacing must be positive: " + Arrays.toString(spacing));
		for (double v : origin)
			if (!Double.isFinite(v)) throw new IllegalArgumentException("Origin must be finite: " + Arrays.toString(origin));
		for (double v : direction)
			if (!Double.isFinite(v)) throw new IllegalArgumentException("Direction must be finite: " + Arrays.toString(direction));
	}

	private static long mb(long bytes) {
		return (bytes + (1 << 20) - 1) >> 20;
	}

	@Override
	public String toString() {
		return "MetaImage[" + (source == null ? "in memory" : source.getFileName()) + ", " + type + " " + Arrays.toString(dims) +
			", origin=" + Arrays.toString(origin) + ", spacing=" + Arrays.toString(spacing) + "]";
	}
}
