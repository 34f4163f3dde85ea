package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.lungnodules.io.Luna16Tables.Mark;

/**
 * Reads marks whose score lives in a column other than LUNA16's {@code probability}, such as the
 * {@code p_malignant} column of our candidates tables. Same rules as
 * {@link Luna16Tables#readResults}: columns by name, extra columns ignored, finite numbers only,
 * every problem a {@link TableException} naming the file and line.
 */
public final class ScoredMarks {

	private ScoredMarks() {}

	/** Marks (seriesuid, coordX, coordY, coordZ) scored by {@code scoreColumn}, in file order; rows with an empty score are skipped. */
	public static List<Mark> read(Path csv, String scoreColumn) throws IOException {
		List<Mark> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int uid = t.column(Luna16Tables.SERIES), x = t.column(Luna16Tables.X), y = t.column(Luna16Tables.Y),
				z = t.column(Luna16Tables.Z), score = t.column(scoreColumn);
			for (CsvTable.Row r = t.next(); r != null; r = t.next()) {
				// An empty score means "not scored" (our candidates tables leave p_malignant empty below
				// the nodule threshold): such rows are not marks for this score.
				String cell = r.text(score);
				if (cell == null || cell.isBlank()) continue;
				out.add(new Mark(r.seriesUid(uid), r.finite(x), r.finite(y), r.finite(z), r.finite(score)));
			}
		}
		return out;
	}
}
