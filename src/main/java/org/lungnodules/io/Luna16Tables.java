package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Readers and writers for the LUNA16 tables and the book's malignancy table.
 * <p>
 * API contract (other packages code against these record and method names; the implementation
 * fills them in and may add more): annotations, candidates, excluded findings and malignancy rows,
 * grouped by series, plus the merged candidate list the book trains on.
 * <p>
 * Columns are found by header name, in any order; extra columns are ignored. Every problem with a
 * file is a {@link TableException} naming the file and, for row problems, the line (header = line
 * 1). Files are streamed row by row. Writers replace their target atomically.
 */
public final class Luna16Tables {

	private Luna16Tables() {}

	/** A row of annotations.csv / annotations_excluded.csv. Coordinates in mm. */
	public record Annotation(String seriesUid, double x, double y, double z, double diameterMm) {}

	/** A row of candidates.csv / candidates_V2.csv. */
	public record Candidate(String seriesUid, double x, double y, double z, boolean isNodule) {}

	/**
	 * A row of the book's annotations_with_malignancy.csv (bounding box in mm).
	 * {@code ratings} are the LIDC readers' malignancy ratings (1..5), the file's mal_details;
	 * {@code malignant} is the file's mal_bool (at least two ratings ≥ 4 in the book's file).
	 * Arrays are copied in and out, and take part in equals/hashCode.
	 */
	public record MalignancyAnnotation(String seriesUid, double x, double y, double z, double diameterMm,
		boolean malignant, double[] bboxLow, double[] bboxHigh, int[] ratings) {

		public MalignancyAnnotation {
			if (bboxLow.length != 3 || bboxHigh.length != 3)
				throw new IllegalArgumentException("A bounding box corner needs 3 coordinates (x, y, z)");
			bboxLow = bboxLow.clone();
			bboxHigh = bboxHigh.clone();
			ratings = ratings == null ? new int[0] : ratings.clone();
		}

		/** Without reader ratings (written as "[]"). */
		public MalignancyAnnotation(String seriesUid, double x, double y, double z, double diameterMm,
			boolean malignant, double[] bboxLow, double[] bboxHigh) {
			this(seriesUid, x, y, z, diameterMm, malignant, bboxLow, bboxHigh, new int[0]);
		}

		@Override
		public double[] bboxLow() { return bboxLow.clone(); }

		@Override
		public double[] bboxHigh() { return bboxHigh.clone(); }

		@Override
		public int[] ratings() { return ratings.clone(); }

		@Override
		public boolean equals(Object o) {
			return o instanceof MalignancyAnnotation m && seriesUid.equals(m.seriesUid) &&
				Double.compare(x, m.x) == 0 && Double.compare(y, m.y) == 0 && Double.compare(z, m.z) == 0 &&
				Double.compare(diameterMm, m.diameterMm) == 0 && malignant == m.malignant &&
				Arrays.equals(bboxLow, m.bboxLow) && Arrays.equals(bboxHigh, m.bboxHigh) && Arrays.equals(ratings, m.ratings);
		}

		@Override
		public int hashCode() {
			return Objects.hash(seriesUid, x, y, z, diameterMm, malignant, Arrays.hashCode(bboxLow),
				Arrays.hashCode(bboxHigh), Arrays.hashCode(ratings));
		}

		@Override
		public String toString() {
			return "MalignancyAnnotation[" + seriesUid + ", (" + x + ", " + y + ", " + z + "), " + diameterMm + " mm, " +
				(malignant ? "malignant" : "benign") + ", box " + Arrays.toString(bboxLow) + ".." + Arrays.toString(bboxHigh) +
				", ratings " + Arrays.toString(ratings) + "]";
		}
	}

	/** The merged list the book trains on: one entry per candidate or annotated nodule. */
	public record CandidateInfo(boolean isNodule, boolean hasAnnotation, boolean isMalignant, double diameterMm,
		String seriesUid, double x, double y, double z) {}

	/** A row of a LUNA16 submission or of our results: a scored finding (probability, or any score). */
	public record Mark(String seriesUid, double x, double y, double z, double probability) {}

	// ---------------------------------------------------------------- column names

	static final String SERIES = "seriesuid", X = "coordX", Y = "coordY", Z = "coordZ", DIAMETER = "diameter_mm",
		CLASS = "class", PROBABILITY = "probability", MAL_BOOL = "mal_bool", MAL_DETAILS = "mal_details",
		MAL_COUNT = "len_mal_details";
	static final String[] BBOX_LOW = { "bboxLowX", "bboxLowY", "bboxLowZ" };
	static final String[] BBOX_HIGH = { "bboxHighX", "bboxHighY", "bboxHighZ" };

	// ---------------------------------------------------------------- readers

	/** annotations.csv: seriesuid, coordX, coordY, coordZ, diameter_mm (≥ 0). */
	public static List<Annotation> readAnnotations(Path csv) throws IOException {
		return readAnnotations(csv, false);
	}

	/**
	 * annotations_excluded.csv: the findings LUNA16's evaluation ignores. Same columns as
	 * annotations.csv, but the diameter may be -1 (unknown).
	 */
	public static List<Annotation> readExcludedAnnotations(Path csv) throws IOException {
		return readAnnotations(csv, true);
	}

	private static List<Annotation> readAnnotations(Path csv, boolean minusOneAllowed) throws IOException {
		List<Annotation> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int uid = t.column(SERIES), x = t.column(X), y = t.column(Y), z = t.column(Z), d = t.column(DIAMETER);
			for (CsvTable.Row r = t.next(); r != null; r = t.next()) {
				double diameter = r.finite(d);
				if (diameter < 0 && !(minusOneAllowed && diameter == -1))
					throw r.error(DIAMETER + " is negative: " + diameter + (minusOneAllowed ? " (only -1, unknown, is allowed)" : ""));
				out.add(new Annotation(r.seriesUid(uid), r.finite(x), r.finite(y), r.finite(z), diameter));
			}
		}
		return out;
	}

	/** candidates.csv / candidates_V2.csv: seriesuid, coordX, coordY, coordZ, class (0 or 1). */
	public static List<Candidate> readCandidates(Path csv) throws IOException {
		return readCandidates(csv, c -> true);
	}

	/**
	 * Streams candidates.csv keeping only the rows {@code keep} accepts, so that a caller who needs
	 * a small part of the 550,000–750,000 rows does not hold them all.
	 */
	public static List<Candidate> readCandidates(Path csv, Predicate<Candidate> keep) throws IOException {
		List<Candidate> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int uid = t.column(SERIES), x = t.column(X), y = t.column(Y), z = t.column(Z), cls = t.column(CLASS);
			for (CsvTable.Row r = t.next(); r != null; r = t.next()) {
				String c = r.text(cls);
				boolean nodule;
				if (c.equals("1")) nodule = true;
				else if (c.equals("0")) nodule = false;
				else throw r.error(CLASS + " must be 0 or 1, not '" + c + "'");
				Candidate candidate = new Candidate(r.seriesUid(uid), r.finite(x), r.finite(y), r.finite(z), nodule);
				if (keep.test(candidate)) out.add(candidate);
			}
		}
		return out;
	}

	/**
	 * The book's annotations_with_malignancy.csv: seriesuid, coordX, coordY, coordZ, diameter_mm,
	 * mal_bool (True/False), bboxLowX..bboxHighZ, and optionally mal_details ("[4, 2, 4, 2]") and
	 * len_mal_details (checked against mal_details when both are present).
	 */
	public static List<MalignancyAnnotation> readMalignancy(Path csv) throws IOException {
		List<MalignancyAnnotation> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int uid = t.column(SERIES), x = t.column(X), y = t.column(Y), z = t.column(Z), d = t.column(DIAMETER);
			int mal = t.column(MAL_BOOL);
			int details = t.optionalColumn(MAL_DETAILS), count = t.optionalColumn(MAL_COUNT);
			int[] low = new int[3], high = new int[3];
			for (int a = 0; a < 3; a++) {
				low[a] = t.column(BBOX_LOW[a]);
				high[a] = t.column(BBOX_HIGH[a]);
			}
			for (CsvTable.Row r = t.next(); r != null; r = t.next()) {
				double diameter = r.finite(d);
				if (diameter < 0) throw r.error(DIAMETER + " is negative: " + diameter);
				double[] boxLow = new double[3], boxHigh = new double[3];
				for (int a = 0; a < 3; a++) {
					boxLow[a] = r.finite(low[a]);
					boxHigh[a] = r.finite(high[a]);
				}
				int[] ratings = details >= 0 ? r.intList(details) : new int[0];
				if (details >= 0 && count >= 0 && r.integer(count) != ratings.length)
					throw r.error(MAL_COUNT + " is " + r.integer(count) + " but " + MAL_DETAILS + " lists " + ratings.length + " ratings");
				out.add(new MalignancyAnnotation(r.seriesUid(uid), r.finite(x), r.finite(y), r.finite(z), diameter,
					r.bool(mal), boxLow, boxHigh, ratings));
			}
		}
		return out;
	}

	/**
	 * An annotations table of one's own cohort: LUNA16's columns, plus optionally the book's mal_bool
	 * (and mal_details, and the bounding box) as in annotations_with_malignancy.csv. Returns null
	 * when the table has no mal_bool column (then it is a plain annotations.csv, see
	 * {@link #readAnnotations}). A missing bounding box becomes the cube of the diameter around the centre.
	 */
	public static List<MalignancyAnnotation> readAnnotationsWithOptionalMalignancy(Path csv) throws IOException {
		List<MalignancyAnnotation> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int mal = t.optionalColumn(MAL_BOOL);
			if (mal < 0) return null;
			int uid = t.column(SERIES), x = t.column(X), y = t.column(Y), z = t.column(Z), d = t.column(DIAMETER);
			int details = t.optionalColumn(MAL_DETAILS);
			int[] low = new int[3], high = new int[3];
			boolean box = true;
			for (int a = 0; a < 3; a++) {
				low[a] = t.optionalColumn(BBOX_LOW[a]);
				high[a] = t.optionalColumn(BBOX_HIGH[a]);
				box &= low[a] >= 0 && high[a] >= 0;
			}
			for (CsvTable.Row r = t.next(); r != null; r = t.next()) {
				double diameter = r.finite(d);
				if (diameter < 0) throw r.error(DIAMETER + " is negative: " + diameter);
				double[] c = { r.finite(x), r.finite(y), r.finite(z) };
				double[] boxLow = new double[3], boxHigh = new double[3];
				for (int a = 0; a < 3; a++) {
					boxLow[a] = box ? r.finite(low[a]) : c[a] - diameter / 2;
					boxHigh[a] = box ? r.finite(high[a]) : c[a] + diameter / 2;
				}
				int[] ratings = details >= 0 ? r.intList(details) : new int[0];
				out.add(new MalignancyAnnotation(r.seriesUid(uid), c[0], c[1], c[2], diameter, r.bool(mal), boxLow, boxHigh, ratings));
			}
		}
		return out;
	}

	/**
	 * A LUNA16 submission or our results table: seriesuid, coordX, coordY, coordZ, probability;
	 * other columns are ignored. The probability must be finite but is not limited to [0, 1], since
	 * LUNA16's FROC only ranks the scores.
	 */
	public static List<Mark> readResults(Path csv) throws IOException {
		List<Mark> out = new ArrayList<>();
		try (CsvTable t = CsvTable.open(csv)) {
			int uid = t.column(SERIES), x = t.column(X), y = t.column(Y), z = t.column(Z), p = t.column(PROBABILITY);
			for (CsvTable.Row r = t.next(); r != null; r = t.next())
				out.add(new Mark(r.seriesUid(uid), r.finite(x), r.finite(y), r.finite(z), r.finite(p)));
		}
		return out;
	}

	// ---------------------------------------------------------------- grouping and merging

	/** Groups rows by series, series in first-seen order and rows in list order within a series. */
	public static <T> Map<String, List<T>> bySeries(List<T> rows, Function<T, String> seriesUid) {
		Map<String, List<T>> out = new LinkedHashMap<>();
		for (T row : rows)
			out.computeIfAbsent(seriesUid.apply(row), k -> new ArrayList<>()).add(row);
		return out;
	}

	/**
	 * The book's candidate list (p2ch14 getCandidateInfoList): every annotated nodule of the
	 * malignancy table (nodule, annotated, malignant as mal_bool, its diameter) plus every class-0
	 * row of candidates.csv (not nodule, not annotated, benign, diameter 0); the class-1 candidate
	 * rows are dropped because the annotations describe the same nodules better. Sorted as the
	 * book sorts, see {@link #BOOK_ORDER}.
	 *
	 * @param onDisk if not null, keep only entries of these series (the CTs actually present). The
	 *        book filters only the candidates, because its malignancy table was built from CTs on
	 *        disk; we filter both so that no entry points at a missing CT.
	 */
	public static List<CandidateInfo> candidateInfoList(List<MalignancyAnnotation> nodules, List<Candidate> candidates,
		Set<String> onDisk) {
		List<CandidateInfo> out = new ArrayList<>();
		for (MalignancyAnnotation m : nodules)
			if (onDisk == null || onDisk.contains(m.seriesUid()))
				out.add(new CandidateInfo(true, true, m.malignant(), m.diameterMm(), m.seriesUid(), m.x(), m.y(), m.z()));
		addNegatives(out, candidates, onDisk);
		out.sort(BOOK_ORDER);
		return out;
	}

	/**
	 * Like {@link #candidateInfoList} for datasets without the malignancy table: the nodules come
	 * from annotations.csv and all count as benign.
	 */
	public static List<CandidateInfo> candidateInfoListWithoutMalignancy(List<Annotation> nodules,
		List<Candidate> candidates, Set<String> onDisk) {
		List<CandidateInfo> out = new ArrayList<>();
		for (Annotation a : nodules)
			if (onDisk == null || onDisk.contains(a.seriesUid()))
				out.add(new CandidateInfo(true, true, false, a.diameterMm(), a.seriesUid(), a.x(), a.y(), a.z()));
		addNegatives(out, candidates, onDisk);
		out.sort(BOOK_ORDER);
		return out;
	}

	/**
	 * Reads and merges in one go. {@code malignancyOrAnnotationsCsv} is read as the malignancy
	 * table if it has a mal_bool column, else as annotations.csv. Only the class-0 candidates are
	 * kept in memory.
	 */
	public static List<CandidateInfo> readCandidateInfoList(Path malignancyOrAnnotationsCsv, Path candidatesCsv,
		Set<String> onDisk) throws IOException {
		boolean hasMalignancy;
		try (CsvTable t = CsvTable.open(malignancyOrAnnotationsCsv)) {
			hasMalignancy = t.optionalColumn(MAL_BOOL) >= 0;
		}
		List<Candidate> negatives = readCandidates(candidatesCsv,
			c -> !c.isNodule() && (onDisk == null || onDisk.contains(c.seriesUid())));
		return hasMalignancy
			? candidateInfoList(readMalignancy(malignancyOrAnnotationsCsv), negatives, onDisk)
			: candidateInfoListWithoutMalignancy(readAnnotations(malignancyOrAnnotationsCsv), negatives, onDisk);
	}

	private static void addNegatives(List<CandidateInfo> out, List<Candidate> candidates, Set<String> onDisk) {
		for (Candidate c : candidates)
			if (!c.isNodule() && (onDisk == null || onDisk.contains(c.seriesUid())))
				out.add(new CandidateInfo(false, false, false, 0.0, c.seriesUid(), c.x(), c.y(), c.z()));
	}

	/**
	 * The book's order: Python's {@code sort(reverse=True)} on the tuple (isNodule, hasAnnotation,
	 * isMalignant, diameter, series, (x, y, z)), i.e. descending on each field in turn, True
	 * before False. Python's sort is stable also when reversed, and so is List.sort, so ties keep
	 * their input order. Numbers compare with {@code <} (as Python does: -0.0 equals 0.0), series
	 * by UTF-16 code units (the same as Python's code points for the ASCII UIDs of LUNA16).
	 */
	public static final Comparator<CandidateInfo> BOOK_ORDER = (a, b) -> {
		int c;
		if ((c = Boolean.compare(b.isNodule(), a.isNodule())) != 0) return c;
		if ((c = Boolean.compare(b.hasAnnotation(), a.hasAnnotation())) != 0) return c;
		if ((c = Boolean.compare(b.isMalignant(), a.isMalignant())) != 0) return c;
		if ((c = descending(a.diameterMm(), b.diameterMm())) != 0) return c;
		if ((c = b.seriesUid().compareTo(a.seriesUid())) != 0) return c;
		if ((c = descending(a.x(), b.x())) != 0) return c;
		if ((c = descending(a.y(), b.y())) != 0) return c;
		return descending(a.z(), b.z());
	};

	private static int descending(double a, double b) {
		return a > b ? -1 : (a < b ? 1 : 0);
	}

	// ---------------------------------------------------------------- writers

	/** Writes annotations.csv (also annotations_excluded.csv, whose diameter may be -1). */
	public static void writeAnnotations(Path csv, Collection<Annotation> rows) throws IOException {
		List<Object[]> out = new ArrayList<>(rows.size());
		for (Annotation a : rows)
			out.add(new Object[] { uid(csv, a.seriesUid()), num(csv, a.x()), num(csv, a.y()), num(csv, a.z()),
				num(csv, a.diameterMm()) });
		writeAtomically(csv, new String[] { SERIES, X, Y, Z, DIAMETER }, out);
	}

	/** Writes candidates.csv (class 1 for nodules, 0 otherwise). */
	public static void writeCandidates(Path csv, Collection<Candidate> rows) throws IOException {
		List<Object[]> out = new ArrayList<>(rows.size());
		for (Candidate c : rows)
			out.add(new Object[] { uid(csv, c.seriesUid()), num(csv, c.x()), num(csv, c.y()), num(csv, c.z()),
				c.isNodule() ? "1" : "0" });
		writeAtomically(csv, new String[] { SERIES, X, Y, Z, CLASS }, out);
	}

	/** Writes the book's annotations_with_malignancy.csv layout, columns in the book's order. */
	public static void writeMalignancy(Path csv, Collection<MalignancyAnnotation> rows) throws IOException {
		List<Object[]> out = new ArrayList<>(rows.size());
		for (MalignancyAnnotation m : rows) {
			double[] lo = m.bboxLow(), hi = m.bboxHigh();
			int[] ratings = m.ratings();
			StringBuilder details = new StringBuilder("[");
			for (int i = 0; i < ratings.length; i++)
				details.append(i > 0 ? ", " : "").append(ratings[i]);
			details.append(']');
			out.add(new Object[] { uid(csv, m.seriesUid()), num(csv, m.x()), num(csv, m.y()), num(csv, m.z()),
				num(csv, m.diameterMm()), m.malignant() ? "True" : "False", details.toString(),
				num(csv, lo[0]), num(csv, lo[1]), num(csv, lo[2]), num(csv, hi[0]), num(csv, hi[1]), num(csv, hi[2]),
				Integer.toString(ratings.length) });
		}
		String[] header = { SERIES, X, Y, Z, DIAMETER, MAL_BOOL, MAL_DETAILS, BBOX_LOW[0], BBOX_LOW[1], BBOX_LOW[2],
			BBOX_HIGH[0], BBOX_HIGH[1], BBOX_HIGH[2], MAL_COUNT };
		writeAtomically(csv, header, out);
	}

	/** Writes a LUNA16 submission: seriesuid, coordX, coordY, coordZ, probability. */
	public static void writeResults(Path csv, Collection<Mark> rows) throws IOException {
		List<Object[]> out = new ArrayList<>(rows.size());
		for (Mark m : rows)
			out.add(new Object[] { uid(csv, m.seriesUid()), num(csv, m.x()), num(csv, m.y()), num(csv, m.z()),
				num(csv, m.probability()) });
		writeAtomically(csv, new String[] { SERIES, X, Y, Z, PROBABILITY }, out);
	}

	/** Java's shortest-exact decimal form, which Python's float() and our reader parse back bit for bit. */
	private static String num(Path csv, double v) {
		if (!Double.isFinite(v))
			throw new IllegalArgumentException("Cannot write " + v + " to " + csv + ": tables hold finite numbers only");
		return Double.toString(v);
	}

	private static String uid(Path csv, String uid) {
		if (uid == null || uid.isBlank())
			throw new IllegalArgumentException("Cannot write an empty series UID to " + csv);
		return uid;
	}

	/**
	 * Writes a temp file next to the target and moves it over the target, so readers never see a
	 * half-written table and a failed write leaves the old file intact. Lines end with '\n', as
	 * pandas writes them; fields are quoted only when needed.
	 */
	private static void writeAtomically(Path csv, String[] header, List<Object[]> rows) throws IOException {
		CSVFormat format = CSVFormat.DEFAULT.builder().setRecordSeparator("\n").get();
		AtomicFiles.writeText(csv, w -> {
			CSVPrinter printer = new CSVPrinter(w, format);
			printer.printRecord((Object[]) header);
			for (Object[] row : rows)
				printer.printRecord(row);
			printer.flush();
		});
	}
}
