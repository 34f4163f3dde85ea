package org.lungnodules.ct;

import java.util.Arrays;
import java.util.Locale;

import net.imglib2.FinalInterval;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.MixedTransformView;
import net.imglib2.view.Views;
import net.imglib2.transform.integer.MixedTransform;

/**
 * The exact reorientation of a CT into LUNA16's orientation, and back: voxel axes permuted and
 * flipped, never interpolated, so that voxel x runs toward the patient's left, y toward posterior
 * and z toward superior (LPS; slices are axial, in increasing z). The networks were trained on
 * LUNA16's volumes, which are all stored that way, and see every CT so.
 * <p>
 * <b>Which axis goes where.</b> Each voxel axis of the input is mapped to the patient axis its
 * direction is nearest to, and flipped when it points the other way. The world position of every
 * voxel is kept: the canonical {@link Geometry} has the input's spacings permuted, the origin at
 * the input voxel that becomes voxel (0, 0, 0), and the input's direction columns permuted and
 * negated where flipped, so its direction is the identity for an axis-aligned input and keeps the
 * small residual rotation of a slightly oblique one (positive diagonal).
 * <p>
 * <b>What is refused.</b> A voxel axis more than {@value #MAX_OBLIQUE_DEGREES}° away from every
 * patient axis: exact reorientation would leave the networks a volume tilted that far from what
 * they were trained on, and a closer fit needs resampling, which changes the voxels. The refusal
 * is a {@link Refused} naming the CT.
 * <p>
 * <b>The mapping back.</b> Voxel coordinates, C-order volumes and label images computed on the
 * canonical volume are mapped back to the input's grid with {@link #toInputIrc}, {@link #toInput(float[])}
 * and {@link #toInput(int[])}, so that what a user sees refers to the image as it was opened.
 * <p>
 * Coordinates here are ImgLib2 axes 0, 1, 2 = x (column), y (row), z (index), unless a name says irc.
 */
public final class Reorientation {

	/** The most a voxel axis may be tilted from the patient axis it is mapped to. */
	public static final double MAX_OBLIQUE_DEGREES = 30.0;

	private static final String[] WORLD = { "x (patient left)", "y (posterior)", "z (superior)" };
	private static final String[] VOXEL = { "x (columns)", "y (rows)", "z (slices)" };

	/** A CT whose voxel axes are too far from the patient axes to be reoriented exactly. */
	public static final class Refused extends IllegalArgumentException {
		private static final long serialVersionUID = 1L;

		Refused(String message) {
			super(message);
		}
	}

	private final CtVolume input;
	private final CtVolume canonical;
	/** For canonical axis c: the input axis it comes from, and whether it runs the other way. */
	private final int[] axis;
	private final boolean[] flip;
	/** For input axis a: the canonical axis it goes to. */
	private final int[] canonicalOf;
	private final long[] inputDims, canonicalDims;
	private final double worstDegrees;

	private Reorientation(CtVolume input, int[] axis, boolean[] flip, double worstDegrees) {
		this.input = input;
		this.axis = axis;
		this.flip = flip;
		this.worstDegrees = worstDegrees;
		this.inputDims = input.image().dimensionsAsLongArray();
		this.canonicalOf = new int[3];
		this.canonicalDims = new long[3];
		for (int c = 0; c < 3; c++) {
			canonicalOf[axis[c]] = c;
			canonicalDims[c] = inputDims[axis[c]];
		}
		this.canonical = isIdentity() ? input : new CtVolume(view(input.image()), canonicalGeometry(), input.seriesUid());
	}

	/**
	 * The reorientation of {@code ct}.
	 *
	 * @throws Refused if a voxel axis is more than {@value #MAX_OBLIQUE_DEGREES}° from every patient
	 *         axis; the message names the CT by its series UID
	 */
	public static Reorientation of(CtVolume ct) {
		return of(ct, ct.seriesUid().isEmpty() ? "(unnamed)" : ct.seriesUid());
	}

	/** As {@link #of(CtVolume)}, naming the CT {@code name} (a file, say) in the refusal. */
	public static Reorientation of(CtVolume ct, String name) {
		double[] d = ct.geometry().direction();
		int[] worldOf = new int[3];
		boolean[] negative = new boolean[3];
		double worst = 0;
		for (int a = 0; a < 3; a++) {
			double[] col = { d[a], d[3 + a], d[6 + a] };
			double norm = Math.sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
			int w = 0;
			for (int k = 1; k < 3; k++) if (Math.abs(col[k]) > Math.abs(col[w])) w = k;
			double cos = Math.min(1, Math.abs(col[w]) / norm);
			double degrees = Math.toDegrees(Math.acos(cos));
			if (!(degrees <= MAX_OBLIQUE_DEGREES))
				throw new Refused(String.format(Locale.ROOT, "The CT %s is stored obliquely: its voxel axis %s points along (%.4f, %.4f, %.4f) " +
					"in patient coordinates (LPS), %.1f° from the nearest patient axis, %s. Only CTs whose voxel axes lie within %.0f° of the " +
					"patient axes are analysed (they are reoriented exactly, without resampling, to the axial orientation the networks were " +
					"trained on); resample this one onto an axial grid first", name, VOXEL[a], col[0] / norm, col[1] / norm, col[2] / norm, degrees,
					WORLD[w], MAX_OBLIQUE_DEGREES));
			worst = Math.max(worst, degrees);
			worldOf[a] = w;
			negative[a] = col[w] < 0;
		}
		int[] axis = { -1, -1, -1 };
		boolean[] flip = new boolean[3];
		for (int a = 0; a < 3; a++) {
			if (axis[worldOf[a]] >= 0)
				throw new Refused("The CT " + name + " has two voxel axes (" + VOXEL[axis[worldOf[a]]] + " and " + VOXEL[a] + ") along the same " +
					"patient axis " + WORLD[worldOf[a]] + " (direction " + Arrays.toString(d) + "): it cannot be reoriented");
			axis[worldOf[a]] = a;
			flip[worldOf[a]] = negative[a];
		}
		return new Reorientation(ct, axis, flip, worst);
	}

	/** The CT as given. */
	public CtVolume input() { return input; }

	/**
	 * The CT in LUNA16's orientation: a view of the input's voxels (no copy), or the input itself when
	 * it is already so oriented.
	 */
	public CtVolume canonical() { return canonical; }

	/** True when the input already is in LUNA16's orientation (nothing is permuted or flipped). */
	public boolean isIdentity() {
		return axis[0] == 0 && axis[1] == 1 && axis[2] == 2 && !flip[0] && !flip[1] && !flip[2];
	}

	/** For canonical axis c (0 = x, 1 = y, 2 = z), the input's voxel axis it comes from. */
	public int inputAxis(int c) { return axis[c]; }

	/** Whether canonical axis c runs opposite to the input axis it comes from. */
	public boolean flipped(int c) { return flip[c]; }

	/** The largest angle, in degrees, between a voxel axis and the patient axis it was mapped to (0 for an axis-aligned CT). */
	public double obliqueDegrees() { return worstDegrees; }

	/** What was done, for logs: "as stored (already LPS)", or e.g. "y from input y reversed" or "y from input z reversed, z from input y". */
	public String describe() {
		if (isIdentity()) return "as stored (already LPS)";
		StringBuilder sb = new StringBuilder();
		String[] n = { "x", "y", "z" };
		for (int c = 0; c < 3; c++) {
			if (axis[c] == c && !flip[c]) continue;
			if (sb.length() > 0) sb.append(", ");
			sb.append(n[c]).append(" from input ").append(n[axis[c]]).append(flip[c] ? " reversed" : "");
		}
		return sb.toString();
	}

	// ---------------------------------------------------------------- voxel coordinates

	/** A canonical voxel position (index, row, col), possibly fractional, as the input's (index, row, col). */
	public double[] toInputIrc(double index, double row, double col) {
		double[] canon = { col, row, index }, in = new double[3];
		for (int c = 0; c < 3; c++) {
			int a = axis[c];
			in[a] = flip[c] ? inputDims[a] - 1 - canon[c] : canon[c];
		}
		return new double[] { in[2], in[1], in[0] };
	}

	/** An input voxel position (index, row, col), possibly fractional, as the canonical volume's (index, row, col). */
	public double[] toCanonicalIrc(double index, double row, double col) {
		double[] in = { col, row, index }, canon = new double[3];
		for (int c = 0; c < 3; c++) {
			int a = axis[c];
			canon[c] = flip[c] ? inputDims[a] - 1 - in[a] : in[a];
		}
		return new double[] { canon[2], canon[1], canon[0] };
	}

	// ---------------------------------------------------------------- whole volumes (C order: index, row, col)

	/** A canonical C-order volume (e.g. the U-Net probability) on the input's grid; the same array when nothing moves. */
	public float[] toInput(float[] canonicalValues) {
		if (isIdentity()) return canonicalValues;
		float[] out = new float[checkLength(canonicalValues.length)];
		Walk w = new Walk(true);
		for (int i = 0; i < out.length; i++) out[i] = canonicalValues[w.next()];
		return out;
	}

	/** A canonical C-order label image on the input's grid; the same array when nothing moves. */
	public int[] toInput(int[] canonicalValues) {
		if (isIdentity()) return canonicalValues;
		int[] out = new int[checkLength(canonicalValues.length)];
		Walk w = new Walk(true);
		for (int i = 0; i < out.length; i++) out[i] = canonicalValues[w.next()];
		return out;
	}

	/** An input C-order volume on the canonical grid; the same array when nothing moves. */
	public float[] toCanonical(float[] inputValues) {
		if (isIdentity()) return inputValues;
		float[] out = new float[checkLength(inputValues.length)];
		Walk w = new Walk(false);
		for (int i = 0; i < out.length; i++) out[i] = inputValues[w.next()];
		return out;
	}

	private int checkLength(int length) {
		long n = inputDims[0] * inputDims[1] * inputDims[2];
		if (length != n)
			throw new IllegalArgumentException("A volume of " + length + " values is not one of this CT's " + n + " voxels");
		return length;
	}

	/**
	 * Walks one grid in C order (x fastest) and yields, for each voxel, its linear index in the
	 * other grid: incremental, one addition per voxel and one per row and plane.
	 */
	private final class Walk {
		private final long[] dims;
		private final long[] step = new long[3];
		private final long[] pos = new long[3];
		private long at;
		private boolean started;

		/** @param overInput walk the input grid (yield canonical indices), else the canonical grid (yield input indices) */
		Walk(boolean overInput) {
			dims = overInput ? inputDims : canonicalDims;
			long[] otherDims = overInput ? canonicalDims : inputDims;
			long[] otherStride = { 1, otherDims[0], otherDims[0] * otherDims[1] };
			long base = 0;
			for (int k = 0; k < 3; k++) {
				// the axis of the other grid that walking axis k moves along, and whether backwards
				int c = overInput ? canonicalOf[k] : axis[k];
				boolean back = overInput ? flip[c] : flip[k];
				step[k] = back ? -otherStride[c] : otherStride[c];
				if (back) base += otherStride[c] * (otherDims[c] - 1);
			}
			at = base;
		}

		int next() {
			if (!started) {
				started = true;
				return (int) at;
			}
			for (int k = 0; k < 3; k++) {
				if (++pos[k] < dims[k]) {
					at += step[k];
					return (int) at;
				}
				at -= step[k] * (dims[k] - 1);
				pos[k] = 0;
			}
			throw new IllegalStateException("walked past the volume");
		}
	}

	// ---------------------------------------------------------------- the view and its geometry

	private RandomAccessibleInterval<? extends RealType<?>> view(RandomAccessibleInterval<? extends RealType<?>> image) {
		return typedView(image);
	}

	private <T extends RealType<T>> RandomAccessibleInterval<T> typedView(RandomAccessibleInterval<? extends RealType<?>> image) {
		@SuppressWarnings("unchecked")
		RandomAccessibleInterval<T> img = (RandomAccessibleInterval<T>) image;
		// The transform maps canonical voxel coordinates (its source) to input voxel coordinates (its target).
		MixedTransform t = new MixedTransform(3, 3);
		int[] component = new int[3];
		boolean[] inversion = new boolean[3];
		long[] translation = new long[3];
		for (int a = 0; a < 3; a++) {
			int c = canonicalOf[a];
			component[a] = c;
			inversion[a] = flip[c];
			translation[a] = flip[c] ? inputDims[a] - 1 : 0;
		}
		t.setComponentMapping(component);
		t.setComponentInversion(inversion);
		t.setTranslation(translation);
		return Views.interval(new MixedTransformView<>(img, t), new FinalInterval(canonicalDims));
	}

	private Geometry canonicalGeometry() {
		Geometry g = input.geometry();
		double[] d = g.direction(), s = g.spacing();
		double[] spacing = new double[3], direction = new double[9];
		double[] corner = new double[3]; // the input voxel (x, y, z) that becomes canonical voxel 0
		for (int c = 0; c < 3; c++) {
			int a = axis[c];
			spacing[c] = s[a];
			for (int r = 0; r < 3; r++) direction[3 * r + c] = flip[c] ? -d[3 * r + a] : d[3 * r + a];
			corner[a] = flip[c] ? inputDims[a] - 1 : 0;
		}
		double[] origin = g.voxelToWorld(corner[2], corner[1], corner[0]);
		return new Geometry(origin, spacing, direction);
	}

	@Override
	public String toString() {
		return "Reorientation[" + describe() + ", input " + Arrays.toString(inputDims) + " -> " + Arrays.toString(canonicalDims) + "]";
	}
}
