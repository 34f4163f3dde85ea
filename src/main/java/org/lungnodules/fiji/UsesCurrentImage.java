package org.lungnodules.fiji;

import ij.ImagePlus;

/**
 * A command that, in ImageJ, works on the current image when no {@code input=} file is given. The
 * image's calibration supplies the geometry (spacing and origin).
 */
public interface UsesCurrentImage {

	void useImage(ImagePlus imp);
}
