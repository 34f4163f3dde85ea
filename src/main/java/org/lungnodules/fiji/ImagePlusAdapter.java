package org.lungnodules.fiji;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.MetaImage;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.UnsignedByteType;
import net.imglib2.type.numeric.integer.UnsignedShortType;
import net.imglib2.view.Views;

/**
 * Converts CT volumes and MetaImages to calibrated ImageJ 1 images and back.
 * <p>
 * Values: ImageJ 1 has no signed 16-bit type, so every type other than unsigned 8- and 16-bit
 * becomes a 32-bit float stack, which holds HU (and any 16-bit value) exactly; the pixel values a
 * user reads are the file's values.
 * <p>
 * Geometry: pixelWidth/Height/Depth = spacing in mm, and xOrigin/yOrigin/zOrigin (in pixels) =
 * -origin/spacing, so ImageJ's calibrated coordinates equal world coordinates when the direction
 * is the identity. ImageJ has no direction matrix, so the direction, anatomical orientation and
 * exact origin/spacing go into the "Info" property as {@code Key = Value} lines, and
 * {@link #fromImagePlus} takes them back from there.
 */
public final class ImagePlusAdapter {

	/** The Info block's first line; the keys below it use MetaImage names. */
	static final String INFO_HEADING = "MetaImage geometry (x, y, z):";

	private ImagePlusAdapter() {}

	public static ImagePlus toImagePlus(CtVolume v) {
		Geometry g = v.geometry();
		Map<String, String> info = geometryInfo(v.image().getType(), g.origin(), g.spacing(), g.direction(), null);
		info.put("SeriesUID", v.seriesUid());
		return build(v.image(), v.seriesUid().isEmpty() ? "CT" : v.seriesUid(), g.origin(), g.spacing(), info, null);
	}

	public static ImagePlus toImagePlus(MetaImage m) {
		Map<String, String> info = geometryInfo(m.image().getType(), m.origin(), m.spacing(), m.direction(), m.anatomicalOrientation());
		info.put("ElementType", m.elementType());
		String title = m.source() != null ? m.source().getFileName().toString() : "MetaImage";
		return build(m.image(), title, m.origin(), m.spacing(), info, m.header());
	}

	/**
	 * A CT volume from a 3D ImagePlus: geometry from the calibration (direction, and origin and
	 * spacing to the last bit, from the Info property when it still agrees with the calibration),
	 * series UID from the title without its file extension.
	 *
	 * @throws IllegalArgumentException for RGB images or images with several channels or frames
	 */
	public static CtVolume fromImagePlus(ImagePlus imp) {
		if (imp.getNChannels() * imp.getNFrames() > 1)
			throw new IllegalArgumentException("A CT must be a single 3D stack, but '" + imp.getTitle() + "' has " + imp.getNChannels() +
				" channel(s) and " + imp.getNFrames() + " frame(s)");
		int w = imp.getWidth(), h = imp.getHeight(), d = imp.getStackSize();
		Map<String, String> info = parseInfo(imp.getInfoProperty());
		Calibration cal = imp.getCalibration();
		ImageStack stack = imp.getStack();
		RandomAccessibleInterval<? extends RealType<?>> img;
		switch (imp.getType()) {
			case ImagePlus.GRAY8:
				img = calibrated(cal) ? floats(stack, w, h, d, cal) : bytesOf(stack, w, h, d);
				break;
			case ImagePlus.GRAY16:
				if (cal.isSigned16Bit()) img = signedShorts(stack, w, h, d);
				else img = calibrated(cal) ? floats(stack, w, h, d, cal) : ArrayImgs.unsignedShorts(shortsOf(stack, w, h, d), w, h, d);
				break;
			case ImagePlus.GRAY32:
				img = "MET_SHORT".equals(info.get("ElementType")) ? shortsIfExact(stack, w, h, d) : null;
				if (img == null) img = floats(stack, w, h, d, null);
				break;
			default:
				throw new IllegalArgumentException("'" + imp.getTitle() + "' is a colour image; a CT needs gray values");
		}
		return new CtVolume(img, geometryOf(cal, info), seriesUidOf(imp.getTitle()));
	}

	/** The geometry of an image as {@link #fromImagePlus} would give it, without copying its voxels. */
	static Geometry geometryOf(ImagePlus imp) {
		return geometryOf(imp.getCalibration(), parseInfo(imp.getInfoProperty()));
	}

	// ---------------------------------------------------------------- to ImageJ

	private static ImagePlus build(RandomAccessibleInterval<? extends RealType<?>> img, String title, double[] origin, double[] spacing,
		Map<String, String> info, Map<String, String> header)
	{
		int n = img.numDimensions();
		if (n < 2 || n > 4) throw new IllegalArgumentException("ImageJ images here have 2 to 4 dimensions, not " + n);
		long plane = img.dimension(0) * img.dimension(1);
		if (plane > Integer.MAX_VALUE) throw new IllegalArgumentException("An x-y plane is too large for ImageJ: " + plane + " pixels");
		int w = (int) img.dimension(0), h = (int) img.dimension(1);
		int nz = n > 2 ? (int) img.dimension(2) : 1, nt = n > 3 ? (int) img.dimension(3) : 1;
		RealType<?> type = img.getType();
		boolean u8 = type instanceof UnsignedByteType, u16 = type instanceof UnsignedShortType;

		ImageStack stack = new ImageStack(w, h);
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		for (int p = 0; p < nz * nt; p++) {
			if (u8) {
				byte[] px = new byte[w * h];
				for (int i = 0; i < px.length; i++)
					px[i] = (byte) ((UnsignedByteType) c.next()).get();
				stack.addSlice(null, px);
			}
			else if (u16) {
				short[] px = new short[w * h];
				for (int i = 0; i < px.length; i++)
					px[i] = (short) ((UnsignedShortType) c.next()).get();
				stack.addSlice(null, px);
			}
			else {
				float[] px = new float[w * h];
				for (int i = 0; i < px.length; i++)
					px[i] = c.next().getRealFloat();
				stack.addSlice(null, px);
			}
		}
		ImagePlus imp = new ImagePlus(title, stack);
		imp.setDimensions(1, nz, nt);
		if (nt > 1) imp.setOpenAsHyperStack(true);

		Calibration cal = imp.getCalibration();
		cal.setUnit("mm");
		cal.pixelWidth = spacing[0];
		cal.pixelHeight = spacing[1];
		cal.xOrigin = -origin[0] / spacing[0];
		cal.yOrigin = -origin[1] / spacing[1];
		if (n > 2) {
			cal.pixelDepth = spacing[2];
			cal.zOrigin = -origin[2] / spacing[2];
		}
		if (n > 3) cal.frameInterval = spacing[3];

		StringBuilder sb = new StringBuilder(INFO_HEADING).append('\n');
		info.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
		if (header != null) {
			sb.append("\nMetaImage header as read:\n");
			header.forEach((k, v) -> sb.append("  ").append(k).append(" = ").append(v).append('\n'));
		}
		imp.setProperty("Info", sb.toString());
		imp.resetDisplayRange();
		return imp;
	}

	private static Map<String, String> geometryInfo(RealType<?> type, double[] origin, double[] spacing, double[] direction,
		String orientation)
	{
		int n = origin.length;
		Map<String, String> info = new LinkedHashMap<>();
		info.put("NDims", Integer.toString(n));
		info.put("Offset", join(origin));
		info.put("ElementSpacing", join(spacing));
		// The file's order: each axis direction in turn (the transpose of the row-major matrix).
		double[] fileOrder = new double[n * n];
		for (int r = 0; r < n; r++)
			for (int c = 0; c < n; c++)
				fileOrder[c * n + r] = direction[r * n + c];
		info.put("TransformMatrix", join(fileOrder));
		if (orientation != null) info.put("AnatomicalOrientation", orientation);
		if (type instanceof net.imglib2.type.numeric.integer.ShortType) info.put("ElementType", "MET_SHORT");
		return info;
	}

	private static String join(double[] v) {
		StringBuilder sb = new StringBuilder();
		for (double x : v)
			sb.append(sb.length() == 0 ? "" : " ").append(x); // Double.toString reads back exactly
		return sb.toString();
	}

	// ---------------------------------------------------------------- from ImageJ

	/** Key = Value lines of our Info block; the first occurrence of a key wins. */
	static Map<String, String> parseInfo(String info) {
		Map<String, String> out = new HashMap<>();
		if (info == null) return out;
		for (String line : info.split("\r?\n")) {
			int eq = line.indexOf('=');
			if (eq <= 0 || Character.isWhitespace(line.charAt(0))) continue;
			out.putIfAbsent(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
		}
		return out;
	}

	private static double[] numbers(String value, int count) {
		if (value == null) return null;
		String[] t = value.trim().split("\\s+");
		if (t.length != count) return null;
		double[] v = new double[count];
		try {
			for (int i = 0; i < count; i++)
				v[i] = Double.parseDouble(t[i]);
		}
		catch (NumberFormatException e) {
			return null;
		}
		return v;
	}

	private static Geometry geometryOf(Calibration cal, Map<String, String> info) {
		double scale = unitToMm(cal.getUnit());
		double[] spacing = { cal.pixelWidth * scale, cal.pixelHeight * scale, cal.pixelDepth * scale };
		double[] origin = { -cal.xOrigin * spacing[0], -cal.yOrigin * spacing[1], -cal.zOrigin * spacing[2] };
		// Prefer the exact numbers kept in Info unless the user has since changed the calibration.
		double[] exactSpacing = numbers(info.get("ElementSpacing"), 3), exactOrigin = numbers(info.get("Offset"), 3);
		if (exactSpacing != null && exactOrigin != null && close(exactSpacing, spacing) && close(exactOrigin, origin)) {
			spacing = exactSpacing;
			origin = exactOrigin;
		}
		double[] fileOrder = numbers(info.get("TransformMatrix"), 9);
		double[] direction = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
		if (fileOrder != null)
			for (int r = 0; r < 3; r++)
				for (int c = 0; c < 3; c++)
					direction[r * 3 + c] = fileOrder[c * 3 + r];
		try {
			return new Geometry(origin, spacing, direction);
		}
		catch (IllegalArgumentException e) {
			// A singular matrix in a hand-edited Info: fall back to the identity rather than fail.
			return Geometry.of(origin, spacing);
		}
	}

	private static boolean close(double[] a, double[] b) {
		for (int i = 0; i < a.length; i++)
			if (Math.abs(a[i] - b[i]) > 1e-6 * Math.max(1, Math.abs(a[i]))) return false;
		return true;
	}

	private static double unitToMm(String unit) {
		if (unit == null) return 1;
		switch (unit.trim().toLowerCase(Locale.ROOT)) {
			case "cm": case "centimeter": case "centimetre": return 10;
			case "m": case "meter": case "metre": return 1000;
			case "um": case "\u00b5m": case "\u03bcm": case "micron": case "microns": case "micrometer": return 1e-3;
			case "nm": case "nanometer": return 1e-6;
			default: return 1; // mm, or uncalibrated pixels (one pixel = 1 mm)
		}
	}

	private static final String[] EXTENSIONS = { ".nii.gz", ".mhd", ".mha", ".raw", ".zraw", ".tif", ".tiff", ".nii", ".nrrd", ".zip" };

	/**
	 * The title without a known image-file extension. Only known extensions go: LUNA16 series UIDs
	 * are full of dots ("1.3.6.1.4.1.14519...") and must survive.
	 */
	static String seriesUidOf(String title) {
		if (title == null) return "";
		String lower = title.toLowerCase(Locale.ROOT);
		for (String ext : EXTENSIONS)
			if (lower.endsWith(ext)) return title.substring(0, title.length() - ext.length());
		return title;
	}

	private static boolean calibrated(Calibration cal) {
		return cal.getFunction() != Calibration.NONE && cal.getFunction() != Calibration.UNCALIBRATED_OD;
	}

	private static RandomAccessibleInterval<? extends RealType<?>> bytesOf(ImageStack stack, int w, int h, int d) {
		byte[] all = new byte[w * h * d];
		for (int z = 0; z < d; z++)
			System.arraycopy((byte[]) stack.getPixels(z + 1), 0, all, z * w * h, w * h);
		return ArrayImgs.unsignedBytes(all, w, h, d);
	}

	private static short[] shortsOf(ImageStack stack, int w, int h, int d) {
		short[] all = new short[w * h * d];
		for (int z = 0; z < d; z++)
			System.arraycopy((short[]) stack.getPixels(z + 1), 0, all, z * w * h, w * h);
		return all;
	}

	/** ImageJ's signed 16-bit convention: stored value = HU + 32768. */
	private static RandomAccessibleInterval<? extends RealType<?>> signedShorts(ImageStack stack, int w, int h, int d) {
		short[] all = shortsOf(stack, w, h, d);
		for (int i = 0; i < all.length; i++)
			all[i] = (short) ((all[i] & 0xffff) - 32768);
		return ArrayImgs.shorts(all, w, h, d);
	}

	/** Back to 16-bit signed when every value is a whole number in range (as it was before); else null. */
	private static RandomAccessibleInterval<? extends RealType<?>> shortsIfExact(ImageStack stack, int w, int h, int d) {
		short[] all = new short[w * h * d];
		for (int z = 0; z < d; z++) {
			float[] px = (float[]) stack.getPixels(z + 1);
			for (int i = 0; i < px.length; i++) {
				float v = px[i];
				if (v != (short) v) return null;
				all[z * w * h + i] = (short) v;
			}
		}
		return ArrayImgs.shorts(all, w, h, d);
	}

	/** Float copy; with a calibration, the calibrated values (what ImageJ shows the user). */
	private static RandomAccessibleInterval<? extends RealType<?>> floats(ImageStack stack, int w, int h, int d, Calibration cal) {
		float[] all = new float[w * h * d];
		for (int z = 0; z < d; z++) {
			ij.process.ImageProcessor ip = stack.getProcessor(z + 1);
			for (int i = 0; i < w * h; i++)
				all[z * w * h + i] = cal == null ? ip.getf(i) : (float) cal.getCValue((int) ip.getf(i));
		}
		return ArrayImgs.floats(all, w, h, d);
	}
}
