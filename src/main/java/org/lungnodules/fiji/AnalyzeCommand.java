package org.lungnodules.fiji;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import ij.ImagePlus;

import org.lungnodules.Progress;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.analysis.CohortRun;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.NoduleMatching;
import org.lungnodules.analysis.ViewerFiles;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.CtReader;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * The main job: segment → group → classify → score malignancy, for one CT, a folder of CTs, or the
 * current image in Fiji. Writes {@code <output>/<seriesuid>_candidates.csv} (LUNA16's submission
 * columns first), the nodules as a label map and Slicer markups ({@link ViewerFiles}), and with
 * annotations the book's 3×4 confusion table.
 */
@Plugin(type = Command.class, name = "analyze", label = "Analyze CT",
	description = "Find lung nodules in a CT and score their malignancy (segment, group, classify, score)")
public class AnalyzeCommand extends LunaCommand implements UsesCurrentImage, ShowsNodules {

	@Parameter(label = "input", required = false, description = "A CT (.mhd/.mha, .nii/.nii.gz, a DICOM series) or a folder of them; in Fiji, empty = the current image")
	private File input;

	@Parameter(label = "series", required = false, description = "For a folder holding several DICOM series: the SeriesInstanceUID to " +
		"analyse (a unique start or end of it is enough)")
	private String series = "";

	@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM (lossy JPEG, " +
		"JPEG 2000 irreversible, JPEG-LS near-lossless): refuse (default) or accept, with a warning in every output")
	private String lossy = "refuse";

	@Override
	protected boolean acceptsLossy() {
		return lossyAccepted(lossy);
	}

	@Parameter(label = "seg_model", required = false, description = "Segmentation U-Net (.state or .pt); default: the published weights in the models folder (./luna fetch-models)")
	private File seg_model;

	@Parameter(label = "cls_model", required = false, description = "Nodule classifier (.state or .pt); default: the published weights in the models folder (./luna fetch-models)")
	private File cls_model;

	@Parameter(label = "mal_model", required = false, description = "Optional malignancy classifier (.pt)")
	private File mal_model;

	@Parameter(label = "models", choices = { Models.PUBLISHED, Models.DEMO }, description = "Where models not given come from: the " +
		"published weights fetched into the models folder, or the demo models shipped in the jar (trained on synthetic CTs only: " +
		"for trying the software, never for real scans)")
	private String models = Models.PUBLISHED;

	@Parameter(label = "threshold", description = "Nodule probability at or above which a candidate is a nodule (and gets a malignancy score)")
	private double threshold = 0.5;

	@Parameter(label = "seg_threshold", description = "U-Net probability above which a voxel is a nodule voxel")
	private double seg_threshold = 0.5;

	@Parameter(label = "device", choices = { "auto", "cpu", "gpu" }, description = "auto = GPU when one is visible")
	private String device = "auto";

	@Parameter(label = "annotations", required = false, description = "Optional LUNA16 annotations (or annotations_with_malignancy.csv) for the 3×4 confusion table")
	private File annotations;

	@Parameter(label = "output", required = false, style = FileWidget.DIRECTORY_STYLE, description = "Folder for <seriesuid>_candidates.csv, the nodules for 3D Slicer and ITK-SNAP (<seriesuid>_nodules.nii.gz label map, " +
		"<seriesuid>_nodules.mrk.json markups; with dicom, DICOM SEG and SR) and confusion tables; with an input folder also summary.csv, " +
		"failures.csv and done/ (what makes a rerun skip finished scans)")
	private File output;

	@Parameter(label = "fast", description = "Faster segmentation: only the slices with lung, and the box around the lungs (default off: the published recipe)")
	private boolean fast = false;

	@Parameter(label = "mirror", description = "Also classify each candidate's mirror images and average (4x the classification time; " +
		"it lifted the demo classifier's F1 on synthetic CTs; default off: the published recipe)")
	private boolean mirror = false;

	@Parameter(label = "batch_size", description = "U-Net slices per batch; 0 = the published 8 (16 in fast mode)")
	private int batch_size = 0;

	@Parameter(label = "shard", required = false, description = "With a folder: i/n analyses every n-th scan from the i-th (1-based), for cluster job arrays")
	private String shard = "";

	@Parameter(label = "overwrite", description = "With a folder: analyse again the scans already done in output (default: skip them, " +
		"so a stopped run continues)")
	private boolean overwrite = false;

	@Parameter(label = "dicom", description = "With output and a DICOM series: also write <seriesuid>_nodules.seg.dcm (DICOM Segmentation, " +
		"a segment per nodule) and <seriesuid>_nodules.sr.dcm (TID 1500 Structured Report), in the source's study, for PACS viewers " +
		"and 3D Slicer (default off: they copy the patient's name and IDs from the source images)")
	private boolean dicom = false;

	@Parameter(label = "label_image", description = "In Fiji, also show the labelled components")
	private boolean label_image = false;

	@Parameter(type = ItemIO.OUTPUT, label = "Nodules found")
	private String summary;

	@Parameter(type = ItemIO.OUTPUT, label = "Candidates")
	private int candidates;

	@Parameter(type = ItemIO.OUTPUT, label = "Nodules")
	private int nodules;

	@Parameter(type = ItemIO.OUTPUT, label = "Highest malignancy")
	private String max_p_malignant = "";

	@Parameter(type = ItemIO.OUTPUT, label = "Seconds")
	private double seconds;

	@Parameter(type = ItemIO.OUTPUT, label = "Scans analysed")
	private int analysed;

	@Parameter(type = ItemIO.OUTPUT, label = "Scans skipped (done before)")
	private int skipped;

	@Parameter(type = ItemIO.OUTPUT, label = "Scans failed")
	private int failed;

	/** True for a folder: skip, resume and carry on past broken scans. */
	private boolean cohort;

	private ImagePlus image;
	private CtVolume volume;
	private AnalysisResult result;
	private boolean demoModels;

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	@Override
	public ImagePlus image() { return image; }
	@Override
	public CtVolume volume() { return volume; }
	@Override
	public AnalysisResult result() { return result; }
	@Override
	public double threshold() { return threshold; }
	@Override
	public boolean wantsLabelImage() { return label_image; }
	/** Whether a demo model (synthetic CTs only) stood in for a network the user did not give. */
	@Override
	public boolean usedDemoModels() { return demoModels; }

	@Override
	protected void execute() throws Exception {
		long start = System.nanoTime();
		checkRange("threshold", threshold, 0, 1);
		checkRange("seg_threshold", seg_threshold, 0, 0.999999);
		if (batch_size < 0) throw new BadValue("batch_size must be 0 (automatic) or more: " + batch_size);
		List<Path> scans = scans();
		Path out = output == null ? null : output.toPath();
		if (out != null) checkWritableFolder(out);
		Path seg = Models.resolve(Networks.Kind.SEG, seg_model, models, true);
		Path cls = Models.resolve(Networks.Kind.CLS, cls_model, models, true);
		Path mal = Models.resolve(Networks.Kind.MAL, mal_model, models, false);
		demoModels = Models.demoUsed(models, seg_model, cls_model);
		if (demoModels) log.warn(Models.DEMO_WARNING);
		List<Luna16Tables.MalignancyAnnotation> truth = annotations == null ? null : readTruth(annotations.toPath());

		CtAnalysis.Settings settings = CtAnalysis.Settings.defaults().withFast(fast).withMirror(mirror)
			.withThresholds(seg_threshold, threshold).withKeepVolumes(out != null || (label_image && !cohort));
		if (batch_size > 0) settings = settings.withBatchSlices(batch_size);
		Progress progress = progress();
		StringBuilder report = new StringBuilder();
		NoduleMatching.Confusion[] total = { NoduleMatching.Confusion.empty() };
		try (Inference inference = Models.open(device, 0, seg, cls, mal)) {
			log.info("Lung Nodules: networks on " + inference.device() + " (seg " + seg.getFileName() + ", cls " + cls.getFileName() +
				(mal == null ? "" : ", mal " + mal.getFileName()) + ")");
			CtAnalysis analysis = new CtAnalysis(inference, settings);
			if (!cohort) {
				volume = scans.isEmpty() ? ImagePlusAdapter.fromImagePlus(image) : readCt(scans.get(0).toFile(), series);
				result = analysis.analyze(volume, progress);
				if (!scans.isEmpty() && lastRead != null && lastRead.lossy()) result = result.withWarning(LOSSY_WARNING);
				if (out != null) {
					CandidatesCsv.write(out, result);
					ViewerFiles.write(out, result, threshold);
					if (dicom) result = ViewerFiles.writeDicomOrWarn(out, result, threshold, scans.isEmpty() || lastRead == null ? null :
						lastRead.dicomSource(), ViewerFiles.algorithm(seg, cls, mal));
				}
				for (String w : result.warnings()) log.warn(volume.seriesUid() + ": " + w);
				total[0] = total[0].plus(report(report, result, truth, out));
			}
			else {
				CohortRun run = new CohortRun(out, overwrite, threshold, inference.device().toString(), CohortRun.modelsSha256(seg, cls, mal),
					log::warn).acceptLossy(acceptsLossy()).writeDicom(dicom && out != null ? ViewerFiles.algorithm(seg, cls, mal) : null);
				CohortRun.Report done = run.run(scans, analysis::analyze, (scan, ct, r) -> {
					for (String w : r.warnings()) log.warn(r.seriesUid() + ": " + w);
					// Not the CT, nor the volumes (the label map is written by then): holding them while the next
					// scan is read would double the peak memory.
					result = r.withoutVolumes();
					total[0] = total[0].plus(report(report, r, truth, out));
				}, progress);
				analysed = done.analysed();
				skipped = done.skipped();
				failed = done.failed();
				report.append(done.text()).append('\n');
				if (failed > 0) {
					String where = out == null ? "" : "; see " + out.resolve(CohortRun.FAILURES);
					report.append(failed).append(" scan(s) failed").append(where).append('\n');
					setIncomplete(failed + " of " + scans.size() + " scan(s) failed" + where);
				}
			}
		}
		if (truth != null) report.append(total[0].toText("Detections against " + annotations.getName(), mal != null));
		seconds = (System.nanoTime() - start) / 1e9;
		if (out != null) report.append("Candidates written to ").append(out.toAbsolutePath()).append('\n');
		summary = (demoModels ? Models.DEMO_WARNING + "\n" : "") + report.toString().trim();
	}

	/** Adds a scan's nodules to the report and returns its confusion table (empty without annotations). */
	private NoduleMatching.Confusion report(StringBuilder report, AnalysisResult r, List<Luna16Tables.MalignancyAnnotation> truth, Path out)
		throws IOException {
		report.append(describe(r));
		if (truth == null) return NoduleMatching.Confusion.empty();
		NoduleMatching.Confusion c = confusion(r, truth);
		if (out != null) c.writeCsv(out.resolve(r.seriesUid() + "_confusion.csv"));
		return c;
	}

	/** Fills the macro-readable outputs and returns the short table of found nodules. */
	private String describe(AnalysisResult r) {
		candidates = r.candidates().size();
		List<Candidate> found = r.nodules(threshold);
		nodules = found.size();
		double maxMal = Double.NaN;
		for (Candidate c : found)
			if (c.hasMalignancy() && !(c.pMalignant() <= maxMal)) maxMal = c.pMalignant();
		max_p_malignant = Double.isNaN(maxMal) ? "" : String.format(Locale.ROOT, "%.4f", maxMal);
		StringBuilder sb = new StringBuilder();
		sb.append(String.format(Locale.ROOT, "%s: %d nodule(s) with probability >= %.2f among %d candidates%n", r.seriesUid(), nodules,
			threshold, candidates));
		// What the analysis worked around or could not write (lossy input, no DICOM outputs, ...): the log is not all users read.
		for (String w : r.warnings()) sb.append("  ").append(w).append('\n');
		if (!found.isEmpty()) sb.append(String.format("  %4s %9s %9s %9s %8s %11s %11s%n", "rank", "coordX", "coordY", "coordZ", "diam_mm",
			"probability", "p_malignant"));
		int rank = 0;
		for (Candidate c : found)
			sb.append(String.format(Locale.ROOT, "  %4d %9.1f %9.1f %9.1f %8.1f %11.4f %11s%n", ++rank, c.x(), c.y(), c.z(), c.diameterMm(),
				c.probability(), c.hasMalignancy() ? String.format(Locale.ROOT, "%.4f", c.pMalignant()) : "-"));
		return sb.toString();
	}

	private NoduleMatching.Confusion confusion(AnalysisResult r, List<Luna16Tables.MalignancyAnnotation> truth) {
		List<NoduleMatching.Truth> mine = new ArrayList<>();
		for (Luna16Tables.MalignancyAnnotation a : truth)
			if (a.seriesUid().equals(r.seriesUid())) mine.add(NoduleMatching.Truth.of(a));
		List<NoduleMatching.Detection> det = new ArrayList<>();
		for (Candidate c : r.candidates()) det.add(NoduleMatching.Detection.of(c));
		return NoduleMatching.matchAndScore(det, mine, threshold, 0.5);
	}

	/** annotations.csv (all counted benign) or the book's annotations_with_malignancy.csv. */
	static List<Luna16Tables.MalignancyAnnotation> readTruth(Path csv) throws IOException {
		String header;
		try (Stream<String> lines = Files.lines(csv)) {
			header = lines.findFirst().orElse("");
		}
		if (header.contains("mal_bool")) return Luna16Tables.readMalignancy(csv);
		List<Luna16Tables.MalignancyAnnotation> out = new ArrayList<>();
		for (Luna16Tables.Annotation a : Luna16Tables.readAnnotations(csv))
			out.add(new Luna16Tables.MalignancyAnnotation(a.seriesUid(), a.x(), a.y(), a.z(), a.diameterMm(), false, new double[3], new double[3]));
		return out;
	}

	/**
	 * The scans to analyze: one file, a folder's scans (sharded), or none for the current image. A
	 * folder makes a cohort run, even of one scan (a DICOM series folder).
	 */
	private List<Path> scans() throws IOException {
		cohort = false;
		if (input == null) {
			if (image == null) throw new BadValue("input=FILE (a CT file, a DICOM series folder or a folder of CTs) is needed" +
				(java.awt.GraphicsEnvironment.isHeadless() ? "" : ", or open a CT in Fiji first"));
			if (image.getStackSize() < 2) throw new BadValue("The current image '" + image.getTitle() + "' is 2D; a CT must be a 3D stack");
			return List.of();
		}
		Path p = input.toPath();
		if (!Files.exists(p)) throw new BadValue("input: no such file or folder: " + p);
		if (!Files.isDirectory(p) || !series.isEmpty()) {
			// series= picks one series of one DICOM folder: a single scan, not a cohort.
			if (!shard.isEmpty()) throw new BadValue("shard=" + shard + " needs input to be a folder of scans" + (series.isEmpty() ? "" : ", without series="));
			return List.of(p);
		}
		cohort = true;
		List<Path> all = CtReader.scansIn(p);
		if (all.isEmpty()) throw new BadValue("input folder has no CTs (.mhd/.mha, .nii/.nii.gz or DICOM series): " + p);
		if (shard.isEmpty()) return all;
		int[] in = shardOf(shard);
		List<Path> mine = new ArrayList<>();
		for (int i = in[0] - 1; i < all.size(); i += in[1]) mine.add(all.get(i));
		if (mine.isEmpty()) log.info("Shard " + shard + " has no scans (" + all.size() + " in the folder)");
		return mine;
	}

	static int[] shardOf(String text) {
		String[] parts = text.trim().split("/");
		try {
			int i = Integer.parseInt(parts[0].trim()), n = Integer.parseInt(parts[1].trim());
			if (parts.length != 2 || n < 1 || i < 1 || i > n) throw new NumberFormatException();
			return new int[] { i, n };
		}
		catch (RuntimeException e) {
			throw new BadValue("shard='" + text + "': expected i/n with 1 <= i <= n, e.g. 3/10");
		}
	}

	static void checkRange(String key, double v, double lo, double hi) {
		if (!(v >= lo && v <= hi)) throw new BadValue(key + " must be between " + lo + " and " + hi + ": " + v);
	}

	/** Fails before hours of work if results could not be written. */
	static void checkWritableFolder(Path out) throws IOException {
		try {
			Files.createDirectories(out);
			Path probe = Files.createTempFile(out, ".write-test", ".tmp");
			Files.delete(probe);
		}
		catch (IOException e) {
			throw new IOException("The output folder " + out + " is not writable: " + e.getMessage(), e);
		}
	}
}
