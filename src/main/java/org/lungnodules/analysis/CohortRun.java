package org.lungnodules.analysis;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Consumer;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import org.lungnodules.Progress;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.dicom.Algorithm;
import org.lungnodules.nn.EngineEnvironment;

/**
 * Analyses a cohort, scan after scan, so that it can be left to run overnight: a scan that cannot be
 * read or analysed is logged and recorded, and the run goes on; a scan already done in the output
 * folder is skipped, so a killed or requeued run continues where it stopped.
 * <p>
 * Output folder (all files written atomically):
 * <ul>
 * <li>{@code <seriesuid>_candidates.csv} per analysed scan ({@link CandidatesCsv}), and its nodules for
 * 3D Slicer and ITK-SNAP, {@code <seriesuid>_nodules.mrk.json} and, when the analysis keeps its label
 * volume, {@code <seriesuid>_nodules.nii.gz} ({@link ViewerFiles}, nodules at the run's threshold);</li>
 * <li>{@code done/<scan name>.done}, written after the candidates file: what makes a scan done. The
 * candidates file is named by series UID, which for DICOM is only known after reading the scan; the
 * marker is named by the scan's own name, so a resumed run knows without reading the scan again;</li>
 * <li>{@code failures.csv} (scan, stage, error): the failures of the latest run;</li>
 * <li>{@code summary.csv}: one row per scan of every run, appended.</li>
 * </ul>
 * Results are handed to a listener and not kept, so memory does not grow with the cohort.
 */
public final class CohortRun {

	public static final String FAILURES = "failures.csv", SUMMARY = "summary.csv", DONE_FOLDER = "done";
	/** The columns of {@code macros/batch_analyze.ijm}'s summary, plus what the results were made with. */
	public static final String SUMMARY_HEADER = "series,candidates,nodules,max_p_malignant,seconds,status,device,models_sha256";
	public static final String FAILURES_HEADER = "scan,stage,error";
	/** Stages for failures.csv. */
	public static final String READ = "read", ANALYSE = "analyse", WRITE = "write";

	/** What happened to one scan. */
	public enum Status {
		ANALYSED, SKIPPED, FAILED
	}

	/** The analysis of one read CT. */
	@FunctionalInterface
	public interface Analysis {
		AnalysisResult analyze(CtVolume ct, Progress progress) throws Exception;
	}

	/** Receives each analysed scan's result once its candidates are written; not called for skipped or failed scans. */
	@FunctionalInterface
	public interface Listener {
		void analysed(Path scan, CtVolume ct, AnalysisResult result) throws Exception;

		/**
		 * Called after each scan that was analysed or failed, once the memory it left free has been given
		 * back and nothing of it is held any more: the moment to see whether the process grows.
		 */
		default void released(Outcome outcome) {}
	}

	/**
	 * One scan's outcome; counts are -1 and maxPMalignant NaN when unknown.
	 *
	 * @param series the series UID, or the scan's name when the scan could not be read
	 * @param stage for a failure, {@link #READ}, {@link #ANALYSE} or {@link #WRITE}; else empty
	 * @param note what the summary's status adds to "ok" ({@link AnalysisResult#note()}: lossy input, no DICOM outputs); else empty
	 */
	public record Outcome(Path scan, String series, Status status, String stage, String error, int candidates, int nodules,
		double maxPMalignant, double seconds, String note) {}

	/** The outcomes of a run, in scan order. */
	public record Report(List<Outcome> outcomes) {

		public Report {
			outcomes = List.copyOf(outcomes);
		}

		public int count(Status s) {
			return (int) outcomes.stream().filter(o -> o.status() == s).count();
		}

		public int analysed() { return count(Status.ANALYSED); }
		public int skipped() { return count(Status.SKIPPED); }
		public int failed() { return count(Status.FAILED); }

		/** "3 scans: 2 analysed, 0 skipped (done before), 1 failed". */
		public String text() {
			return String.format(Locale.ROOT, "%d scan(s): %d analysed, %d skipped (done before), %d failed", outcomes.size(), analysed(),
				skipped(), failed());
		}
	}

	private final Path output;
	private final boolean overwrite;
	private final double threshold;
	private final String device;
	private final String modelsSha256;
	private final Consumer<String> log;

	/**
	 * @param output the output folder, or null to write nothing (no resume, no tables)
	 * @param overwrite redo scans that are done in {@code output}
	 * @param threshold nodule probability counted in the summary's nodules column
	 * @param device where the networks run, for the summary
	 * @param modelsSha256 the models' digests, for the summary; a scan done with other models is redone
	 * @param log receives a line per failed scan, and per done scan that had to be analysed again
	 */
	public CohortRun(Path output, boolean overwrite, double threshold, String device, String modelsSha256, Consumer<String> log) {
		this.output = output;
		this.overwrite = overwrite;
		this.threshold = threshold;
		this.device = device == null ? "" : device;
		this.modelsSha256 = modelsSha256 == null ? "" : modelsSha256;
		this.log = log == null ? s -> {} : log;
	}

	/** Reads lossy-compressed DICOM instead of failing on it ({@code lossy=accept}); its results then say so. */
	public CohortRun acceptLossy(boolean accept) {
		this.acceptLossy = accept;
		return this;
	}

	private boolean acceptLossy;

	/**
	 * With an output folder, also writes each DICOM scan's nodules as a DICOM Segmentation and
	 * Structured Report ({@code dicom=true}) naming this algorithm; null (the default) writes none.
	 */
	public CohortRun writeDicom(Algorithm algorithm) {
		this.dicomAlgorithm = algorithm;
		return this;
	}

	private Algorithm dicomAlgorithm;


	/**
	 * Runs the analysis over the scans. Only cancelling stops it early ({@link Progress.Canceled}); any
	 * other problem with a scan, out of memory included, is recorded and the run goes on.
	 *
	 * @throws IOException only when the run's own tables cannot be written
	 */
	public Report run(List<Path> scans, Analysis analysis, Listener listener, Progress progress) throws IOException {
		List<Outcome> outcomes = new ArrayList<>();
		List<Outcome> failures = new ArrayList<>();
		int n = scans.size();
		double analysingSeconds = 0;
		int analysedCount = 0;
		for (int k = 1; k <= n; k++) {
			progress.checkCanceled();
			Path scan = scans.get(k - 1);
			String eta = analysedCount == 0 ? "" : ", ETA " + duration(analysingSeconds / analysedCount * remainingToAnalyse(scans, k));
			String where = "scan " + k + " of " + n + eta;
			// A skipped scan is told by the progress line below; the log is for what needs a look.
			Outcome o = done(scan);
			if (o == null) {
				o = analyse(scan, analysis, listener, scanProgress(progress, where));
				releaseMemory();
				if (listener != null) listener.released(o);
				// Failures are quick or slow by chance; the ETA is about analyses.
				if (o.status() == Status.ANALYSED) {
					analysingSeconds += o.seconds();
					analysedCount++;
				}
				if (o.status() == Status.FAILED) {
					log.accept(scan + ": failed to " + o.stage() + ": " + o.error());
					failures.add(o);
					if (output != null) writeFailures(failures);
				}
			}
			outcomes.add(o);
			if (output != null) appendSummary(o);
			String left = k == n || analysedCount == 0 ? "" : ", ETA " + duration(analysingSeconds / analysedCount * remainingToAnalyse(scans, k + 1));
			// One line per scan in ./luna, the status bar in Fiji: with the reason when it failed.
			progress.report(String.format(Locale.ROOT, "Scan %d of %d %s: %s%s%s", k, n, describe(o), scan.getFileName(),
				o.status() == Status.FAILED ? ": " + o.error() : "", left), 1.0);
		}
		// Rewritten even when empty, so that failures of an earlier run that have since been done do not linger.
		if (output != null) writeFailures(failures);
		return new Report(outcomes);
	}

	private static String describe(Outcome o) {
		switch (o.status()) {
		case SKIPPED:
			return "skipped (done before)";
		case FAILED:
			return "FAILED to " + o.stage();
		default:
			return String.format(Locale.ROOT, "analysed in %.1f s, %d nodule(s) of %d candidates", o.seconds(), o.nodules(), o.candidates());
		}
	}

	/** Scans from index {@code from} (1-based) on that are not done: what the ETA is about. */
	private int remainingToAnalyse(List<Path> scans, int from) {
		int left = 0;
		for (int i = from - 1; i < scans.size(); i++)
			if (overwrite || output == null || !Files.isRegularFile(marker(scans.get(i)))) left++;
		return left;
	}

	private static Progress scanProgress(Progress progress, String where) {
		return new Progress() {
			@Override
			public void report(String stage, double fraction) {
				progress.report(stage + " (" + where + ")", fraction);
			}

			@Override
			public boolean isCanceled() {
				return progress.isCanceled();
			}
		};
	}

	private Outcome analyse(Path scan, Analysis analysis, Listener listener, Progress progress) {
		long start = System.nanoTime();
		String stage = READ;
		String series = CtReader.nameOf(scan);
		try {
			CtReader.ReadCt read = CtReader.read(scan, null, acceptLossy);
			CtVolume ct = read.volume();
			series = ct.seriesUid();
			stage = ANALYSE;
			AnalysisResult result = analysis.analyze(ct, progress);
			if (read.lossy()) result = result.withWarning(AnalysisResult.LOSSY_WARNING);
			stage = WRITE;
			int candidates = result.candidates().size();
			List<Candidate> nodules = result.nodules(threshold);
			double maxMal = Double.NaN;
			for (Candidate c : nodules)
				if (c.hasMalignancy() && !(c.pMalignant() <= maxMal)) maxMal = c.pMalignant();
			Path csv = output == null ? null : CandidatesCsv.write(output, result);
			// For 3D Slicer and ITK-SNAP; the label map only when the analysis kept its label volume.
			if (output != null) ViewerFiles.write(output, result, threshold);
			if (output != null && dicomAlgorithm != null)
				result = ViewerFiles.writeDicomOrWarn(output, result, threshold, read.dicomSource(), dicomAlgorithm);
			if (listener != null) listener.analysed(scan, ct, result);
			double seconds = (System.nanoTime() - start) / 1e9;
			Outcome o = new Outcome(scan, series, Status.ANALYSED, "", "", candidates, nodules.size(), maxMal, seconds, result.note());
			if (csv != null) writeMarker(scan, csv, o);
			return o;
		}
		catch (Progress.Canceled e) {
			throw e;
		}
		catch (Exception | OutOfMemoryError e) {
			return new Outcome(scan, series, Status.FAILED, stage, message(e), -1, -1, Double.NaN, (System.nanoTime() - start) / 1e9, "");
		}
	}

	/**
	 * Gives back, between two scans, the memory the last one left free (a scan that failed half-way, out
	 * of memory say, leaves the most): Java's heap (a full collection,
	 * after which the JVM uncommits what it does not need) and glibc's heaps, which keep freed
	 * activations during a scan so that batches are not faulted in again ({@link EngineEnvironment}).
	 * Without this a process analysing scan after scan grew by 12–17 % over 30 scans (BENCHMARKS.md, cohort
	 * memory): the heap expanded to its largest scan's needs and glibc's heaps fragmented.
	 */
	private static void releaseMemory() {
		System.gc();
		EngineEnvironment.releaseFreeMemory();
	}

	/** The most useful line of an exception chain: the first message that says more than its cause's class. */
	static String message(Throwable e) {
		Throwable t = e;
		while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) t = t.getCause();
		if (t instanceof OutOfMemoryError) return "out of memory (" + t.getMessage() + "); give Java more heap with -Xmx";
		String m = t.getMessage();
		return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.replace('\n', ' ').replace('\r', ' ');
	}

	// ---- resume ----

	Path marker(Path scan) {
		String name = CtReader.nameOf(scan).replaceAll("[^A-Za-z0-9._-]", "_");
		if (name.startsWith(".")) name = "_" + name.substring(1);
		return output.resolve(DONE_FOLDER).resolve(name + ".done");
	}

	/**
	 * The outcome of a scan done before, or null when it must be analysed: no output folder,
	 * overwrite, no marker, a candidates file missing or not of the recorded size, or other models.
	 */
	private Outcome done(Path scan) {
		if (output == null || overwrite) return null;
		Path marker = marker(scan);
		if (!Files.isRegularFile(marker)) return null;
		Properties p = new Properties();
		try (Reader r = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
			p.load(r);
			Path csv = output.resolve(p.getProperty("candidates_file", ""));
			String bytes = p.getProperty("candidates_bytes", "");
			if (!Files.isRegularFile(csv) || !bytes.equals(Long.toString(Files.size(csv)))) {
				log.accept(scan + ": analysed again: its candidates file " + csv.getFileName() + " is missing or changed since");
				return null;
			}
			if (!modelsSha256.equals(p.getProperty("models_sha256", ""))) {
				log.accept(scan + ": analysed again: it was done with other models");
				return null;
			}
			if (dicomAlgorithm != null && !Boolean.parseBoolean(p.getProperty("dicom", "false"))) {
				log.accept(scan + ": analysed again: dicom=true, and it was done without the DICOM outputs");
				return null;
			}
			String mal = p.getProperty("max_p_malignant", "");
			return new Outcome(scan, p.getProperty("series", ""), Status.SKIPPED, "", "", Integer.parseInt(p.getProperty("candidates", "-1")),
				Integer.parseInt(p.getProperty("nodules", "-1")), mal.isEmpty() ? Double.NaN : Double.parseDouble(mal), 0,
				// markers of earlier versions said only lossy_input=true
				p.getProperty("note", Boolean.parseBoolean(p.getProperty("lossy_input", "false")) ? AnalysisResult.LOSSY_INPUT : ""));
		}
		catch (IOException | IllegalArgumentException e) {
			log.accept(scan + ": analysed again: unreadable marker " + marker + " (" + e.getMessage() + ")");
			return null;
		}
	}

	private void writeMarker(Path scan, Path csv, Outcome o) throws IOException {
		Properties p = new Properties();
		p.setProperty("scan", scan.toString());
		p.setProperty("series", o.series());
		p.setProperty("candidates_file", csv.getFileName().toString());
		p.setProperty("candidates_bytes", Long.toString(Files.size(csv)));
		p.setProperty("candidates", Integer.toString(o.candidates()));
		p.setProperty("nodules", Integer.toString(o.nodules()));
		p.setProperty("max_p_malignant", Double.isNaN(o.maxPMalignant()) ? "" : Double.toString(o.maxPMalignant()));
		p.setProperty("models_sha256", modelsSha256);
		p.setProperty("dicom", Boolean.toString(dicomAlgorithm != null));
		p.setProperty("note", o.note());
		StringWriter w = new StringWriter();
		p.store(w, "Lung Nodules: this scan is done; delete this file (or run with overwrite=true) to analyse it again");
		AtomicFiles.writeString(marker(scan), w.toString());
	}

	// ---- tables ----

	private void writeFailures(List<Outcome> failures) throws IOException {
		StringBuilder sb = new StringBuilder(FAILURES_HEADER).append('\n');
		for (Outcome o : failures) sb.append(csvLine(o.scan().toString(), o.stage(), o.error()));
		AtomicFiles.writeString(output.resolve(FAILURES), sb.toString());
	}

	/** Appends by rewriting: a killed run leaves the old table or the new one, never half a row. */
	private void appendSummary(Outcome o) throws IOException {
		Path file = output.resolve(SUMMARY);
		String old = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
		if (!old.isEmpty() && !old.endsWith("\n")) old += "\n";
		String status = switch (o.status()) {
		case ANALYSED -> o.note().isEmpty() ? "ok" : "ok (" + o.note() + ")";
		case SKIPPED -> o.note().isEmpty() ? "skipped (done before)" : "skipped (done before, " + o.note() + ")";
		case FAILED -> "failed (" + o.stage() + "): " + o.error();
		};
		boolean known = o.candidates() >= 0;
		String row = csvLine(o.series(), known ? Integer.toString(o.candidates()) : "", known ? Integer.toString(o.nodules()) : "",
			Double.isNaN(o.maxPMalignant()) ? "" : String.format(Locale.ROOT, "%.4f", o.maxPMalignant()),
			String.format(Locale.ROOT, "%.1f", o.seconds()), status, device, modelsSha256);
		AtomicFiles.writeString(file, (old.isEmpty() ? SUMMARY_HEADER + "\n" : old) + row);
	}

	private static String csvLine(Object... values) throws IOException {
		StringWriter w = new StringWriter();
		try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setRecordSeparator("\n").get())) {
			p.printRecord(values);
		}
		return w.toString();
	}

	/** The models' SHA-256 digests, space-separated, in the order given (nulls left out). */
	public static String modelsSha256(Path... models) throws IOException {
		StringBuilder sb = new StringBuilder();
		for (Path m : models)
			if (m != null) sb.append(sb.length() == 0 ? "" : " ").append(org.lungnodules.nn.PublishedModels.sha256(m));
		return sb.toString();
	}

	/** "45 s", "12 min", "3 h 5 min". */
	static String duration(double seconds) {
		long s = Math.round(seconds);
		if (s < 60) return s + " s";
		if (s < 3600) return (s + 30) / 60 + " min";
		long m = (s + 30) / 60;
		return m / 60 + " h " + m % 60 + " min";
	}
}
