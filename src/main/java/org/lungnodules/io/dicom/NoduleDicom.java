package org.lungnodules.io.dicom;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.lungnodules.ct.Geometry;

/**
 * The DICOM outputs of an analysis of a DICOM series, in one call: a Segmentation with one segment
 * per nodule, and a TID 1500 Structured Report that measures each nodule and refers to its segment.
 * Both are written atomically. With no nodule, only the report is written (a Segmentation must hold
 * at least one segment), and it says so with an empty list of measurements.
 */
public final class NoduleDicom {

	/** File name suffixes after the scan's name. */
	public static final String SEG_SUFFIX = "_nodules.seg.dcm", SR_SUFFIX = "_nodules.sr.dcm";

	/**
	 * What was written.
	 *
	 * @param segFile the Segmentation, or null when there was no nodule
	 * @param srFile the Structured Report
	 * @param segmentation the Segmentation's UIDs, or null when there was no nodule
	 * @param srSopInstanceUid the report's SOP Instance UID
	 */
	public record Written(Path segFile, Path srFile, SegmentationWriter.Written segmentation, String srSopInstanceUid) {}

	private NoduleDicom() {}

	/**
	 * Writes {@code <name>_nodules.seg.dcm} and {@code <name>_nodules.sr.dcm} into the folder.
	 *
	 * @param folder output folder (created if needed)
	 * @param name the scan's name, for example its SeriesInstanceUID
	 * @param source the source series: one image per slice of the volume, in slice order
	 * @param geometry the volume's geometry as {@code CtReader} read it
	 * @param shapeIrc volume shape (slices, rows, columns)
	 * @param labels label image, C order [slice][row][col], 0 background, {@code finding.label()} for each nodule
	 * @param findings the nodules to report, in the order of their segment numbers (1, 2, …)
	 * @param algorithm name, version and model SHA-256s
	 */
	public static Written write(Path folder, String name, SourceImages source, Geometry geometry, int[] shapeIrc, int[] labels,
		List<NoduleFinding> findings, Algorithm algorithm) throws IOException {
		Path seg = folder.resolve(name + SEG_SUFFIX), sr = folder.resolve(name + SR_SUFFIX);
		SegmentationWriter.Written w = null;
		if (!findings.isEmpty()) w = SegmentationWriter.write(seg, source, geometry, shapeIrc, labels, findings, algorithm);
		String srUid = MeasurementReportWriter.write(sr, source, w, findings, algorithm);
		return new Written(w == null ? null : seg, sr, w, srUid);
	}
}
