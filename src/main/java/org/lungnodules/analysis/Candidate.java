package org.lungnodules.analysis;

/**
 * One connected component of the segmentation, scored by the classifier(s).
 *
 * @param label component number in scipy.ndimage.label order (1-based)
 * @param index centre of mass along z (slice), in voxels, fractional
 * @param row centre along y, in voxels
 * @param col centre along x, in voxels
 * @param x world coordinate of the centre (mm), as in LUNA16's coordX
 * @param voxels component size after erosion
 * @param diameterMm diameter of the sphere with the component's volume
 * @param probability the classifier's softmax nodule probability (p_nodule)
 * @param logitNonNodule classifier logit of class 0
 * @param logitNodule classifier logit of class 1
 * @param pMalignant malignancy probability, NaN when it was not scored (no malignancy model, or
 *        p_nodule below the malignancy threshold)
 */
public record Candidate(int label, double index, double row, double col, double x, double y, double z, long voxels,
	double diameterMm, double probability, double logitNonNodule, double logitNodule, double pMalignant) {

	public boolean hasMalignancy() { return !Double.isNaN(pMalignant); }

	/** Centre (index, row, col) rounded halves-to-even, as Python's round(): the chunk centre. */
	public int[] roundedCentreIrc() {
		return new int[] { (int) Math.rint(index), (int) Math.rint(row), (int) Math.rint(col) };
	}

	Candidate withMalignancy(double p) {
		return new Candidate(label, index, row, col, x, y, z, voxels, diameterMm, probability, logitNonNodule, logitNodule, p);
	}
}
