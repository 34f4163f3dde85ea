package org.lungnodules.fiji;

import java.awt.GraphicsEnvironment;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.EvaluationException;
import org.lungnodules.analysis.EvaluationOutput;
import org.lungnodules.analysis.FrocEvaluation;
import org.lungnodules.analysis.LidcSegmentationEvaluation;
import org.lungnodules.analysis.MalignancyEvaluation;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.Annotation;
import org.lungnodules.io.Luna16Tables.Mark;
import org.lungnodules.io.ScoredMarks;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * Scores detections the way the LUNA16 challenge does (FROC, CPM with a bootstrap interval),
 * malignancy scores by ROC against the book's malignancy table, or (mode=segmentation) the U-Net's
 * mask against the LIDC radiologists' consensus ({@link LidcSegmentationEvaluation}). The engine is
 * {@link FrocEvaluation} / {@link MalignancyEvaluation}; files are written by
 * {@link EvaluationOutput}. Works headless; in a desktop Fiji the results also open as a table
 * and a plot.
 */
@Plugin(type = Command.class, name = "evaluate", label = "Evaluate Detections (LUNA16 FROC)",
	description = "Score detections with the LUNA16 FROC/CPM protocol, or malignancy scores by ROC")
public class EvaluateCommand extends LunaCommand {

	static final String FROC = "froc", MALIGNANCY = "malignancy", SEGMENTATION = "segmentation", MALIGNANCY_SCORE = "p_malignant";

	/** mode=segmentation writes this per-nodule table into output=. */
	static final String SEGMENTATION_CSV = "segmentation.csv";

	@Parameter(label = "results", required = false, description = "Marks as CSV: seriesuid,coordX,coordY,coordZ,probability (p_malignant for " +
		"malignancy); several files separated by commas are read as one")
	private String results;

	@Parameter(label = "annotations", required = false, style = FileWidget.OPEN_STYLE,
		description = "annotations.csv (froc) or annotations_with_malignancy.csv (malignancy)")
	private File annotations;

	@Parameter(label = "excluded", required = false, style = FileWidget.OPEN_STYLE,
		description = "annotations_excluded.csv: marks on these findings are ignored (froc)")
	private File excluded;

	@Parameter(label = "series", required = false,
		description = "Scans to evaluate: a file with one series UID per line (LUNA16's seriesuids.csv) or a comma list; " +
			"default: the annotated series that have marks")
	private String series;

	@Parameter(label = "all_series", description = "Evaluate every annotated series; those without marks count with 0 marks")
	private boolean all_series = false;

	@Parameter(label = "mode", choices = { FROC, MALIGNANCY, SEGMENTATION }, description = "froc: detection; malignancy: ROC of p_malignant; " +
		"segmentation: the U-Net's mask against the LIDC readers' consensus (input=, readings=, seg_model=)")
	private String mode = FROC;

	@Parameter(label = "input", required = false, description = "segmentation: the CT (a .mhd/.mha, .nii/.nii.gz or DICOM series)")
	private File input;

	@Parameter(label = "readings", required = false, style = FileWidget.OPEN_STYLE,
		description = "segmentation: the LIDC-IDRI XML readings of that CT")
	private File readings;

	@Parameter(label = "seg_model", required = false, style = FileWidget.OPEN_STYLE,
		description = "segmentation: the U-Net (.state or .pt); default: the published one in the models folder")
	private File seg_model;

	@Parameter(label = "seg_threshold", description = "segmentation: U-Net probability above which a voxel is in the mask")
	private double seg_threshold = 0.5;

	@Parameter(label = "device", choices = { "auto", "cpu", "gpu" }, description = "segmentation: auto = GPU when one is visible")
	private String device = "auto";

	@Parameter(label = "bootstrap", min = "0", description = "Resamples for the 95% confidence interval (0: none)")
	private int bootstrap = 1000;

	@Parameter(label = "seed", description = "Seed of the bootstrap: same seed, same interval")
	private long seed = 42;

	@Parameter(label = "output", style = FileWidget.DIRECTORY_STYLE, description = "Folder for report.txt, summary.json, CSVs and the plot")
	private File output;

	@Parameter(type = ItemIO.OUTPUT, label = "Report")
	private String report;

	@Override
	protected void execute() throws Exception {
		if (mode != null && mode.trim().equalsIgnoreCase(SEGMENTATION)) {
			segmentation();
			return;
		}
		List<Path> resultFiles = resultFiles(results);
		if (annotations == null) throw new EvaluationException("evaluate needs annotations=...");
		if (output == null) throw new EvaluationException("evaluate needs output=...");
		if (bootstrap < 0) throw new EvaluationException("bootstrap must be ≥ 0, not " + bootstrap);
		Path folder = output.toPath();
		List<String> seriesList = series == null || series.isBlank() ? null : readSeriesList(series);
		String choice = seriesList != null ? "from the series list" : all_series ? "every annotated series"
			: "annotated series that have marks";
		Path excludedPath = excluded == null ? null : excluded.toPath();
		EvaluationOutput.Inputs inputs = new EvaluationOutput.Inputs(resultFiles, annotations.toPath(), excludedPath, choice);
		String m = mode == null ? FROC : mode.trim().toLowerCase(java.util.Locale.ROOT);

		if (m.equals(FROC)) {
			progress().report("Reading tables", 0);
			List<Mark> marks = new ArrayList<>();
			for (Path p : resultFiles) marks.addAll(Luna16Tables.readResults(p));
			List<Annotation> nodules = Luna16Tables.readAnnotations(annotations.toPath());
			List<Annotation> excludedRows = excludedPath == null ? null : Luna16Tables.readExcludedAnnotations(excludedPath);
			List<String> scans = FrocEvaluation.chooseScans(marks, nodules, excludedRows, seriesList, all_series);
			FrocEvaluation.Result r = FrocEvaluation.evaluate(marks, nodules, excludedRows, scans,
				new FrocEvaluation.Settings(FrocEvaluation.MAX_MARKS_PER_SCAN, bootstrap, seed), progress());
			report = EvaluationOutput.writeFroc(folder, r, inputs);
			if (!GraphicsEnvironment.isHeadless()) EvaluationDisplay.showFroc(r, resultFiles.get(0).getFileName().toString());
		}
		else if (m.equals(MALIGNANCY)) {
			if (excludedPath != null) throw new EvaluationException("excluded= is for mode=froc; malignancy uses the malignancy table only");
			progress().report("Reading tables", 0);
			List<Mark> marks = new ArrayList<>();
			for (Path p : resultFiles) marks.addAll(ScoredMarks.read(p, MALIGNANCY_SCORE));
			MalignancyEvaluation.Result r = MalignancyEvaluation.evaluate(marks, Luna16Tables.readMalignancy(annotations.toPath()),
				seriesList, all_series, bootstrap, seed);
			report = EvaluationOutput.writeMalignancy(folder, r, inputs, MALIGNANCY_SCORE);
			String table = confusionTable(resultFiles, Luna16Tables.readMalignancy(annotations.toPath()), folder);
			if (table != null) report = report + "\n" + table;
			if (!GraphicsEnvironment.isHeadless()) EvaluationDisplay.showMalignancy(r, MALIGNANCY_SCORE);
		}
		else throw new EvaluationException("mode must be froc, malignancy or segmentation, not '" + mode + "'");
	}

	/** mode=segmentation: the U-Net against the readers, on the slices of their nodules only. */
	private void segmentation() throws Exception {
		if (input == null) throw new BadValue("mode=segmentation needs input=CT");
		if (readings == null) throw new BadValue("mode=segmentation needs readings=XML (the LIDC-IDRI readings of the CT)");
		if (output == null) throw new BadValue("evaluate needs output=...");
		if (!(seg_threshold >= 0 && seg_threshold < 1)) throw new BadValue("seg_threshold must be in [0, 1): " + seg_threshold);
		// Never the demo U-Net: it was trained on synthetic CTs, and this judges a network against radiologists.
		Path seg = Models.resolve(Networks.Kind.SEG, seg_model, Models.PUBLISHED, false);
		if (seg == null)
			throw new BadValue("mode=segmentation needs a U-Net: give seg_model=FILE (the book's .state or our .pt) or fetch the published " +
				"weights with ./luna fetch-models. The demo U-Net is not used here: it was trained on synthetic CTs only");
		progress().report("Reading the CT", 0);
		CtVolume ct = readCt(input, "");
		LidcReadings xml = LidcReadings.read(readings.toPath());
		CtAnalysis.Settings settings = CtAnalysis.Settings.defaults().withThresholds(seg_threshold, 0.5);
		try (Inference inference = Models.open(device, 0, seg, null, null)) {
			LidcSegmentationEvaluation.Result r = LidcSegmentationEvaluation.evaluate(new CtAnalysis(inference, settings), ct, xml, progress());
			Path folder = output.toPath();
			java.nio.file.Files.createDirectories(folder);
			LidcSegmentationEvaluation.writeCsv(folder.resolve(SEGMENTATION_CSV), r);
			report = LidcSegmentationEvaluation.report(r);
			org.lungnodules.io.AtomicFiles.writeString(folder.resolve(EvaluationOutput.REPORT), report);
		}
	}

	public String report() { return report; }

	/**
	 * The book's 3×4 table (Non-nodule/Benign/Malignant × Complete miss/Filtered out/Predicted
	 * benign/Predicted malignant), when the results are our candidates tables, which carry both the
	 * nodule probability and p_malignant of every detection. Written to confusion.csv; null otherwise.
	 */
	static String confusionTable(List<Path> resultFiles, List<Luna16Tables.MalignancyAnnotation> truth, Path folder) throws IOException {
		List<org.lungnodules.analysis.CandidatesCsv.Row> rows = new ArrayList<>();
		for (Path p : resultFiles) {
			String header = Files.readAllLines(p).stream().findFirst().orElse("");
			if (!header.trim().equals(org.lungnodules.analysis.CandidatesCsv.HEADER)) return null;
			rows.addAll(org.lungnodules.analysis.CandidatesCsv.read(p));
		}
		java.util.Map<String, List<org.lungnodules.analysis.NoduleMatching.Truth>> truthBySeries = new java.util.LinkedHashMap<>();
		for (Luna16Tables.MalignancyAnnotation a : truth)
			truthBySeries.computeIfAbsent(a.seriesUid(), k -> new ArrayList<>()).add(org.lungnodules.analysis.NoduleMatching.Truth.of(a));
		java.util.Map<String, List<org.lungnodules.analysis.NoduleMatching.Detection>> detBySeries = new java.util.LinkedHashMap<>();
		for (org.lungnodules.analysis.CandidatesCsv.Row r : rows)
			detBySeries.computeIfAbsent(r.seriesUid(), k -> new ArrayList<>()).add(org.lungnodules.analysis.NoduleMatching.Detection.of(r));
		org.lungnodules.analysis.NoduleMatching.Confusion total = org.lungnodules.analysis.NoduleMatching.Confusion.empty();
		// Only series that were analysed: a nodule of a scan nobody looked at is not a miss.
		for (String uid : detBySeries.keySet())
			total = total.plus(org.lungnodules.analysis.NoduleMatching.matchAndScore(detBySeries.get(uid), truthBySeries.getOrDefault(uid, List.of())));
		total.writeCsv(folder.resolve("confusion.csv"));
		return total.toText("Detections against " + detBySeries.size() + " analysed series (the book's table)", true);
	}

	/** results= as paths: one file or a comma-separated list; each must exist. */
	static List<Path> resultFiles(String text) throws IOException {
		if (text == null || text.isBlank()) throw new EvaluationException("evaluate needs results=FILE[,FILE...]");
		List<Path> out = new ArrayList<>();
		for (String part : text.split(",")) {
			String p = part.trim();
			if (p.isEmpty()) continue;
			Path path = Path.of(p);
			if (!Files.isRegularFile(path)) throw new NoSuchFileException(p, null, "results file not found");
			out.add(path);
		}
		if (out.isEmpty()) throw new EvaluationException("results= names no file");
		return out;
	}

	/**
	 * series= as a list of UIDs: an existing file (one UID per line, first CSV column; a header
	 * "seriesuid" and blank lines are skipped) or else a comma-separated list.
	 */
	static List<String> readSeriesList(String text) throws IOException {
		Path file = Path.of(text.trim());
		List<String> out = new ArrayList<>();
		if (Files.isRegularFile(file)) {
			List<String> lines = Files.readAllLines(file);
			for (String line : lines) {
				String uid = line.split(",", 2)[0].trim();
				if (uid.startsWith("\uFEFF")) uid = uid.substring(1);
				if (uid.isEmpty() || uid.equalsIgnoreCase("seriesuid")) continue;
				out.add(uid);
			}
			if (out.isEmpty()) throw new EvaluationException(file + ": the series list names no series");
			return out;
		}
		if (text.contains("/") || text.contains(java.io.File.separator) || text.endsWith(".csv") || text.endsWith(".txt"))
			throw new NoSuchFileException(text, null, "series list file not found");
		for (String part : text.split(",")) if (!part.isBlank()) out.add(part.trim());
		return out;
	}
}
