package org.lungnodules.fiji;

import java.io.IOException;
import java.util.Locale;

import org.lungnodules.io.MetaImage;
import org.scijava.io.AbstractIOPlugin;
import org.scijava.io.IOPlugin;
import org.scijava.io.location.FileLocation;
import org.scijava.io.location.Location;
import org.scijava.plugin.Plugin;

import net.imglib2.img.Img;

/**
 * Lets SciJava's {@code IOService.open} read MetaImage files (.mhd, .mha) as ImgLib2 images
 * (axes x, y, z[, t]; values exactly as stored). Geometry is not part of an {@link Img}: code
 * that needs it calls {@link MetaImage#read} directly. Saving an {@code Img} writes it with unit
 * spacing, zero origin and identity direction.
 */
@SuppressWarnings("rawtypes")
@Plugin(type = IOPlugin.class)
public class MetaImageIOPlugin extends AbstractIOPlugin<Img> {

	@Override
	public Class<Img> getDataType() {
		return Img.class;
	}

	@Override
	public boolean supportsOpen(Location source) {
		return isMetaImage(source);
	}

	@Override
	public boolean supportsSave(Location destination) {
		return isMetaImage(destination);
	}

	@Override
	public boolean supportsSave(Object data, Location destination) {
		return data instanceof Img && ((Img<?>) data).firstElement() instanceof net.imglib2.type.numeric.RealType &&
			isMetaImage(destination);
	}

	@Override
	public Img open(Location source) throws IOException {
		return MetaImage.read(((FileLocation) source).getFile().toPath()).image();
	}

	@SuppressWarnings("unchecked")
	@Override
	public void save(Img data, Location destination) throws IOException {
		int n = data.numDimensions();
		double[] spacing = new double[n];
		java.util.Arrays.fill(spacing, 1.0);
		MetaImage m = MetaImage.of(data, new double[n], spacing, null);
		MetaImage.write(((FileLocation) destination).getFile().toPath(), m, false);
	}

	private static boolean isMetaImage(Location location) {
		if (!(location instanceof FileLocation)) return false;
		String name = ((FileLocation) location).getFile().getName().toLowerCase(Locale.ROOT);
		return name.endsWith(".mhd") || name.endsWith(".mha");
	}
}
