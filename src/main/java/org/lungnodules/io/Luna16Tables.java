package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Readers for the LUNA16 tables and the book's malignancy table.
 * <p>
 * API contract (other packages code against these record and method names; the implementation
 * fills them in and may add more): annotations, candidates, excluded findings and malignancy rows,
 * grouped by series, plus the merged candidate list the book trains on.
 */
public final class Luna16Tables {

	private Luna16Tables() {}

	/** A row of annotations.csv / annotations_excluded.csv. Coordinates in mm. */
	public record Annotation(String seriesUid, double x, double y, double z, double diameterMm) {}

	/** A row of candidates.csv / candidates_V2.csv. */
	public record Candidate(String seriesUid, double x, double y, double z, boolean isNodule) {}

	/** A row of the book's annotations_with_malignancy.csv (bounding box in mm). */
	public record MalignancyAnnotation(String seriesUid, double x, double y, double z, double diameterMm,
		boolean malignant, double[] bboxLow, double[] bboxHigh) {}

	/** The merged list the book trains on: one entry per candidate or annotated nodule. */
	public record CandidateInfo(boolean isNodule, boolean hasAnnotation, boolean isMalignant, double diameterMm,
		String seriesUid, double x, double y, double z) {}

	public static List<Annotation> readAnnotations(Path csv) throws IOException {
		throw new UnsupportedOperationException("not written yet");
	}

	public static List<Candidate> readCandidates(Path csv) throws IOException {
		throw new UnsupportedOperationException("not written yet");
	}

	public static List<MalignancyAnnotation> readMalignancy(Path csv) throws IOException {
		throw new UnsupportedOperationException("not written yet");
	}
}
