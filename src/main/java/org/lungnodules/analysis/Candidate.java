package org.lungnodules.analysis;

import org.lungnodules.ct.Geometry;

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

	/**
	 * A given world point (x, y, z mm) as a candidate to classify or score: centre from the CT's
	 * geometry, no component behind it, p_nodule 1 so that malignancy scoring takes it.
	 */
	public static Candidate atPoint(int label, Geometry geometry, double x, double y, double z) {
		double[] irc = geometry.worldToVoxel(x, y, z);
		return new Candidate(label, irc[0], irc[1], irc[2], x, y, z, 0, 0, 1.0, Double.NaN, Double.NaN, Double.NaN);
	}

	public boolean hasMalignancy() { return !Double.isNaN(pMalignant); }

	/** Centre (index, row, col) rounded halves-to-even, as Python's round(): the chunk centre. */
	public int[] roundedCentreIrc() {
		return new int[] { (int) Math.rint(index), (int) Math.rint(row), (int) Math.rint(col) };
	}

	Candidate withMalignancy(double p) {
		return new Candidate(label, index, row, col, x, y, z, voxels, diameterMm, probability, logitNonNodule, logitNodule, p);
	}
}
