package org.lungnodules.fiji;

import java.awt.GraphicsEnvironment;

import ij.IJ;
import ij.ImagePlus;
import ij.macro.Interpreter;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.MetaImage;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;

/**
 * Shows a finished command's outputs the way an ImageJ user expects: images as calibrated windows
 * (or batch-mode images a macro can use), text in the Log (stdout in batch mode).
 */
final class ImageJDisplay {

	private ImageJDisplay() {}

	/**
	 * @param images whether images may be opened: not for {@code tryRun} batch jobs, which would
	 *        otherwise pile up one CT per scan in memory
	 */
	static void show(Module module, boolean images) {
		boolean canShowImages = images && (Interpreter.isBatchMode() || !GraphicsEnvironment.isHeadless());
		Object command = module instanceof org.scijava.command.CommandModule ? ((org.scijava.command.CommandModule) module).getCommand() : null;
		if (command instanceof ShowsNodules nodules) showAnalysis(nodules, canShowImages);
		for (ModuleItem<?> item : module.getInfo().outputs()) {
			Object value = module.getOutput(item.getName());
			if (value instanceof String && !((String) value).isEmpty()) IJ.log((String) value);
			else if (canShowImages && value instanceof MetaImage) withSource(ImagePlusAdapter.toImagePlus((MetaImage) value), module).show();
			else if (canShowImages && value instanceof CtVolume) withSource(ImagePlusAdapter.toImagePlus((CtVolume) value), module).show();
		}
	}

	/**
	 * The image property holding the path a CT was opened from (File › Import), so that Add Scan to
	 * Dataset and Show Annotations know which scan the image is.
	 */
	static final String SOURCE_PROPERTY = "LungNodules.source";

	private static ImagePlus withSource(ImagePlus imp, Module module) {
		Object input = module.getInput("input");
		if (input instanceof java.io.File f) imp.setProperty(SOURCE_PROPERTY, f.getAbsolutePath());
		return imp;
	}

	/** The Nodules table, the CT with its overlay, RoiManager entries and the optional label image. */
	private static void showAnalysis(ShowsNodules cmd, boolean canShowImages) {
		org.lungnodules.analysis.AnalysisResult result = cmd.result();
		if (result == null) return;
		java.util.List<org.lungnodules.analysis.Candidate> nodules = result.nodules(cmd.threshold());
		ij.measure.ResultsTable table = NoduleDisplay.table(result, cmd.threshold(), cmd.usedDemoModels());
		if (!GraphicsEnvironment.isHeadless())
			table.show(cmd.usedDemoModels() ? NoduleDisplay.TABLE + " (DEMO MODELS, synthetic CTs only)" : NoduleDisplay.TABLE);
		if (ij.Macro.getOptions() != null || Interpreter.isBatchMode() || GraphicsEnvironment.isHeadless()) {
			// Macros read results with getResult(), which reads the system Results table.
			ij.measure.ResultsTable system = ij.measure.ResultsTable.getResultsTable();
			if (system != null) NoduleDisplay.fill(system, result, cmd.threshold(), cmd.usedDemoModels());
		}
		// The image the user analysed gets its circles in any mode: it is already open, so nothing piles up.
		ImagePlus imp = cmd.image();
		if (imp != null) {
			imp.setOverlay(NoduleDisplay.overlay(imp, nodules));
			imp.updateAndDraw();
		}
		if (!canShowImages) return;
		if (imp == null && cmd.volume() != null) {
			imp = ImagePlusAdapter.toImagePlus(cmd.volume());
			imp.setOverlay(NoduleDisplay.overlay(imp, nodules));
			show(imp);
		}
		// ImageJ 1's RoiManager is a window: with no display at all (java.awt.headless) it cannot exist, and the
		// overlay and the table carry the same nodules.
		if (imp != null && !GraphicsEnvironment.isHeadless()) NoduleDisplay.addToRoiManager(imp, nodules);
		if (cmd.wantsLabelImage() && imp != null) {
			ImagePlus labels = NoduleDisplay.labelImage(result, imp.getCalibration());
			if (labels != null) show(labels);
		}
	}

	/** Shows an image unless nothing can show it (true headless without batch mode). */
	static void show(ImagePlus imp) {
		if (Interpreter.isBatchMode() || !GraphicsEnvironment.isHeadless()) imp.show();
	}
}
