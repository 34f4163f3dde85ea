package org.lungnodules.fiji;

import java.awt.Color;
import java.util.List;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.gui.TextRoi;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.plugin.frame.RoiManager;
import ij.process.FloatProcessor;

import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;

/**
 * Puts an analysis where an ImageJ user looks for it: a "Nodules" ResultsTable (also the macro
 * Results table when a macro asked, so {@code getResult("probability", 0)} works), circles on the
 * CT's overlay on every slice a nodule spans, RoiManager entries by rank, and optionally a label
 * image from the segmentation.
 */
final class NoduleDisplay {

	static final String TABLE = "Nodules";

	private NoduleDisplay() {}

	/** The table of candidates at or above the threshold, by probability, highest first. */
	static ResultsTable table(AnalysisResult result, double threshold, boolean demoModels) {
		return fill(new ResultsTable(), result, threshold, demoModels);
	}

	/**
	 * Replaces the rows of {@code rt} with the nodules. With demo models every row says so in a
	 * {@code models} column, so a table copied out of Fiji keeps the warning.
	 */
	static ResultsTable fill(ResultsTable rt, AnalysisResult result, double threshold, boolean demoModels) {
		rt.reset();
		int rank = 0;
		for (Candidate c : result.nodules(threshold)) {
			rt.incrementCounter();
			rt.addValue("rank", ++rank);
			rt.addValue("seriesuid", result.seriesUid());
			rt.addValue("coordX", c.x());
			rt.addValue("coordY", c.y());
			rt.addValue("coordZ", c.z());
			rt.addValue("probability", c.probability());
			// Without a malignancy model the column would be all NaN: leave it out instead.
			if (result.malignancyScored()) rt.addValue("p_malignant", c.hasMalignancy() ? c.pMalignant() : Double.NaN);
			rt.addValue("index", c.index());
			rt.addValue("row", c.row());
			rt.addValue("col", c.col());
			rt.addValue("voxels", c.voxels());
			rt.addValue("diameter_mm", c.diameterMm());
			if (demoModels) rt.addValue("models", "DEMO (synthetic CTs only)");
			if (result.lossyInput()) rt.addValue("input", "LOSSY (lossy-compressed DICOM)");
		}
		for (String column : new String[] { "probability", "p_malignant" }) {
			int index = rt.getColumnIndex(column); // -1 when no nodule was found
			if (index >= 0) rt.setDecimalPlaces(index, 4);
		}
		return rt;
	}

	/** Yellow for benign through orange to red for malignant; yellow when malignancy was not scored. */
	static Color colour(Candidate c) {
		if (!c.hasMalignancy()) return Color.YELLOW;
		float p = (float) Math.max(0, Math.min(1, c.pMalignant()));
		return new Color(1f, 1f - p, 0f);
	}

	static String label(int rank, Candidate c) {
		return c.hasMalignancy() ? String.format("#%d p=%.2f mal=%.2f", rank, c.probability(), c.pMalignant())
			: String.format("#%d p=%.2f", rank, c.probability());
	}

	/** Circles of each nodule's estimated diameter on every slice it spans, labelled on its centre slice. */
	static Overlay overlay(ImagePlus imp, List<Candidate> nodules) {
		Overlay overlay = imp.getOverlay() == null ? new Overlay() : imp.getOverlay();
		Calibration cal = imp.getCalibration();
		double sx = cal.pixelWidth, sy = cal.pixelHeight, sz = cal.pixelDepth;
		int rank = 0;
		for (Candidate c : nodules) {
			rank++;
			double r = c.diameterMm() / 2;
			Color colour = colour(c);
			int zc = (int) Math.round(c.index());
			int reach = (int) Math.ceil(r / sz);
			for (int z = Math.max(0, zc - reach); z <= Math.min(imp.getStackSize() - 1, zc + reach); z++) {
				double dz = (z - c.index()) * sz;
				if (Math.abs(dz) > r) continue;
				double rr = Math.sqrt(r * r - dz * dz);
				double rx = Math.max(1.5, rr / sx), ry = Math.max(1.5, rr / sy);
				Roi circle = new OvalRoi(c.col() + 0.5 - rx, c.row() + 0.5 - ry, 2 * rx, 2 * ry);
				circle.setStrokeColor(colour);
				circle.setStrokeWidth(z == zc ? 2 : 1);
				circle.setPosition(z + 1);
				circle.setName(label(rank, c));
				overlay.add(circle);
				if (z == zc) {
					TextRoi text = new TextRoi(c.col() + rx + 2, c.row() - ry - 2, label(rank, c));
					text.setStrokeColor(colour);
					text.setPosition(z + 1);
					overlay.add(text);
				}
			}
		}
		return overlay;
	}

	/** RoiManager entries named by rank and probability, each on its nodule's centre slice. */
	static void addToRoiManager(ImagePlus imp, List<Candidate> nodules) {
		RoiManager rm = RoiManager.getRoiManager();
		if (rm == null) return;
		Calibration cal = imp.getCalibration();
		int rank = 0;
		for (Candidate c : nodules) {
			rank++;
			double rx = Math.max(1.5, c.diameterMm() / 2 / cal.pixelWidth), ry = Math.max(1.5, c.diameterMm() / 2 / cal.pixelHeight);
			Roi roi = new OvalRoi(c.col() + 0.5 - rx, c.row() + 0.5 - ry, 2 * rx, 2 * ry);
			roi.setStrokeColor(colour(c));
			roi.setPosition((int) Math.round(c.index()) + 1);
			roi.setName(label(rank, c));
			rm.addRoi(roi);
		}
	}

	/** The component labels as a calibrated 32-bit stack (0 = background). */
	static ImagePlus labelImage(AnalysisResult result, Calibration cal) {
		int[] shape = result.shapeIrc();
		int[] labels = result.labels();
		if (labels == null) return null;
		ImageStack stack = new ImageStack(shape[2], shape[1]);
		int plane = shape[1] * shape[2];
		for (int z = 0; z < shape[0]; z++) {
			float[] px = new float[plane];
			for (int i = 0; i < plane; i++) px[i] = labels[z * plane + i];
			stack.addSlice(new FloatProcessor(shape[2], shape[1], px));
		}
		ImagePlus imp = new ImagePlus(result.seriesUid() + " components", stack);
		imp.setCalibration(cal.copy());
		imp.setDisplayRange(0, Math.max(1, result.candidates().size()));
		return imp;
	}
}
