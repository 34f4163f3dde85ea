package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

import org.lungnodules.ct.CtVolume;

/**
 * MetaImage (.mhd/.mha) reading and writing with real geometry.
 * <p>
 * API contract (other packages code against these names; the implementation fills them in):
 * <ul>
 * <li>{@code MetaImage.read(Path)}: any supported file, NDims 2–4, as an instance holding the
 * ImgLib2 image, origin, spacing, direction (row-major, column c = axis c, like SimpleITK's
 * GetDirection), anatomical orientation and the raw header.</li>
 * <li>{@code MetaImage.readVolume(Path)}: a 3D CT as {@link CtVolume}, series UID = file name
 * without extension.</li>
 * <li>{@code MetaImage.writeVolume(Path, CtVolume, boolean compress)} and
 * {@code MetaImage.write(Path, MetaImage, boolean compress)}: atomic writes.</li>
 * </ul>
 */
public final class MetaImage {

	private MetaImage() {}

	public static CtVolume readVolume(Path file) throws IOException {
		throw new UnsupportedOperationException("MetaImage reader: not written yet");
	}

	public static void writeVolume(Path file, CtVolume volume, boolean compress) throws IOException {
		throw new UnsupportedOperationException("MetaImage writer: not written yet");
	}
}
