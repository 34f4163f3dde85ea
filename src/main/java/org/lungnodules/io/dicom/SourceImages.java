package org.lungnodules.io.dicom;

import java.util.List;
import java.util.Map;

/**
 * What a derived DICOM object (a Segmentation, a Structured Report) must say about the CT series it
 * was computed from: the study, series and frame of reference it belongs to, the patient and study
 * attributes it copies, and one entry per slice of the CT volume as {@code CtReader} returned it.
 *
 * @param studyInstanceUid (0020,000D) of the source series
 * @param seriesInstanceUid (0020,000E) of the source series
 * @param frameOfReferenceUid (0020,0052); empty when the source has none
 * @param patientAndStudy attributes copied into derived objects, by DICOM keyword (for example
 *        {@code PatientName}, {@code PatientID}, {@code PatientBirthDate}, {@code PatientSex},
 *        {@code StudyDate}, {@code StudyTime}, {@code StudyID}, {@code AccessionNumber},
 *        {@code ReferringPhysicianName}); values as stored (strings, backslash-separated when
 *        multi-valued); absent keys were absent in the source
 * @param images one per slice of the volume, in the volume's slice order (index 0 first)
 */
public record SourceImages(String studyInstanceUid, String seriesInstanceUid, String frameOfReferenceUid,
	Map<String, String> patientAndStudy, List<Image> images) {

	/**
	 * One source slice.
	 *
	 * @param sopClassUid (0008,0016) of the file holding it
	 * @param sopInstanceUid (0008,0018) of the file holding it
	 * @param frameNumber the 1-based frame in a multi-frame file, 0 for a single-frame image
	 */
	public record Image(String sopClassUid, String sopInstanceUid, int frameNumber) {}

	public SourceImages {
		patientAndStudy = Map.copyOf(patientAndStudy);
		images = List.copyOf(images);
	}
}
