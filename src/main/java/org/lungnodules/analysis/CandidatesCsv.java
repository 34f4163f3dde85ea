package org.lungnodules.analysis;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.TableException;

/**
 * The analysis' table of candidates, {@code <output>/<seriesuid>_candidates.csv}: one row per
 * component, highest nodule probability first. Columns start like a LUNA16 submission, so the file
 * can be scored by LUNA16's tools as it is.
 */
public final class CandidatesCsv {

	public static final String HEADER = "seriesuid,coordX,coordY,coordZ,probability,index,row,col,voxels,diameter_mm,p_malignant";
	private static final String[] COLUMNS = HEADER.split(",");
	/** Refuse absurd files before reading them: a CT has at most a few hundred thousand components. */
	private static final long MAX_ROWS = 10_000_000;

	private CandidatesCsv() {}

	/** A row of the table; {@code pMalignant} is NaN when the column is empty. */
	public record Row(String seriesUid, double x, double y, double z, double probability, double index, double row, double col,
		long voxels, double diameterMm, double pMalignant) {

		static Row of(String seriesUid, Candidate c) {
			return new Row(seriesUid, c.x(), c.y(), c.z(), c.probability(), c.index(), c.row(), c.col(), c.voxels(), c.diameterMm(),
				c.pMalignant());
		}
	}

	/** The table's file name for a series: the UID with characters unsafe in file names replaced by '_'. */
	public static String fileName(String seriesUid) {
		String safe = seriesUid == null || seriesUid.isBlank() ? "unnamed" : seriesUid.replaceAll("[^A-Za-z0-9._-]", "_");
		if (safe.startsWith(".")) safe = "_" + safe.substring(1); // no hidden files, no ".."
		return safe + "_candidates.csv";
	}

	/** Writes the result's table into {@code outputDir} (created if needed); returns the file. */
	public static Path write(Path outputDir, AnalysisResult result) throws IOException {
		Path file = outputDir.resolve(fileName(result.seriesUid()));
		List<Row> rows = new ArrayList<>();
		for (Candidate c : result.byProbability()) rows.add(Row.of(result.seriesUid(), c));
		write(file, rows);
		return file;
	}

	/** Writes rows as given (callers sort), atomically: a temp file in the same folder moved over the target. */
	public static void write(Path file, List<Row> rows) throws IOException {
		AtomicFiles.writeText(file, w -> {
			CSVPrinter out = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setRecordSeparator("\n").get());
			out.printRecord((Object[]) COLUMNS);
			for (Row r : rows)
				out.printRecord(r.seriesUid(), num(file, r.x()), num(file, r.y()), num(file, r.z()), num(file, r.probability()),
					num(file, r.index()), num(file, r.row()), num(file, r.col()), r.voxels(), num(file, r.diameterMm()),
					Double.isNaN(r.pMalignant()) ? "" : num(file, r.pMalignant()));
			out.flush();
		});
	}

	/** Shortest decimal that reads back to the same double. */
	private static String num(Path file, double v) {
		if (!Double.isFinite(v)) throw new IllegalArgumentException("Cannot write " + v + " to " + file);
		return Double.toString(v);
	}

	/**
	 * Reads a table written by {@link #write}; columns are found by name, so extra columns are ignored.
	 *
	 * @throws TableException naming the file and line for a missing column or a bad value
	 */
	public static List<Row> read(Path file) throws IOException {
		List<Row> rows = new ArrayList<>();
		CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get();
		try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8); CSVParser parser = CSVParser.builder().setReader(r).setFormat(format).get()) {
			for (String column : COLUMNS)
				if (!parser.getHeaderMap().containsKey(column))
					throw new TableException(file, 1, "no column '" + column + "' (a candidates table has " + HEADER + ")");
			for (CSVRecord rec : parser) {
				long line = rec.getRecordNumber() + 1;
				if (rows.size() >= MAX_ROWS) throw new TableException(file, line, "more than " + MAX_ROWS + " rows");
				if (!rec.isConsistent()) throw new TableException(file, line, "expected " + parser.getHeaderMap().size() + " fields, found " + rec.size());
				String pm = rec.get("p_malignant").trim();
				rows.add(new Row(rec.get("seriesuid"), d(file, line, rec, "coordX"), d(file, line, rec, "coordY"), d(file, line, rec, "coordZ"),
					d(file, line, rec, "probability"), d(file, line, rec, "index"), d(file, line, rec, "row"), d(file, line, rec, "col"),
					(long) d(file, line, rec, "voxels"), d(file, line, rec, "diameter_mm"), pm.isEmpty() ? Double.NaN : d(file, line, rec, "p_malignant")));
			}
		} catch (java.io.UncheckedIOException | IllegalStateException e) {
			throw new TableException(file, 0, "unreadable CSV: " + e.getMessage(), e);
		}
		return rows;
	}

	private static double d(Path file, long line, CSVRecord rec, String column) throws TableException {
		String s = rec.get(column).trim();
		try {
			double v = Double.parseDouble(s);
			if (!Double.isFinite(v)) throw new NumberFormatException();
			return v;
		} catch (NumberFormatException e) {
			throw new TableException(file, line, "column " + column + " holds '" + s + "', not a finite number");
		}
	}
}
