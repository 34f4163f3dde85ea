package org.lungnodules.io;

import java.io.Closeable;
import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A streaming reader for headed CSV tables, on top of commons-csv, that turns every way a table
 * can be wrong into a {@link TableException} naming the file and the physical line.
 * <p>
 * Columns are looked up by header name (case-insensitive, surrounding spaces ignored), so their
 * order does not matter and extra columns are ignored. A UTF-8 byte-order mark, CRLF line ends,
 * quoted fields and blank lines are tolerated. Rows are read one at a time; a record longer than
 * {@link #MAX_RECORD_CHARS} (typically an unbalanced quote swallowing the rest of the file) stops
 * the read instead of growing one field without bound.
 */
final class CsvTable implements Closeable {

	/** No LUNA16-style row is anywhere near this long; longer means a broken file. */
	static final int MAX_RECORD_CHARS = 1 << 20;

	/** Plain decimal numbers as Python's float() and pandas write them; no NaN, Infinity, hex or 'd' suffixes. */
	private static final Pattern DECIMAL = Pattern.compile("[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?");
	private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,9}");

	private final Path file;
	private final CSVParser parser;
	private final Iterator<CSVRecord> records;
	private final List<String> header;
	/** Series UIDs repeat on every row; sharing one String per UID keeps big candidate lists small. */
	private final Map<String, String> uids = new HashMap<>();
	private final Row row = new Row();

	private CsvTable(Path file, CSVParser parser) throws IOException {
		this.file = file;
		this.parser = parser;
		this.records = parser.iterator();
		List<String> names = null;
		while (names == null) {
			CSVRecord first = fetch();
			if (first == null) throw new TableException(file, "the file is empty: no header line");
			if (isBlank(first)) continue;
			names = new ArrayList<>();
			for (String n : first) names.add(n.strip());
		}
		for (int i = 0; i < names.size(); i++)
			for (int j = 0; j < i; j++)
				if (!names.get(i).isEmpty() && names.get(i).equalsIgnoreCase(names.get(j)))
					throw new TableException(file, row.line, "the header names column '" + names.get(i) + "' twice");
		this.header = names;
	}

	/** Opens {@code file} (UTF-8) and reads its header. */
	static CsvTable open(Path file) throws IOException {
		Reader reader;
		try {
			reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
		}
		catch (NoSuchFileException e) {
			throw new TableException(file, "no such file");
		}
		CSVFormat format = CSVFormat.RFC4180.builder()
			.setIgnoreEmptyLines(false) // blank lines are skipped here, so that line numbers stay physical
			.get();
		CSVParser parser = null;
		try {
			parser = CSVParser.builder().setReader(new GuardedReader(reader, file)).setFormat(format).get();
			return new CsvTable(file, parser);
		}
		catch (IOException | RuntimeException e) {
			if (parser != null) parser.close();
			else reader.close();
			throw e;
		}
	}

	Path file() { return file; }

	List<String> header() { return header; }

	/** The index of a column the table must have. */
	int column(String name) throws TableException {
		int c = optionalColumn(name);
		if (c < 0) throw new TableException(file, "missing column '" + name + "' (the header has " + header + ")");
		return c;
	}

	/** The index of a column, or -1 if the header lacks it. */
	int optionalColumn(String name) {
		for (int i = 0; i < header.size(); i++)
			if (header.get(i).equalsIgnoreCase(name)) return i;
		return -1;
	}

	/**
	 * The next data row, or null at the end of the file. The returned object is reused: read
	 * its fields before calling again.
	 */
	Row next() throws IOException {
		while (true) {
			CSVRecord r = fetch();
			if (r == null) return null;
			if (isBlank(r)) continue;
			if (r.size() != header.size())
				throw row.error("expected " + header.size() + " fields as in the header, found " + r.size());
			row.record = r;
			return row;
		}
	}

	/** Reads one record, recording the line it starts on; commons-csv's wrapped errors become TableExceptions. */
	private CSVRecord fetch() throws IOException {
		// Lines consumed so far + 1 is the line the next record starts on; that holds for quoted
		// multi-line fields and blank lines too, since commons-csv counts every line break it reads.
		row.line = parser.getCurrentLineNumber() + 1;
		try {
			return records.hasNext() ? records.next() : null;
		}
		catch (UncheckedIOException e) {
			throw asTableException(e.getCause());
		}
		catch (IllegalStateException e) {
			throw asTableException(e);
		}
	}

	private TableException asTableException(Throwable e) {
		if (e instanceof TableException t) return t;
		if (e instanceof CharacterCodingException)
			return new TableException(file, row.line, "the file is not UTF-8 text", e);
		return new TableException(file, row.line, "malformed CSV: " + e.getMessage(), e);
	}

	private static boolean isBlank(CSVRecord r) {
		return r.size() == 1 && r.get(0).isBlank();
	}

	@Override
	public void close() throws IOException {
		parser.close();
	}

	/** The current data row: typed field access whose errors name the file, line and column. */
	final class Row {

		private long line;
		private CSVRecord record;

		long line() { return line; }

		TableException error(String problem) {
			return new TableException(file, line, problem);
		}

		String text(int col) {
			return record.get(col).strip();
		}

		/** A non-empty series UID, shared with earlier rows of the same series. */
		String seriesUid(int col) throws TableException {
			String s = text(col);
			if (s.isEmpty()) throw error(header.get(col) + " is empty");
			String known = uids.putIfAbsent(s, s);
			return known != null ? known : s;
		}

		/** A finite decimal number (NaN and Infinity are rejected: they poison every distance later on). */
		double finite(int col) throws TableException {
			String s = text(col);
			if (!DECIMAL.matcher(s).matches())
				throw error(header.get(col) + " is not a finite number: '" + abbreviate(s) + "'");
			double v = Double.parseDouble(s);
			if (!Double.isFinite(v)) throw error(header.get(col) + " is out of range: '" + abbreviate(s) + "'");
			return v;
		}

		int integer(int col) throws TableException {
			String s = text(col);
			if (!INTEGER.matcher(s).matches())
				throw error(header.get(col) + " is not an integer: '" + abbreviate(s) + "'");
			return Integer.parseInt(s);
		}

		/** Python's True/False (any case, as other writers use true/false). */
		boolean bool(int col) throws TableException {
			String s = text(col);
			if (s.equalsIgnoreCase("true")) return true;
			if (s.equalsIgnoreCase("false")) return false;
			throw error(header.get(col) + " must be True or False, not '" + abbreviate(s) + "'");
		}

		/** A Python list of integers such as "[4, 2, 4, 2]" (or "[]"). */
		int[] intList(int col) throws TableException {
			String s = text(col);
			if (s.length() < 2 || s.charAt(0) != '[' || s.charAt(s.length() - 1) != ']')
				throw error(header.get(col) + " must be a list like [4, 2, 4], not '" + abbreviate(s) + "'");
			String inner = s.substring(1, s.length() - 1).strip();
			if (inner.isEmpty()) return new int[0];
			String[] parts = inner.split(",", -1);
			int[] out = new int[parts.length];
			for (int i = 0; i < parts.length; i++) {
				String p = parts[i].strip();
				if (!INTEGER.matcher(p).matches())
					throw error(header.get(col) + " holds '" + abbreviate(p) + "', which is not an integer");
				out[i] = Integer.parseInt(p);
			}
			return out;
		}

		@Override
		public String toString() {
			return file + ", line " + line + ": " + Arrays.toString(record.values());
		}
	}

	private static String abbreviate(String s) {
		return s.length() <= 40 ? s : s.substring(0, 37) + "...";
	}

	/**
	 * Drops a leading byte-order mark and refuses absurdly long records. It tracks quotes itself
	 * (each '"' toggles, so an escaped "" toggles twice) to know which line breaks end a record.
	 */
	private static final class GuardedReader extends FilterReader {

		private final Path file;
		private boolean atStart = true;
		private boolean inQuotes;
		private long sinceRecordEnd;
		private long lineBreaks;

		GuardedReader(Reader in, Path file) {
			super(in);
			this.file = file;
		}

		@Override
		public int read() throws IOException {
			char[] one = new char[1];
			int n = read(one, 0, 1);
			return n < 0 ? -1 : one[0];
		}

		@Override
		public int read(char[] buf, int off, int len) throws IOException {
			if (len == 0) return 0;
			int n;
			do {
				n = in.read(buf, off, len);
				if (n > 0 && atStart) {
					atStart = false;
					if (buf[off] == '\uFEFF') {
						System.arraycopy(buf, off + 1, buf, off, n - 1);
						n--;
					}
				}
			}
			while (n == 0);
			for (int i = off; i < off + n; i++) {
				char c = buf[i];
				if (c == '"') inQuotes = !inQuotes;
				if (c == '\n') lineBreaks++;
				if (c == '\n' && !inQuotes) sinceRecordEnd = 0;
				else if (++sinceRecordEnd > MAX_RECORD_CHARS)
					throw new TableException(file, "a record near line " + (lineBreaks + 1) + " is longer than " +
						MAX_RECORD_CHARS + " characters (an unbalanced quote?)");
			}
			return n;
		}

		@Override
		public boolean markSupported() {
			return false;
		}
	}
}
