package org.lungnodules.ct;

import java.util.Arrays;
import java.util.Objects;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.IntervalView;
import net.imglib2.view.Views;

/**
 * A 3D CT scan in Hounsfield units: an ImgLib2 image with axes (x, y, z), its geometry and its
 * series UID. Voxel values are kept in whatever type the file had (LUNA16 uses 16-bit signed), and
 * networks read them through the clamped float copies below.
 */
public final class CtVolume {

	/** The published recipe clamps HU to this range before any network sees them. */
	public static final float HU_MIN = -1000f, HU_MAX = 1000f;

	private final RandomAccessibleInterval<? extends RealType<?>> image;
	private final Geometry geometry;
	private final String seriesUid;

	public CtVolume(RandomAccessibleInterval<? extends RealType<?>> image, Geometry geometry, String seriesUid) {
		Objects.requireNonNull(image, "image");
		if (image.numDimensions() != 3)
			throw new IllegalArgumentException("A CT must be 3D, but this image has " + image.numDimensions() + " dimension(s)");
		for (int d = 0; d < 3; d++)
			if (image.min(d) != 0) throw new IllegalArgumentException("CT images must start at 0 on every axis");
		this.image = image;
		this.geometry = Objects.requireNonNull(geometry, "geometry");
		this.seriesUid = seriesUid == null ? "" : seriesUid;
	}

	/** A volume backed by a short[] in x-fastest order, as MET_SHORT files store it. */
	public static CtVolume ofShorts(short[] hu, int width, int height, int depth, Geometry geometry, String seriesUid) {
		return new CtVolume(ArrayImgs.shorts(hu, width, height, depth), geometry, seriesUid);
	}

	public RandomAccessibleInterval<? extends RealType<?>> image() { return image; }
	public Geometry geometry() { return geometry; }
	public String seriesUid() { return seriesUid; }

	public int width() { return (int) image.dimension(0); }
	public int height() { return (int) image.dimension(1); }
	public int depth() { return (int) image.dimension(2); }
	/** Shape in (index, row, col) order. */
	public int[] shapeIrc() { return new int[] { depth(), height(), width() }; }

	/**
	 * Copies slice {@code index} (clamped to the volume, as the published 7-slice context does at
	 * the ends) into {@code dst} at {@code offset}, row-major, HU clamped to [lo, hi].
	 */
	public void copySlice(int index, float[] dst, int offset, float lo, float hi) {
		int z = Math.max(0, Math.min(depth() - 1, index));
		copyBox(new int[] { z, 0, 0 }, new int[] { 1, height(), width() }, dst, offset, lo, hi);
	}

	/**
	 * Copies the box starting at {@code startIrc} with size {@code sizeIrc} into {@code dst},
	 * C order (index slowest, col fastest), clamped to [lo, hi]. NaN becomes lo, so a broken scan
	 * cannot poison a whole batch.
	 */
	public void copyBox(int[] startIrc, int[] sizeIrc, float[] dst, int offset, float lo, float hi) {
		long count = checkedSize(sizeIrc);
		if (startIrc.length != 3) throw new IllegalArgumentException("A box start needs 3 values (index, row, col)");
		if (offset < 0 || offset + count > dst.length)
			throw new IndexOutOfBoundsException("A box of " + count + " voxels does not fit at " + offset + " in an array of " + dst.length);
		long[] min = { startIrc[2], startIrc[1], startIrc[0] };
		long[] max = { startIrc[2] + sizeIrc[2] - 1L, startIrc[1] + sizeIrc[1] - 1L, startIrc[0] + sizeIrc[0] - 1L };
		for (int d = 0; d < 3; d++)
			if (min[d] < 0 || max[d] >= image.dimension(d))
				throw new IndexOutOfBoundsException("Box outside the volume on axis " + d);
		IntervalView<? extends RealType<?>> box = Views.interval(image, min, max);
		// flatIterable guarantees x-fastest order, which is C order for (index, row, col).
		Cursor<? extends RealType<?>> c = Views.flatIterable(box).cursor();
		int i = offset;
		while (c.hasNext()) {
			float v = c.next().getRealFloat();
			dst[i++] = v != v ? lo : (v < lo ? lo : (v > hi ? hi : v));
		}
	}

	/**
	 * Start of a crop of size {@code sizeIrc} centred at {@code centerIrc}, by the published rule:
	 * start = round(centre - size/2) (halves to even), then shifted back inside the volume, never
	 * padded.
	 *
	 * @throws IllegalArgumentException if the volume is smaller than the crop on some axis or the
	 *         centre lies outside the volume
	 */
	public int[] cropStart(int[] centerIrc, int[] sizeIrc) {
		checkedSize(sizeIrc);
		if (centerIrc.length != 3) throw new IllegalArgumentException("A crop centre needs 3 values (index, row, col)");
		int[] shape = shapeIrc();
		int[] start = new int[3];
		String[] names = { "index (z)", "row (y)", "col (x)" };
		for (int a = 0; a < 3; a++) {
			if (shape[a] < sizeIrc[a])
				throw new IllegalArgumentException("The CT " + seriesUid + " has " + shape[a] + " voxels along " + names[a] +
					", fewer than the " + sizeIrc[a] + " a crop needs");
			if (centerIrc[a] < 0 || centerIrc[a] >= shape[a])
				throw new IllegalArgumentException("Centre " + centerIrc[a] + " along " + names[a] + " lies outside the CT (0.." +
					(shape[a] - 1) + ")");
			int s = (int) Math.rint(centerIrc[a] - sizeIrc[a] / 2.0);
			if (s < 0) s = 0;
			if (s + sizeIrc[a] > shape[a]) s = shape[a] - sizeIrc[a];
			start[a] = s;
		}
		return start;
	}

	/** A crop by {@link #cropStart}, clamped to [{@link #HU_MIN}, {@link #HU_MAX}], C order. */
	public float[] crop(int[] centerIrc, int[] sizeIrc) {
		// cropStart first: it refuses crops larger than the CT, which bounds the allocation below.
		int[] start = cropStart(centerIrc, sizeIrc);
		long count = checkedSize(sizeIrc);
		if (count > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("A crop of " + count + " voxels is too large for one array");
		float[] out = new float[(int) count];
		copyBox(start, sizeIrc, out, 0, HU_MIN, HU_MAX);
		return out;
	}

	/** Voxel count of a box, after checking it has 3 positive sizes (a zero or negative size is a caller bug). */
	private static long checkedSize(int[] sizeIrc) {
		if (sizeIrc.length != 3) throw new IllegalArgumentException("A box size needs 3 values (index, row, col)");
		for (int s : sizeIrc)
			if (s < 1) throw new IllegalArgumentException("Box sizes must be positive: " + Arrays.toString(sizeIrc));
		return (long) sizeIrc[0] * sizeIrc[1] * sizeIrc[2];
	}
}
