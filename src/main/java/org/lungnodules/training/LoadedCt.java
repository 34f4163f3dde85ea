package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.io.CtReader;

/**
 * One CT held for cropping: HU clamped to [-1000, 1000] and rounded to shorts (2 bytes a voxel, so
 * a 512×512×300 scan takes 157 MB), plus the book's nodule mask of the series, built on first use.
 * <p>
 * Crops follow the published rules: centre = world → voxel, rounded half to even; start =
 * round(centre - size/2) shifted back inside the volume ({@link CtVolume#cropStart}).
 * <p>
 * The CT is held in LUNA16's orientation ({@link Reorientation}: axial slices, x toward the
 * patient's left, y posterior, z superior), as the analysis hands it to the networks, whatever
 * order its file stores the voxels in. This constructor is where training takes every CT, so the
 * networks train on the orientation they are used on; voxel positions here are the canonical
 * volume's, world positions are the file's.
 */
public final class LoadedCt {

	/** The book's mask threshold: nodule voxels are denser than -700 HU. */
	public static final int MASK_THRESHOLD_HU = -700;

	private final String uid;
	private final short[] hu;
	private final int depth, height, width;
	private final CtVolume volume;
	private final List<CandidateInfo> nodules;
	private final Path readings;
	private volatile BitSet mask;
	private volatile int[] positiveSlices;

	/**
	 * @param nodules the annotated nodules of this series, for the segmentation mask
	 */
	public LoadedCt(CtVolume source, List<CandidateInfo> nodules) {
		this(source, nodules, null);
	}

	/**
	 * @param nodules the annotated nodules of this series (crop centres; also the threshold mask's seeds)
	 * @param readings LIDC readings whose consensus is the mask instead of the book's threshold
	 *        mask ({@link LidcMasks}), or null for the threshold mask
	 */
	public LoadedCt(CtVolume input, List<CandidateInfo> nodules, Path readings) {
		CtVolume source = Reorientation.of(input).canonical();
		this.readings = readings;
		this.uid = source.seriesUid();
		this.depth = source.depth();
		this.height = source.height();
		this.width = source.width();
		long count = (long) depth * height * width;
		if (count > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("CT " + uid + " has too many voxels for one array: " + count);
		this.hu = new short[(int) count];
		float[] slice = new float[height * width];
		for (int z = 0; z < depth; z++) {
			source.copySlice(z, slice, 0, CtVolume.HU_MIN, CtVolume.HU_MAX);
			int base = z * slice.length;
			for (int i = 0; i < slice.length; i++)
				hu[base + i] = (short) Math.round(slice[i]);
		}
		this.volume = CtVolume.ofShorts(hu, width, height, depth, source.geometry(), uid);
		this.nodules = List.copyOf(nodules);
	}

	/** Reads a CT through {@link CtReader} (any format it reads; the series UID is the volume's own). */
	public static LoadedCt read(Path scan, List<CandidateInfo> nodules) throws IOException {
		return new LoadedCt(CtReader.read(scan).volume(), nodules);
	}

	/** Reads a CT, with LIDC readings as its mask's truth when {@code readings} is not null. */
	public static LoadedCt read(Path scan, List<CandidateInfo> nodules, Path readings) throws IOException {
		return new LoadedCt(CtReader.read(scan).volume(), nodules, readings);
	}

	/**
	 * Reads a CT of a dataset, known there as {@code uid} (a NIfTI file's stem, a DICOM series'
	 * SeriesInstanceUID), with LIDC readings as its mask's truth when {@code readings} is not null.
	 */
	public static LoadedCt read(Path scan, String uid, List<CandidateInfo> nodules, Path readings) throws IOException {
		CtVolume v = CtReader.read(scan).volume();
		if (uid != null && !uid.equals(v.seriesUid())) v = new CtVolume(v.image(), v.geometry(), uid);
		return new LoadedCt(v, nodules, readings);
	}

	/** True when the mask is the LIDC readers' consensus rather than the threshold mask. */
	public boolean hasReadingsMask() { return readings != null; }

	public String seriesUid() { return uid; }
	public int depth() { return depth; }
	public int height() { return height; }
	public int width() { return width; }
	public Geometry geometry() { return volume.geometry(); }
	/** Clamped HU in C order (index, row, col). Not a copy: do not change it. */
	short[] hu() { return hu; }

	/** Rounded (index, row, col) of a world point, checked to lie inside the CT. */
	public int[] centerIrc(double x, double y, double z) throws IOException {
		int[] c = volume.geometry().worldToVoxelRounded(x, y, z);
		if (c[0] < 0 || c[0] >= depth || c[1] < 0 || c[1] >= height || c[2] < 0 || c[2] >= width)
			throw new IOException("The point (" + x + ", " + y + ", " + z + ") mm of series " + uid + " lies outside its CT (voxel " +
				c[0] + ", " + c[1] + ", " + c[2] + " of " + depth + "x" + height + "x" + width + "): the tables do not match the scan");
		return c;
	}

	/** Start (index, row, col) of a crop of {@code size} around a world point, by the published rule. */
	public int[] cropStart(double x, double y, double z, int[] size) throws IOException {
		int[] c = centerIrc(x, y, z);
		try {
			return volume.cropStart(c, size);
		}
		catch (IllegalArgumentException e) {
			throw new IOException(e.getMessage(), e);
		}
	}

	/** Copies the box at {@code start} of {@code size} as floats (C order) into {@code dst}. */
	public void copy(int[] start, int[] size, float[] dst, int offset) {
		int plane = height * width;
		int o = offset;
		for (int z = start[0]; z < start[0] + size[0]; z++)
			for (int y = start[1]; y < start[1] + size[1]; y++) {
				int base = z * plane + y * width + start[2];
				for (int x = 0; x < size[2]; x++)
					dst[o++] = hu[base + x];
			}
	}

	/** Copies slice {@code index}, clamped into the volume as the book's 7-slice context does. */
	public void copySlice(int index, float[] dst, int offset) {
		int z = Math.max(0, Math.min(depth - 1, index));
		int plane = height * width, base = z * plane;
		for (int i = 0; i < plane; i++)
			dst[offset + i] = hu[base + i];
	}

	/** Writes the nodule mask (0/1) of slice {@code index}, rows {@code row0..row0+rows}, cols {@code col0..col0+cols}. */
	public void copyMask(int index, int row0, int rows, int col0, int cols, float[] dst, int offset) {
		BitSet m = mask();
		int o = offset;
		for (int y = row0; y < row0 + rows; y++) {
			int base = (index * height + y) * width;
			for (int x = col0; x < col0 + cols; x++)
				dst[o++] = m.get(base + x) ? 1f : 0f;
		}
	}

	/** The nodule mask of the whole CT, C order, built on first use. */
	public BitSet mask() {
		BitSet m = mask;
		if (m == null) {
			synchronized (this) {
				if (mask == null && readings != null) mask = readingsMask();
				if (mask == null) {
					List<int[]> centres = new ArrayList<>();
					for (CandidateInfo n : nodules) {
						try {
							centres.add(centerIrc(n.x(), n.y(), n.z()));
						}
						catch (IOException e) {
							throw new IllegalStateException(e.getMessage(), e);
						}
					}
					mask = buildMask(hu, depth, height, width, centres, MASK_THRESHOLD_HU);
				}
				m = mask;
			}
		}
		return m;
	}

	private BitSet readingsMask() {
		try {
			LidcReadings r = LidcReadings.read(readings);
			if (!r.seriesUid().isEmpty() && !r.seriesUid().equals(uid))
				throw new IOException(readings + ": the readings are of series " + r.seriesUid() + ", but they were found for the CT " + uid);
			return LidcMasks.consensusMask(r, volume.geometry(), new int[] { depth, height, width });
		}
		catch (IOException e) {
			throw new IllegalStateException(e.getMessage(), e);
		}
	}

	/** Slices (ascending) that hold at least one mask voxel: the book's segmentation validation slices. */
	public int[] positiveSlices() {
		int[] p = positiveSlices;
		if (p == null) {
			BitSet m = mask();
			int plane = height * width;
			List<Integer> out = new ArrayList<>();
			for (int z = 0; z < depth; z++) {
				int next = m.nextSetBit(z * plane);
				if (next >= 0 && next < (z + 1) * plane) out.add(z);
			}
			p = out.stream().mapToInt(Integer::intValue).toArray();
			positiveSlices = p;
		}
		return p.clone();
	}

	/**
	 * The book's nodule mask (p2ch13 buildAnnotationMask): from each centre (index, row, col) a
	 * radius grows along each axis separately, starting at 2, while the voxels at +radius and
	 * -radius are both above the threshold; the box centre ± radius (per axis) is marked, and the
	 * union of the boxes is intersected with HU > threshold.
	 * <p>
	 * As in the book, the radius where growth stops is kept, so the box reaches one voxel past the
	 * last dense pair, and a radius that would leave the volume stops one short. Two deliberate
	 * differences: the book's column extent uses the row radius (a typo, {@code cc + row_radius}); we
	 * use the column radius. And where the book's negative indices wrap to the far end of the array,
	 * ours stop at the volume edge like positive overflow, and boxes are clipped to the volume.
	 */
	public static BitSet buildMask(short[] hu, int depth, int height, int width, List<int[]> centresIrc, int thresholdHu) {
		int plane = height * width;
		BitSet box = new BitSet(hu.length);
		int[] dims = { depth, height, width };
		int[] strides = { plane, width, 1 };
		for (int[] c : centresIrc) {
			int centre = c[0] * plane + c[1] * width + c[2];
			int[] radius = new int[3];
			for (int a = 0; a < 3; a++) {
				int r = 2;
				while (true) {
					if (c[a] + r >= dims[a] || c[a] - r < 0) {
						r--;
						break;
					}
					if (hu[centre + r * strides[a]] > thresholdHu && hu[centre - r * strides[a]] > thresholdHu) r++;
					else break;
				}
				radius[a] = r;
			}
			int z0 = Math.max(0, c[0] - radius[0]), z1 = Math.min(depth - 1, c[0] + radius[0]);
			int y0 = Math.max(0, c[1] - radius[1]), y1 = Math.min(height - 1, c[1] + radius[1]);
			int x0 = Math.max(0, c[2] - radius[2]), x1 = Math.min(width - 1, c[2] + radius[2]);
			for (int z = z0; z <= z1; z++)
				for (int y = y0; y <= y1; y++)
					box.set(z * plane + y * width + x0, z * plane + y * width + x1 + 1);
		}
		BitSet mask = new BitSet(hu.length);
		for (int i = box.nextSetBit(0); i >= 0; i = box.nextSetBit(i + 1))
			if (hu[i] > thresholdHu) mask.set(i);
		return mask;
	}
}
