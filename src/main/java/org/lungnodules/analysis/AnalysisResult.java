package org.lungnodules.analysis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.lungnodules.ct.Geometry;

/**
 * What {@link CtAnalysis#analyze} found in one CT.
 *
 * @param candidates every component in label order (not filtered by probability)
 * @param probability the U-Net probability volume (C order, shapeIrc), or null if dropped
 * @param labels the component label volume (C order, 0 = background), or null if dropped
 * @param malignancyScored whether a malignancy model was applied
 * @param warnings problems the analysis worked around (e.g. NaN voxels), for the log
 * @param stageSeconds wall-clock seconds per stage, in stage order
 */
public record AnalysisResult(String seriesUid, Geometry geometry, int[] shapeIrc, List<Candidate> candidates,
	float[] probability, int[] labels, boolean malignancyScored, List<String> warnings, Map<String, Double> stageSeconds) {

	public AnalysisResult {
		candidates = List.copyOf(candidates);
		warnings = List.copyOf(warnings);
		stageSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(stageSeconds));
		shapeIrc = shapeIrc.clone();
	}

	/** Start of the warning that marks a result computed from lossy-compressed input. */
	public static final String LOSSY_INPUT = "LOSSY INPUT";

	/** What every output of a CT read from lossy-compressed data says (with {@code lossy=accept}). */
	public static final String LOSSY_WARNING = LOSSY_INPUT + ": the CT was read from lossy-compressed DICOM (lossy=accept); its HU " +
		"values differ from the scanner's, and results may differ from those on the original";

	/** Start of the warnings that say why a scan has no DICOM outputs though {@code dicom=true} asked for them. */
	public static final String NO_DICOM = "dicom=true:";

	/**
	 * What a cohort's summary.csv adds to a scan's "ok": {@link #LOSSY_INPUT}, "no DICOM SEG/SR", both
	 * (separated by "; "), or empty.
	 */
	public String note() {
		List<String> notes = new ArrayList<>();
		if (lossyInput()) notes.add(LOSSY_INPUT);
		for (String w : warnings)
			if (w.startsWith(NO_DICOM)) {
				notes.add("no DICOM SEG/SR");
				break;
			}
		return String.join("; ", notes);
	}

	/** What a result says when DICOM outputs were asked for ({@code dicom=true}) of a CT that is not a DICOM series. */
	public static final String NOT_DICOM_WARNING = NO_DICOM + " not read from a DICOM series, so no DICOM Segmentation or " +
		"Structured Report was written (they must refer to the source images)";

	/** The same result with one more warning. */
	public AnalysisResult withWarning(String warning) {
		List<String> more = new ArrayList<>(warnings);
		more.add(warning);
		return new AnalysisResult(seriesUid, geometry, shapeIrc, candidates, probability, labels, malignancyScored, more, stageSeconds);
	}

	/** Whether the CT was read from lossy-compressed data (a warning starting with {@link #LOSSY_INPUT}). */
	public boolean lossyInput() {
		for (String w : warnings) if (w.startsWith(LOSSY_INPUT)) return true;
		return false;
	}

	/** The same result without the two volumes, so they can be garbage-collected. */
	public AnalysisResult withoutVolumes() {
		return new AnalysisResult(seriesUid, geometry, shapeIrc, candidates, null, null, malignancyScored, warnings, stageSeconds);
	}

	/** Candidates sorted by nodule probability, highest first (ties in label order). */
	public List<Candidate> byProbability() {
		List<Candidate> sorted = new ArrayList<>(candidates);
		sorted.sort(Comparator.comparingDouble(Candidate::probability).reversed().thenComparingInt(Candidate::label));
		return sorted;
	}

	/** Candidates whose nodule probability is at least {@code threshold}, highest first. */
	public List<Candidate> nodules(double threshold) {
		List<Candidate> out = new ArrayList<>();
		for (Candidate c : byProbability())
			if (c.probability() >= threshold) out.add(c);
		return out;
	}

	@Override
	public int[] shapeIrc() { return shapeIrc.clone(); }
}
