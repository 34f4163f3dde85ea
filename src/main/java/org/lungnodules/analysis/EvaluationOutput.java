package org.lungnodules.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.io.AtomicFiles;

/**
 * Writes an evaluation's files into an output folder and returns the one-page text report.
 * <p>
 * FROC: report.txt, summary.json, froc.csv (the curve's points), froc_bootstrap.csv (the band) and
 * froc.png. Malignancy: report.txt, summary.json, roc.csv (both curves), malignancy_scores.csv
 * (each scored nodule) and roc.png. Every file is written to a temp file in the folder and moved
 * over the target, so a reader never sees half a file.
 */
public final class EvaluationOutput {

	private EvaluationOutput() {}

	/**
	 * What was evaluated, for the report and summary.json.
	 *
	 * @param excluded   null when no excluded findings were given
	 * @param scanChoice how the scans were chosen, in words
	 */
	public record Inputs(List<Path> results, Path annotations, Path excluded, String scanChoice) {}

	public static final String REPORT = "report.txt", SUMMARY = "summary.json", FROC_CSV = "froc.csv",
		BAND_CSV = "froc_bootstrap.csv", FROC_PNG = "froc.png", ROC_CSV = "roc.csv", ROC_PNG = "roc.png",
		SCORES_CSV = "malignancy_scores.csv";

	// ---------------------------------------------------------------- FROC

	public static String writeFroc(Path folder, FrocEvaluation.Result r, Inputs in) throws IOException {
		Files.createDirectories(folder);
		String report = frocReport(r, in);
		writeText(folder.resolve(FROC_CSV), frocCsv(r.curve()));
		if (r.bootstrap() != null) writeText(folder.resolve(BAND_CSV), bandCsv(r));
		writeAtomically(folder.resolve(FROC_PNG), Plots.png(Plots.froc(r, "FROC performance: " + name(in))));
		writeText(folder.resolve(SUMMARY), Json.write(frocSummary(r, in)) + "\n");
		writeText(folder.resolve(REPORT), report);
		return report;
	}

	public static String frocReport(FrocEvaluation.Result r, Inputs in) {
		FrocEvaluation.Counts n = r.counts();
		FrocEvaluation.Bootstrap b = r.bootstrap();
		StringBuilder s = new StringBuilder();
		s.append("LUNA16 FROC evaluation (the protocol of noduleCADEvaluationLUNA16.py)\n");
		s.append(String.format(Locale.ROOT, "Results:      %s%n", names(in.results())));
		s.append(String.format(Locale.ROOT, "Annotations:  %s; excluded findings: %s%n", in.annotations().getFileName(),
			in.excluded() == null ? "none given" : in.excluded().getFileName()));
		s.append(String.format(Locale.ROOT, "Scans:        %d (%s)%n%n", n.scans(), in.scanChoice()));
		s.append("Candidate detection\n");
		line(s, "Nodules", n.nodules(), "");
		line(s, "True positives (nodules hit)", n.truePositives(), "");
		line(s, "False negatives (missed)", n.falseNegatives(), "");
		line(s, "False positives", n.falsePositives(), String.format(Locale.ROOT, "%.3f per scan",
			(double) n.falsePositives() / n.scans()));
		line(s, "Marks evaluated", n.candidates(), String.format(Locale.ROOT, "%.3f per scan", n.candidatesPerScan()));
		line(s, "Dropped by the 100-per-scan cap", n.cappedMarks(), "");
		line(s, "On excluded findings (ignored)", n.excludedHits(), "");
		line(s, "Double detections (ignored)", n.doubleDetections(), "");
		line(s, "On series not evaluated (ignored)", n.ignoredMarks(), "");
		s.append(String.format(Locale.ROOT, "  %-34s %.4f%n%n", "Sensitivity with all marks", (double) n.truePositives() / n.nodules()));
		s.append("FROC: sensitivity at average false positives per scan\n");
		if (b != null)
			s.append(String.format(Locale.ROOT, "(%d%% CI: bootstrap over scans, %d resamples, seed %d%s)%n",
				Math.round(b.confidence() * 100), b.samples(), b.seed(),
				b.usable() < b.samples() ? ", " + b.usable() + " with nodules" : ""));
		s.append(String.format(Locale.ROOT, "  %-10s %-12s %s%n", "FPs/scan", "sensitivity", b != null ? "95% CI" : ""));
		for (int i = 0; i < FrocEvaluation.FP_LEVELS.length; i++)
			s.append(String.format(Locale.ROOT, "  %-10s %-12.4f %s%n", FrocEvaluation.FP_LEVEL_NAMES.get(i), r.sensitivity()[i],
				b != null ? interval(b.lowAt(i), b.highAt(i)) : ""));
		s.append(String.format(Locale.ROOT, "  %-10s %-12.4f %s%n%n", "CPM", r.cpm(), b != null ? interval(b.cpmLow(), b.cpmHigh()) : ""));
		s.append("Files: ").append(SUMMARY).append(", ").append(FROC_CSV).append(b != null ? ", " + BAND_CSV : "")
			.append(", ").append(FROC_PNG).append('\n');
		return s.toString();
	}

	static Map<String, Object> frocSummary(FrocEvaluation.Result r, Inputs in) {
		FrocEvaluation.Counts n = r.counts();
		FrocEvaluation.Bootstrap b = r.bootstrap();
		Map<String, Object> m = new LinkedHashMap<>();
		m.put("mode", "froc");
		m.put("cpm", r.cpm());
		m.put("cpm_ci", b == null ? null : List.of(b.cpmLow(), b.cpmHigh()));
		Map<String, Object> sens = new LinkedHashMap<>(), ci = new LinkedHashMap<>();
		for (int i = 0; i < FrocEvaluation.FP_LEVELS.length; i++) {
			sens.put(FrocEvaluation.FP_LEVEL_NAMES.get(i), r.sensitivity()[i]);
			if (b != null) ci.put(FrocEvaluation.FP_LEVEL_NAMES.get(i), List.of(b.lowAt(i), b.highAt(i)));
		}
		m.put("sensitivity", sens);
		m.put("sensitivity_ci", b == null ? null : ci);
		m.put("tp", n.truePositives());
		m.put("fp", n.falsePositives());
		m.put("fn", n.falseNegatives());
		m.put("nodules", n.nodules());
		m.put("scans", n.scans());
		m.put("candidates", n.candidates());
		m.put("candidates_per_scan", n.candidatesPerScan());
		m.put("excluded_hits", n.excludedHits());
		m.put("double_detections", n.doubleDetections());
		m.put("capped_marks", n.cappedMarks());
		m.put("ignored_marks", n.ignoredMarks());
		m.put("bootstrap", b == null ? 0 : b.samples());
		m.put("bootstrap_usable", b == null ? 0 : b.usable());
		m.put("seed", b == null ? null : b.seed());
		m.put("confidence", FrocEvaluation.CONFIDENCE);
		m.put("results", paths(in.results()));
		m.put("annotations", in.annotations().toString());
		m.put("excluded", in.excluded() == null ? null : in.excluded().toString());
		m.put("scan_choice", in.scanChoice());
		return m;
	}

	static String frocCsv(FrocCurve c) {
		StringBuilder s = new StringBuilder("threshold,fps_per_scan,sensitivity\n");
		double[] t = c.thresholds(), x = c.fps(), y = c.sensitivity();
		for (int i = 0; i < t.length; i++)
			s.append(Double.isInfinite(t[i]) ? "inf" : Double.toString(t[i])).append(',').append(x[i]).append(',').append(y[i]).append('\n');
		return s.toString();
	}

	static String bandCsv(FrocEvaluation.Result r) {
		FrocEvaluation.Bootstrap b = r.bootstrap();
		StringBuilder s = new StringBuilder("fps_per_scan,sensitivity,bootstrap_mean,bootstrap_low,bootstrap_high\n");
		double[] l = b.levels(), mean = b.mean(), low = b.low(), high = b.high();
		for (int i = 0; i < l.length; i++)
			s.append(l[i]).append(',').append(r.curve().sensitivityAt(l[i])).append(',').append(csvNumber(mean[i])).append(',')
				.append(csvNumber(low[i])).append(',').append(csvNumber(high[i])).append('\n');
		return s.toString();
	}

	// ---------------------------------------------------------------- malignancy

	public static String writeMalignancy(Path folder, MalignancyEvaluation.Result r, Inputs in, String scoreColumn) throws IOException {
		Files.createDirectories(folder);
		String report = malignancyReport(r, in, scoreColumn);
		StringBuilder roc = new StringBuilder("score,threshold,fpr,tpr\n");
		appendRoc(roc, scoreColumn, r.model());
		appendRoc(roc, "diameter_mm", r.diameter());
		writeText(folder.resolve(ROC_CSV), roc.toString());
		StringBuilder scores = new StringBuilder("seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool," + scoreColumn + ",distance_mm\n");
		for (MalignancyEvaluation.Scored sc : r.scored()) {
			var a = sc.nodule();
			scores.append(csvField(a.seriesUid())).append(',').append(a.x()).append(',').append(a.y()).append(',').append(a.z())
				.append(',').append(a.diameterMm()).append(',').append(a.malignant() ? "True" : "False").append(',')
				.append(sc.mark().probability()).append(',').append(sc.distanceMm()).append('\n');
		}
		writeText(folder.resolve(SCORES_CSV), scores.toString());
		List<Plots.RocLine> lines = List.of(
			new Plots.RocLine(aucLabel(scoreColumn, r.modelInterval()), r.model()),
			new Plots.RocLine(aucLabel("Diameter only", r.diameterInterval()), r.diameter()));
		writeAtomically(folder.resolve(ROC_PNG), Plots.png(Plots.roc("Malignancy ROC: " + name(in) + " (" + r.scored().size() +
			" nodules)", lines)));
		writeText(folder.resolve(SUMMARY), Json.write(malignancySummary(r, in, scoreColumn)) + "\n");
		writeText(folder.resolve(REPORT), report);
		return report;
	}

	public static String malignancyReport(MalignancyEvaluation.Result r, Inputs in, String scoreColumn) {
		StringBuilder s = new StringBuilder();
		s.append("Malignancy evaluation: ROC of ").append(scoreColumn).append(" against mal_bool\n");
		s.append(String.format(Locale.ROOT, "Results:      %s%n", names(in.results())));
		s.append(String.format(Locale.ROOT, "Annotations:  %s%n", in.annotations().getFileName()));
		s.append(String.format(Locale.ROOT, "Scans:        %d (%s)%n%n", r.scans().size(), in.scanChoice()));
		line(s, "Nodules in these scans", r.nodules(), "");
		line(s, "Scored (hit by a mark)", r.scored().size(), String.format(Locale.ROOT, "%d malignant, %d benign", r.malignant(), r.benign()));
		line(s, "Missed (no mark inside)", r.missed(), "not in the ROC");
		line(s, "Marks on other series (ignored)", r.ignoredMarks(), "");
		s.append('\n');
		RocAnalysis.Interval m = r.modelInterval(), d = r.diameterInterval();
		s.append(String.format(Locale.ROOT, "  %-34s %.4f %s%n", "AUC, " + scoreColumn, m.auc(), ci(m)));
		s.append(String.format(Locale.ROOT, "  %-34s %.4f %s%n", "AUC, diameter only (baseline)", d.auc(), ci(d)));
		if (m.samples() > 0)
			s.append(String.format(Locale.ROOT, "(95%% CI: bootstrap over nodules, %d resamples, seed %d)%n", m.samples(), m.seed()));
		s.append("\nFiles: ").append(SUMMARY).append(", ").append(ROC_CSV).append(", ").append(SCORES_CSV).append(", ").append(ROC_PNG).append('\n');
		return s.toString();
	}

	static Map<String, Object> malignancySummary(MalignancyEvaluation.Result r, Inputs in, String scoreColumn) {
		Map<String, Object> m = new LinkedHashMap<>();
		m.put("mode", "malignancy");
		m.put("score", scoreColumn);
		m.put("auc", r.modelInterval().auc());
		m.put("auc_ci", r.modelInterval().samples() == 0 ? null : List.of(r.modelInterval().low(), r.modelInterval().high()));
		m.put("diameter_auc", r.diameterInterval().auc());
		m.put("diameter_auc_ci", r.diameterInterval().samples() == 0 ? null
			: List.of(r.diameterInterval().low(), r.diameterInterval().high()));
		m.put("nodules", r.nodules());
		m.put("scored", r.scored().size());
		m.put("missed", r.missed());
		m.put("malignant", r.malignant());
		m.put("benign", r.benign());
		m.put("scans", r.scans().size());
		m.put("ignored_marks", r.ignoredMarks());
		m.put("bootstrap", r.modelInterval().samples());
		m.put("seed", r.modelInterval().seed());
		m.put("results", paths(in.results()));
		m.put("annotations", in.annotations().toString());
		m.put("scan_choice", in.scanChoice());
		return m;
	}

	private static void appendRoc(StringBuilder s, String name, RocAnalysis.Roc roc) {
		double[] t = roc.thresholds(), x = roc.fpr(), y = roc.tpr();
		for (int i = 0; i < t.length; i++)
			s.append(csvField(name)).append(',').append(Double.isInfinite(t[i]) ? "inf" : Double.toString(t[i])).append(',')
				.append(x[i]).append(',').append(y[i]).append('\n');
	}

	private static String aucLabel(String name, RocAnalysis.Interval i) {
		return String.format(Locale.ROOT, "%s: AUC %.3f%s", name, i.auc(), i.samples() > 0
			? String.format(Locale.ROOT, " (95%% CI %.3f–%.3f)", i.low(), i.high()) : "");
	}

	private static String ci(RocAnalysis.Interval i) {
		return i.samples() > 0 ? interval(i.low(), i.high()) : "";
	}

	// ---------------------------------------------------------------- helpers

	private static void line(StringBuilder s, String label, int value, String note) {
		s.append(String.format(Locale.ROOT, "  %-34s %7d%s%n", label, value, note.isEmpty() ? "" : "   " + note));
	}

	private static String interval(double low, double high) {
		return Double.isNaN(low) ? "[n/a]" : String.format(Locale.ROOT, "[%.4f, %.4f]", low, high);
	}

	private static String name(Inputs in) {
		String n = in.results().get(0).getFileName().toString();
		n = n.replaceFirst("\\.[^.]*$", "");
		return in.results().size() > 1 ? n + " + " + (in.results().size() - 1) + " more" : n;
	}

	private static String names(List<Path> paths) {
		List<String> out = new ArrayList<>();
		for (Path p : paths) out.add(p.toString());
		return String.join(", ", out);
	}

	private static List<Object> paths(List<Path> paths) {
		List<Object> out = new ArrayList<>();
		for (Path p : paths) out.add(p.toString());
		return out;
	}

	private static String csvNumber(double v) {
		return Double.isNaN(v) ? "" : Double.toString(v);
	}

	private static String csvField(String s) {
		if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
		return '"' + s.replace("\"", "\"\"") + '"';
	}

	static void writeText(Path file, String text) throws IOException {
		writeAtomically(file, text.getBytes(StandardCharsets.UTF_8));
	}

	/** Temp file in the same folder, then an atomic move over the target. */
	static void writeAtomically(Path file, byte[] bytes) throws IOException {
		AtomicFiles.write(file, bytes);
	}

	/** A minimal JSON writer: maps (insertion order), lists, strings, numbers (NaN/∞ as null), booleans, null. */
	static final class Json {
		private Json() {}

		static String write(Object value) {
			StringBuilder s = new StringBuilder();
			write(s, value, "");
			return s.toString();
		}

		private static void write(StringBuilder s, Object v, String indent) {
			if (v == null) s.append("null");
			else if (v instanceof String str) string(s, str);
			else if (v instanceof Boolean b) s.append(b);
			else if (v instanceof Double || v instanceof Float) {
				double d = ((Number) v).doubleValue();
				s.append(Double.isFinite(d) ? Double.toString(d) : "null");
			}
			else if (v instanceof Number n) s.append(n.longValue());
			else if (v instanceof Map<?, ?> map) {
				if (map.isEmpty()) {
					s.append("{}");
					return;
				}
				String inner = indent + "  ";
				s.append("{\n");
				int i = 0;
				for (Map.Entry<?, ?> e : map.entrySet()) {
					s.append(inner);
					string(s, String.valueOf(e.getKey()));
					s.append(": ");
					write(s, e.getValue(), inner);
					s.append(++i < map.size() ? ",\n" : "\n");
				}
				s.append(indent).append('}');
			}
			else if (v instanceof List<?> list) {
				s.append('[');
				for (int i = 0; i < list.size(); i++) {
					if (i > 0) s.append(", ");
					write(s, list.get(i), indent);
				}
				s.append(']');
			}
			else throw new IllegalArgumentException("Cannot write " + v.getClass().getSimpleName() + " as JSON");
		}

		private static void string(StringBuilder s, String str) {
			s.append('"');
			for (int i = 0; i < str.length(); i++) {
				char c = str.charAt(i);
				switch (c) {
					case '"' -> s.append("\\\"");
					case '\\' -> s.append("\\\\");
					case '\n' -> s.append("\\n");
					case '\r' -> s.append("\\r");
					case '\t' -> s.append("\\t");
					case '\b' -> s.append("\\b");
					case '\f' -> s.append("\\f");
					default -> {
						if (c < 0x20 || c == 0x2028 || c == 0x2029) s.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
						else s.append(c);
					}
				}
			}
			s.append('"');
		}
	}
}
