package org.lungnodules.training;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code metrics.csv} of a run: one row per epoch and split, columns {@code epoch,split,<metric>…}.
 * Each update rewrites the whole (small) file through a temporary file and an atomic move, so a
 * killed run never leaves half a line; a new metric name widens the header.
 */
public final class MetricsCsv {

	private final Path file;

	public MetricsCsv(Path file) {
		this.file = file;
	}

	public Path file() { return file; }

	/** Appends a row. */
	public synchronized void append(Metrics.Result r) throws IOException {
		List<Map<String, String>> rows = read();
		Map<String, String> row = new java.util.LinkedHashMap<>();
		row.put("epoch", Integer.toString(r.epoch()));
		row.put("split", r.split());
		for (Map.Entry<String, Double> e : r.values().entrySet()) row.put(e.getKey(), format(e.getValue()));
		rows.add(row);
		write(rows);
	}

	/** Drops rows of epochs after {@code epoch}: a resumed run redoes them. */
	public synchronized void truncateAfter(int epoch) throws IOException {
		if (!Files.exists(file)) return;
		List<Map<String, String>> rows = read();
		rows.removeIf(row -> Integer.parseInt(row.get("epoch")) > epoch);
		write(rows);
	}

	/** The rows as column → text, in file order. */
	public synchronized List<Map<String, String>> read() throws IOException {
		List<Map<String, String>> rows = new ArrayList<>();
		if (!Files.exists(file)) return rows;
		List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
		if (lines.isEmpty()) return rows;
		String[] header = lines.get(0).split(",", -1);
		for (int i = 1; i < lines.size(); i++) {
			if (lines.get(i).isEmpty()) continue;
			String[] cells = lines.get(i).split(",", -1);
			if (cells.length != header.length)
				throw new IOException(file + ": line " + (i + 1) + " has " + cells.length + " cells, the header " + header.length);
			Map<String, String> row = new java.util.LinkedHashMap<>();
			for (int c = 0; c < header.length; c++) row.put(header[c], cells[c]);
			try {
				Integer.parseInt(row.get("epoch"));
			} catch (NumberFormatException | NullPointerException e) {
				throw new IOException(file + ": line " + (i + 1) + " has no integer epoch");
			}
			rows.add(row);
		}
		return rows;
	}

	private void write(List<Map<String, String>> rows) throws IOException {
		Set<String> columns = new LinkedHashSet<>(List.of("epoch", "split"));
		for (Map<String, String> row : rows) columns.addAll(row.keySet());
		StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
		for (Map<String, String> row : rows) {
			List<String> cells = new ArrayList<>();
			for (String c : columns) cells.add(row.getOrDefault(c, ""));
			sb.append(String.join(",", cells)).append('\n');
		}
		Path dir = file.toAbsolutePath().getParent();
		Files.createDirectories(dir);
		Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
		try {
			Files.writeString(tmp, sb, StandardCharsets.UTF_8);
			Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		} finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static String format(double v) {
		return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.6g", v);
	}
}
