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

	static void show(Module module) {
		boolean canShowImages = Interpreter.isBatchMode() || !GraphicsEnvironment.isHeadless();
		for (ModuleItem<?> item : module.getInfo().outputs()) {
			Object value = module.getOutput(item.getName());
			if (value instanceof String && !((String) value).isEmpty()) IJ.log((String) value);
			else if (canShowImages && value instanceof MetaImage) ImagePlusAdapter.toImagePlus((MetaImage) value).show();
			else if (canShowImages && value instanceof CtVolume) ImagePlusAdapter.toImagePlus((CtVolume) value).show();
		}
	}

	/** Shows an image unless nothing can show it (true headless without batch mode). */
	static void show(ImagePlus imp) {
		if (Interpreter.isBatchMode() || !GraphicsEnvironment.isHeadless()) imp.show();
	}
}
