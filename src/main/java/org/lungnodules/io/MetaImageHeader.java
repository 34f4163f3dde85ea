package org.lungnodules.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text header of a MetaImage file, parsed and checked. MetaIO reads {@code Key = Value} lines
 * until {@code ElementDataFile}, which must come last; in a .mha the voxels follow right after
 * that line. Keys are case-sensitive in MetaIO, but files written by hand vary, so any case is
 * accepted here.
 */
final class MetaImageHeader {

	/** Headers are a few hundred bytes; more than this means a wrong or binary file. */
	static final int MAX_HEADER_BYTES = 1 << 20;

	final Path file;
	final Map<String, String> entries;
	final int nDims;
	final long[] dims;
	final MetType type;
	final double[] spacing;
	final double[] origin;
	/** Row-major, element [r][c] = component r of axis c (the transpose of the file's order). */
	final double[] direction;
	final String anatomicalOrientation;
	final boolean bigEndian;
	final boolean compressed;
	/** -1 when the header does not say. */
	final long compressedSize;
	/** Bytes to skip before the voxels in each data file; -1 means "the voxels are the last bytes". */
	final long headerSize;
	/** The raw ElementDataFile value. */
	final String dataFile;
	/** For LIST and pattern forms: one entry per data file, in order. Empty otherwise. */
	final List<String> dataFiles;
	/** How many dimensions each file of a LIST or pattern holds. */
	final int dimsPerFile;
	/** Byte offset just past the header (where LOCAL voxels start). */
	final long headerEnd;

	private final Map<String, String> byLowerKey;

	private MetaImageHeader(Path file, LinkedHashMap<String, String> entries, List<String> listNames, long headerEnd)
		throws MetaImageException
	{
		this.file = file;
		this.entries = Collections.unmodifiableMap(entries);
		this.byLowerKey = new HashMap<>();
		for (Map.Entry<String, String> e : entries.entrySet())
			byLowerKey.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
		this.headerEnd = headerEnd;

		String objectType = get("ObjectType");
		if (objectType != null && !objectType.equalsIgnoreCase("Image"))
			throw fail("ObjectType", "is '" + objectType + "', but only ObjectType = Image can be read");
		String nd = require("NDims");
		this.nDims = (int) parseLongs("NDims", nd, 1)[0];
		if (nDims < 2 || nDims > 4)
			throw fail("NDims", "is " + nDims + ", but only 2 to 4 dimensions are supported");
		this.dims = parseLongs("DimSize", require("DimSize"), nDims);
		for (int d = 0; d < nDims; d++)
			if (dims[d] < 1) throw fail("DimSize", "has a size below 1 on axis " + d + ": '" + get("DimSize") + "'");
		String typeName = require("ElementType");
		this.type = MetType.parse(typeName);
		if (type == null)
			throw fail("ElementType", "'" + typeName + "' is not a supported scalar type (MET_CHAR ... MET_DOUBLE)");
		String channels = get("ElementNumberOfChannels");
		if (channels != null && parseLongs("ElementNumberOfChannels", channels, 1)[0] != 1)
			throw fail("ElementNumberOfChannels", "is " + channels.trim() + "; images with several channels per voxel are not supported");
		String binary = get("BinaryData");
		if (binary != null && !parseBoolean("BinaryData", binary))
			throw fail("BinaryData", "is False; ASCII voxel data are not supported");

		this.spacing = parseSpacing();
		this.origin = firstOf(new String[] { "Offset", "Position", "Origin" }, nDims, new double[nDims]);
		double[] fileMatrix = firstOf(new String[] { "TransformMatrix", "Rotation", "Orientation" }, nDims * nDims, identity(nDims));
		this.direction = transpose(fileMatrix, nDims);
		String orientation = get("AnatomicalOrientation");
		this.anatomicalOrientation = orientation == null ? null : orientation.trim();

		String msbKey = get("BinaryDataByteOrderMSB") != null ? "BinaryDataByteOrderMSB" : "ElementByteOrderMSB";
		String msb = get(msbKey);
		this.bigEndian = msb != null && parseBoolean(msbKey, msb);
		String comp = get("CompressedData");
		this.compressed = comp != null && parseBoolean("CompressedData", comp);
		String compSize = get("CompressedDataSize");
		this.compressedSize = compSize == null ? -1 : parseLongs("CompressedDataSize", compSize, 1)[0];
		if (compSize != null && compressedSize < 0)
			throw fail("CompressedDataSize", "is negative: " + compSize.trim());
		String hs = get("HeaderSize");
		this.headerSize = hs == null ? 0 : parseLongs("HeaderSize", hs, 1)[0];
		if (headerSize < -1) throw fail("HeaderSize", "must be -1 or at least 0, not " + headerSize);

		this.dataFile = require("ElementDataFile");
		this.dataFiles = listNames;
		this.dimsPerFile = listNames.isEmpty() ? nDims : listFileDims(dataFile, nDims, file);
	}

	/** Reads and checks the header of {@code file}; the voxels are not touched. */
	static MetaImageHeader read(Path file) throws IOException {
		if (!Files.isRegularFile(file)) throw new MetaImageException(file, "no such file");
		LinkedHashMap<String, String> entries = new LinkedHashMap<>();
		List<String> names = new ArrayList<>();
		long offset = 0;
		try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 8192)) {
			StringBuilder line = new StringBuilder();
			int lineNo = 0;
			while (true) {
				long lineStart = offset;
				line.setLength(0);
				boolean eof = readLine(file, in, line, offset);
				offset += line.length() + (eof ? 0 : 1);
				// readLine keeps '\r' so the byte count stays right; drop it here.
				String text = stripCr(line);
				lineNo++;
				if (eof && text.isEmpty()) break;
				if (text.isBlank()) {
					if (eof) break;
					continue;
				}
				int eq = text.indexOf('=');
				if (eq <= 0)
					throw new MetaImageException(file, "header line " + lineNo + " (byte offset " + lineStart + ") is not 'Key = Value': '" +
						abbreviate(text) + "'");
				String key = text.substring(0, eq).trim();
				String value = text.substring(eq + 1).trim();
				if (key.isEmpty() || key.chars().anyMatch(Character::isWhitespace))
					throw new MetaImageException(file, "header line " + lineNo + " (byte offset " + lineStart + ") has no valid key: '" +
						abbreviate(text) + "'");
				entries.put(key, value);
				if (key.equalsIgnoreCase("ElementDataFile")) {
					int count = fileCount(file, entries, value);
					for (int i = 0; i < count; i++) {
						String name;
						do {
							if (eof) throw new MetaImageException(file, "ElementDataFile = " + value + " needs " + count +
								" file names on the following lines, but only " + names.size() + " follow");
							line.setLength(0);
							eof = readLine(file, in, line, offset);
							offset += line.length() + (eof ? 0 : 1);
							name = stripCr(line).trim();
						} while (name.isEmpty());
						names.add(name);
					}
					if (count == 0) names.addAll(patternNames(file, value));
					return new MetaImageHeader(file, entries, names, offset);
				}
				if (eof) break;
			}
		}
		throw missing(file, entries);
	}

	private static MetaImageException missing(Path file, Map<String, String> entries) {
		for (String key : new String[] { "NDims", "DimSize", "ElementType", "ElementDataFile" }) {
			boolean found = entries.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(key));
			if (!found) return new MetaImageException(file, "required key " + key + " is missing from the header");
		}
		return new MetaImageException(file, "the header does not end with ElementDataFile");
	}

	/**
	 * Reads one line of at most what is left of the header budget; returns true at end of file.
	 * Control characters (other than tab and CR) mean this is binary data, not a header.
	 */
	private static boolean readLine(Path file, InputStream in, StringBuilder line, long offset) throws IOException {
		while (true) {
			int b = in.read();
			if (b < 0) return true;
			if (b == '\n') return false;
			long at = offset + line.length();
			if (at >= MAX_HEADER_BYTES)
				throw new MetaImageException(file, "no ElementDataFile within the first " + MAX_HEADER_BYTES +
					" bytes; this is not a MetaImage header");
			if (b < 0x20 && b != '\t' && b != '\r')
				throw new MetaImageException(file, "binary byte 0x" + Integer.toHexString(b) + " at byte offset " + at +
					" inside the header; this is not a MetaImage header (or ElementDataFile is missing)");
			line.append((char) b); // Latin-1: one char per byte keeps offsets exact
		}
	}

	private static String stripCr(StringBuilder line) {
		int n = line.length();
		while (n > 0 && line.charAt(n - 1) == '\r') n--;
		return line.substring(0, n);
	}

	private static String abbreviate(String s) {
		return s.length() <= 80 ? s : s.substring(0, 77) + "...";
	}

	/** How many file names follow a LIST ElementDataFile; 0 for other forms. */
	private static int fileCount(Path file, Map<String, String> entries, String value) throws MetaImageException {
		String[] tokens = value.trim().split("\\s+");
		if (!tokens[0].equalsIgnoreCase("LIST")) return 0;
		String nd = lookup(entries, "NDims"), ds = lookup(entries, "DimSize");
		if (nd == null || ds == null)
			throw new MetaImageException(file, "NDims and DimSize must come before ElementDataFile = LIST");
		int n = (int) parseLongs(file, "NDims", nd, 1)[0];
		if (n < 2 || n > 4) throw new MetaImageException(file, "NDims is " + n + ", but only 2 to 4 dimensions are supported");
		long[] dims = parseLongs(file, "DimSize", ds, n);
		int perFile = listFileDims(value, n, file);
		long count = 1;
		for (int d = perFile; d < n; d++)
			count *= dims[d];
		if (count < 1 || count > 100_000)
			throw new MetaImageException(file, "ElementDataFile = " + value + " with DimSize " + ds + " means " + count +
				" data files; at most 100000 are supported");
		return (int) count;
	}

	/** "LIST" means one (NDims-1)-D block per file; "LIST 2D" etc. says the file dimension. */
	private static int listFileDims(String value, int nDims, Path file) throws MetaImageException {
		String[] tokens = value.trim().split("\\s+");
		if (!tokens[0].equalsIgnoreCase("LIST")) {
			// Pattern form "name%03d.raw min max step [fileDims]"
			if (tokens.length == 5) return (int) parseLongs(file, "ElementDataFile", tokens[4], 1)[0];
			return nDims - 1;
		}
		if (tokens.length == 1) return nDims - 1;
		String t = tokens[1].toUpperCase(Locale.ROOT);
		if (t.endsWith("D")) t = t.substring(0, t.length() - 1);
		int perFile;
		try {
			perFile = Integer.parseInt(t);
		}
		catch (NumberFormatException e) {
			throw new MetaImageException(file, "ElementDataFile = " + value + ": '" + tokens[1] + "' is not a dimension like 2D");
		}
		if (perFile < 1 || perFile > nDims)
			throw new MetaImageException(file, "ElementDataFile = " + value + ": files of " + perFile + "D do not fit NDims = " + nDims);
		return perFile;
	}

	/**
	 * MetaIO's numbered form, "slice%03d.raw 1 96 1": printf pattern, first, last, step, optionally
	 * the dimension of each file. Returns no names for a plain file name (which may contain spaces).
	 */
	private static List<String> patternNames(Path file, String value) throws MetaImageException {
		String[] tokens = value.trim().split("\\s+");
		if (!tokens[0].contains("%") || (tokens.length != 4 && tokens.length != 5)) return List.of();
		long first = parseLongs(file, "ElementDataFile", tokens[1], 1)[0];
		long last = parseLongs(file, "ElementDataFile", tokens[2], 1)[0];
		long step = parseLongs(file, "ElementDataFile", tokens[3], 1)[0];
		if (step == 0 || (last - first) / step > 100_000 || (last - first) / step < 0)
			throw new MetaImageException(file, "ElementDataFile = " + value + " does not give 1 to 100000 file numbers");
		List<String> names = new ArrayList<>();
		for (long i = first; step > 0 ? i <= last : i >= last; i += step) {
			try {
				names.add(String.format(Locale.ROOT, tokens[0], i));
			}
			catch (java.util.IllegalFormatException e) {
				throw new MetaImageException(file, "ElementDataFile = " + value + ": bad file name pattern '" + tokens[0] + "'");
			}
		}
		return names;
	}

	// ---- lookups and number parsing ----

	String get(String key) {
		return byLowerKey.get(key.toLowerCase(Locale.ROOT));
	}

	private static String lookup(Map<String, String> entries, String key) {
		for (Map.Entry<String, String> e : entries.entrySet())
			if (e.getKey().equalsIgnoreCase(key)) return e.getValue();
		return null;
	}

	private String require(String key) throws MetaImageException {
		String v = get(key);
		if (v == null) throw new MetaImageException(file, "required key " + key + " is missing from the header");
		if (v.isBlank()) throw fail(key, "is empty");
		return v;
	}

	MetaImageException fail(String key, String problem) {
		return new MetaImageException(file, "key " + key + " " + problem);
	}

	private double[] parseSpacing() throws MetaImageException {
		String key = get("ElementSpacing") != null ? "ElementSpacing" : "ElementSize";
		double[] s = firstOf(new String[] { key }, nDims, null);
		if (s == null) {
			s = new double[nDims];
			java.util.Arrays.fill(s, 1.0);
		}
		for (double v : s)
			if (!(v > 0) || !Double.isFinite(v)) throw fail(key, "must hold positive finite spacings, not '" + get(key) + "'");
		return s;
	}

	/** The value of the first key present (aliases), parsed as {@code count} finite numbers. */
	private double[] firstOf(String[] keys, int count, double[] fallback) throws MetaImageException {
		for (String key : keys) {
			String v = get(key);
			if (v != null) {
				String[] tokens = split(v);
				if (tokens.length != count)
					throw fail(key, "needs " + count + " numbers, found " + tokens.length + ": '" + abbreviate(v) + "'");
				double[] out = new double[count];
				for (int i = 0; i < count; i++) {
					try {
						out[i] = Double.parseDouble(tokens[i]);
					}
					catch (NumberFormatException e) {
						throw fail(key, "has '" + tokens[i] + "', which is not a number (value '" + abbreviate(v) + "')");
					}
					if (!Double.isFinite(out[i])) throw fail(key, "has a value that is not finite: '" + abbreviate(v) + "'");
				}
				return out;
			}
		}
		return fallback;
	}

	private long[] parseLongs(String key, String value, int count) throws MetaImageException {
		return parseLongs(file, key, value, count);
	}

	private static long[] parseLongs(Path file, String key, String value, int count) throws MetaImageException {
		String[] tokens = split(value);
		if (tokens.length != count)
			throw new MetaImageException(file, "key " + key + " needs " + count + " whole number(s), found " + tokens.length +
				": '" + abbreviate(value) + "'");
		long[] out = new long[count];
		for (int i = 0; i < count; i++) {
			try {
				out[i] = Long.parseLong(tokens[i]);
			}
			catch (NumberFormatException e) {
				throw new MetaImageException(file, "key " + key + " has '" + tokens[i] + "', which is not a whole number (value '" +
					abbreviate(value) + "')");
			}
		}
		return out;
	}

	private static String[] split(String value) {
		String t = value.trim();
		return t.isEmpty() ? new String[0] : t.split("\\s+");
	}

	/** MetaIO looks only at the first letter (T/t/1 = true); we also insist the rest is a boolean word. */
	private boolean parseBoolean(String key, String value) throws MetaImageException {
		String v = value.trim().toLowerCase(Locale.ROOT);
		switch (v) {
			case "true": case "t": case "1": case "yes": return true;
			case "false": case "f": case "0": case "no": return false;
			default: throw fail(key, "must be True or False, not '" + abbreviate(value) + "'");
		}
	}

	static double[] identity(int n) {
		double[] m = new double[n * n];
		for (int i = 0; i < n; i++)
			m[i * n + i] = 1;
		return m;
	}

	static double[] transpose(double[] m, int n) {
		double[] t = new double[n * n];
		for (int r = 0; r < n; r++)
			for (int c = 0; c < n; c++)
				t[r * n + c] = m[c * n + r];
		return t;
	}

	/** Number of voxels, or an exception if the product overflows a long. */
	long elementCount() throws MetaImageException {
		long n = 1;
		try {
			for (long d : dims)
				n = Math.multiplyExact(n, d);
			Math.multiplyExact(n, (long) type.bytes());
		}
		catch (ArithmeticException e) {
			throw fail("DimSize", "'" + get("DimSize") + "' with " + type + " gives more bytes than a file can hold (overflow)");
		}
		return n;
	}
}
