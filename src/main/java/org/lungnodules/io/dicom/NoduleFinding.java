package org.lungnodules.io.dicom;

/**
 * One nodule reported in a DICOM Segmentation and Structured Report.
 *
 * @param rank the nodule's number as shown to the user (1 = most probable); the SR's tracking
 *        identifier is {@code "Nodule <rank>"}
 * @param label the value of the nodule's voxels in the label image (positive)
 * @param x world x (LPS, mm) of the centre
 * @param y world y (LPS, mm) of the centre
 * @param z world z (LPS, mm) of the centre
 * @param diameterMm diameter in mm
 * @param volumeMm3 volume in mm³
 * @param pNodule nodule probability, 0..1
 * @param pMalignant malignancy probability, 0..1, or NaN when not scored
 */
public record NoduleFinding(int rank, int label, double x, double y, double z, double diameterMm, double volumeMm3,
	double pNodule, double pMalignant) {

	public NoduleFinding {
		if (label <= 0) throw new IllegalArgumentException("Nodule label must be positive: " + label);
		if (!Double.isFinite(x) || !Double.isFinite(y) || !Double.isFinite(z))
			throw new IllegalArgumentException("Nodule centre must be finite");
		if (!Double.isFinite(diameterMm) || !Double.isFinite(volumeMm3) || !Double.isFinite(pNodule))
			throw new IllegalArgumentException("Nodule diameter, volume and probability must be finite");
	}

	public boolean hasMalignancy() {
		return !Double.isNaN(pMalignant);
	}
}
