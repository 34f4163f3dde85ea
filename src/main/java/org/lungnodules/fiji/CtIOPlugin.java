package org.lungnodules.fiji;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Nifti;
import org.scijava.io.AbstractIOPlugin;
import org.scijava.io.IOPlugin;
import org.scijava.io.location.FileLocation;
import org.scijava.io.location.Location;
import org.scijava.plugin.Plugin;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.img.ImgFactory;
import net.imglib2.img.array.ArrayImgFactory;
import net.imglib2.loops.LoopBuilder;
import net.imglib2.type.NativeType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.util.Util;

/**
 * Lets SciJava's {@code IOService.open} read CTs as ImgLib2 images: MetaImage (.mhd, .mha), NIfTI
 * (.nii, .nii.gz) and DICOM (.dcm: the file's whole series). Axes are x, y, z; values are HU as the
 * product reads them (MetaImage: exactly as stored). Geometry is not part of an {@link Img}: code
 * that needs it calls {@link CtReader#read} directly, and the File › Import commands open CTs as
 * stored with their geometry. Because an {@code Img} cannot say which way its axes point, a 3D CT
 * whose voxel axes are not already LUNA16's (x toward the patient's left, y posterior, z superior)
 * comes back reoriented exactly into that orientation ({@link Reorientation}: axes permuted and
 * flipped, no resampling), so that whatever looks at it, an analysis included, sees the anatomy
 * the right way up; CTs more than 30° oblique, and 2D and 4D MetaImages, come as stored. Saving an {@code Img} writes a MetaImage (or,
 * named .nii/.nii.gz and 3D, a NIfTI file) with unit spacing, zero origin and identity direction.
 */
@SuppressWarnings("rawtypes")
@Plugin(type = IOPlugin.class)
public class CtIOPlugin extends AbstractIOPlugin<Img> {

	@Override
	public Class<Img> getDataType() {
		return Img.class;
	}

	@Override
	public boolean supportsOpen(Location source) {
		String name = nameOf(source);
		return isMetaImage(name) || isNifti(name) || name.endsWith(".dcm");
	}

	@Override
	public boolean supportsSave(Location destination) {
		String name = nameOf(destination);
		return isMetaImage(name) || isNifti(name);
	}

	@Override
	public boolean supportsSave(Object data, Location destination) {
		return data instanceof Img && ((Img<?>) data).firstElement() instanceof RealType && supportsSave(destination);
	}

	@Override
	public Img open(Location source) throws IOException {
		Path file = ((FileLocation) source).getFile().toPath();
		// MetaImage keeps its own reader here: it also opens 2D and 4D files, which are no CT.
		CtVolume ct;
		if (isMetaImage(nameOf(source))) {
			MetaImage m = MetaImage.read(file);
			if (m.dimensions().length != 3) return m.image();
			ct = m.toVolume(MetaImage.seriesUidOf(file));
			if (Reorientation.of(ct).isIdentity()) return m.image();
		}
		else ct = CtReader.read(file).volume();
		try {
			ct = Reorientation.of(ct, file.toString()).canonical();
		}
		catch (Reorientation.Refused e) {
			// too oblique to reorient exactly: as stored
		}
		return asImg(ct.image());
	}

	@SuppressWarnings("unchecked")
	@Override
	public void save(Img data, Location destination) throws IOException {
		Path file = ((FileLocation) destination).getFile().toPath();
		if (isNifti(nameOf(destination))) {
			if (data.numDimensions() != 3) throw new IOException(file + ": NIfTI is written for 3D CTs; this image has " + data.numDimensions() +
				" dimensions (save it as .mhd)");
			Nifti.write(file, new CtVolume(data, Geometry.unit(), CtReader.nameOf(file)));
			return;
		}
		int n = data.numDimensions();
		double[] spacing = new double[n];
		java.util.Arrays.fill(spacing, 1.0);
		MetaImage m = MetaImage.of(data, new double[n], spacing, null);
		MetaImage.write(file, m, false);
	}

	/** The readers build array images; a view (should one ever come) is copied rather than refused. */
	@SuppressWarnings({ "unchecked" })
	private static Img asImg(RandomAccessibleInterval<? extends RealType<?>> image) {
		if (image instanceof Img) return (Img) image;
		return copy((RandomAccessibleInterval) image);
	}

	private static <T extends RealType<T> & NativeType<T>> Img<T> copy(RandomAccessibleInterval<T> image) {
		ImgFactory<T> factory = new ArrayImgFactory<>(Util.getTypeFromInterval(image).createVariable());
		Img<T> out = factory.create(image);
		LoopBuilder.setImages(image, out).forEachPixel((a, b) -> b.set(a));
		return out;
	}

	private static String nameOf(Location location) {
		if (!(location instanceof FileLocation)) return "";
		return ((FileLocation) location).getFile().getName().toLowerCase(Locale.ROOT);
	}

	private static boolean isNifti(String name) {
		return name.endsWith(".nii") || name.endsWith(".nii.gz");
	}

	private static boolean isMetaImage(String name) {
		return name.endsWith(".mhd") || name.endsWith(".mha");
	}
}
