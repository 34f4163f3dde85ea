package org.lungnodules.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.Luna16Tables;

/**
 * The book's evaluation of one analysis against the annotations (p2ch14 {@code match_and_score}).
 * <p>
 * A detection matches a true nodule when the Euclidean distance between their world centres (mm)
 * divided by the true nodule's diameter (mm) is below 0.7. Each detection gets a class: 1 "filtered
 * out" if p_nodule &lt; threshold, else 2 "predicted benign" if p_malignant &lt; the malignancy
 * threshold (or was not scored), else 3 "predicted malignant". A true nodule with no match is a
 * "complete miss" (column 0); a matched one takes the highest class among its matches. A detection
 * that matches several nodules counts for all; unmatched detections are counted in the Non-nodule
 * row by their class. When there is no malignancy model every nodule detection is class 2, so
 * column 2 means "predicted nodule".
 * <p>
 * Truth from plain LUNA16 annotations (no malignancy) counts every nodule as benign, in the Benign
 * row; only {@link Luna16Tables.MalignancyAnnotation}s with {@code malignant} fill the Malignant row.
 */
public final class NoduleMatching {

	public static final double MATCH_RATIO = 0.7;
	public static final String[] ROWS = { "Non-nodule", "Benign", "Malignant" };
	public static final String[] COLUMNS = { "Complete miss", "Filtered out", "Predicted benign", "Predicted malignant" };

	private NoduleMatching() {}

	/** A true nodule: world centre (mm), diameter (mm) and malignancy. */
	public record Truth(double x, double y, double z, double diameterMm, boolean malignant) {
		public static Truth of(Luna16Tables.Annotation a) { return new Truth(a.x(), a.y(), a.z(), a.diameterMm(), false); }
		public static Truth of(Luna16Tables.MalignancyAnnotation a) { return new Truth(a.x(), a.y(), a.z(), a.diameterMm(), a.malignant()); }
	}

	/** A detection: world centre (mm), p_nodule, p_malignant (NaN when not scored). */
	public record Detection(double x, double y, double z, double pNodule, double pMalignant) {
		public static Detection of(Candidate c) { return new Detection(c.x(), c.y(), c.z(), c.probability(), c.pMalignant()); }
		public static Detection of(CandidatesCsv.Row r) { return new Detection(r.x(), r.y(), r.z(), r.probability(), r.pMalignant()); }
	}

	/** The 3×4 confusion: rows {@link #ROWS}, columns {@link #COLUMNS}. counts[0][0] is always 0. */
	public record Confusion(long[][] counts) {
		public Confusion {
			long[][] copy = new long[3][4];
			for (int r = 0; r < 3; r++) System.arraycopy(counts[r], 0, copy[r], 0, 4);
			counts = copy;
		}

		public static Confusion empty() { return new Confusion(new long[3][4]); }

		public long get(int row, int column) { return counts[row][column]; }

		@Override
		public long[][] counts() {
			long[][] copy = new long[3][];
			for (int r = 0; r < 3; r++) copy[r] = counts[r].clone();
			return copy;
		}

		/** Element-wise sum, for totals over many series. */
		public Confusion plus(Confusion o) {
			long[][] s = new long[3][4];
			for (int r = 0; r < 3; r++)
				for (int c = 0; c < 4; c++) s[r][c] = counts[r][c] + o.counts[r][c];
			return new Confusion(s);
		}

		/** CSV with header {@code truth,complete_miss,filtered_out,predicted_benign,predicted_malignant}. */
		public String toCsv() {
			StringBuilder sb = new StringBuilder("truth,complete_miss,filtered_out,predicted_benign,predicted_malignant\n");
			String[] keys = { "non_nodule", "benign", "malignant" };
			for (int r = 0; r < 3; r++) {
				sb.append(keys[r]);
				for (int c = 0; c < 4; c++) sb.append(',').append(counts[r][c]);
				sb.append('\n');
			}
			return sb.toString();
		}

		/**
		 * A readable table as the book prints it. Without malignancy the two "predicted" columns are
		 * merged into "Predicted nodule"; the Non-nodule "complete miss" cell is blank (not defined).
		 */
		public String toText(String title, boolean withMalignancy) {
			List<String> cols = new ArrayList<>(List.of("", COLUMNS[0], COLUMNS[1]));
			if (withMalignancy) cols.addAll(List.of(COLUMNS[2], COLUMNS[3]));
			else cols.add("Predicted nodule");
			StringBuilder sb = new StringBuilder();
			if (title != null && !title.isEmpty()) sb.append(title).append('\n');
			sb.append(line(cols));
			for (int r = 0; r < 3; r++) {
				List<String> cells = new ArrayList<>();
				cells.add(ROWS[r]);
				cells.add(r == 0 ? "" : Long.toString(counts[r][0]));
				cells.add(Long.toString(counts[r][1]));
				if (withMalignancy) {
					cells.add(Long.toString(counts[r][2]));
					cells.add(Long.toString(counts[r][3]));
				} else {
					cells.add(Long.toString(counts[r][2] + counts[r][3]));
				}
				sb.append(line(cells));
			}
			return sb.toString();
		}

		private static String line(List<String> cells) {
			StringBuilder sb = new StringBuilder();
			for (int i = 0; i < cells.size(); i++) {
				if (i > 0) sb.append(" | ");
				sb.append(String.format(Locale.ROOT, "%19s", cells.get(i)));
			}
			return sb.append('\n').toString();
		}

		/** Writes {@link #toCsv()} atomically. */
		public void writeCsv(Path file) throws IOException {
			AtomicFiles.writeString(file, toCsv());
		}

	}

	/** {@link #matchAndScore(List, List, double, double)} with the book's thresholds 0.5 and 0.5. */
	public static Confusion matchAndScore(List<Detection> detections, List<Truth> truth) {
		return matchAndScore(detections, truth, 0.5, 0.5);
	}

	/** The confusion of one series' detections against its true nodules (see the class comment). */
	public static Confusion matchAndScore(List<Detection> detections, List<Truth> truth, double threshold, double malignancyThreshold) {
		long[][] counts = new long[3][4];
		int[] detectedClass = new int[detections.size()];
		for (int i = 0; i < detectedClass.length; i++) {
			Detection d = detections.get(i);
			detectedClass[i] = d.pNodule() < threshold ? 1 : (!(d.pMalignant() >= malignancyThreshold) ? 2 : 3);
		}
		boolean[] matched = new boolean[detections.size()];
		for (Truth t : truth) {
			if (!(t.diameterMm() > 0))
				throw new IllegalArgumentException("A true nodule needs a positive diameter to be matched: " + t);
			int best = 0;
			for (int i = 0; i < detectedClass.length; i++) {
				Detection d = detections.get(i);
				double dist = Math.sqrt(sq(d.x() - t.x()) + sq(d.y() - t.y()) + sq(d.z() - t.z()));
				if (dist / t.diameterMm() < MATCH_RATIO) {
					matched[i] = true;
					best = Math.max(best, detectedClass[i]);
				}
			}
			counts[t.malignant() ? 2 : 1][best]++;
		}
		for (int i = 0; i < detectedClass.length; i++)
			if (!matched[i]) counts[0][detectedClass[i]]++;
		return new Confusion(counts);
	}

	private static double sq(double v) { return v * v; }
}
