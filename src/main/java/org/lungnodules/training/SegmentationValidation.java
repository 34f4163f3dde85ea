package org.lungnodules.training;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * U-Net validation as in the book (Luna2dSegmentationDataset with isValSet): every slice of the
 * validation series that holds nodule-mask voxels, as the whole slice with 3 context slices on each
 * side (indices clamped at the ends), 7×H×W, and its mask 1×H×W. H×W is the CT's own (512×512 for
 * LUNA16, but not always), so there is no single input shape: {@link #sources()} gives one
 * {@link SampleSource} per CT (inputShape {7, H, W}, labelShape {1, H, W}, epoch ignored), and
 * {@link #slices()} with {@link #fill} iterates all slices directly.
 */
public final class SegmentationValidation {

	/** One validation slice and the shape of its CT. */
	public record Slice(String seriesUid, int index, int height, int width) {}

	private final Crops crops;
	private final List<Slice> slices;
	private final List<SampleSource> sources;

	private SegmentationValidation(Crops crops, List<Slice> slices) {
		this.crops = crops;
		this.slices = List.copyOf(slices);
		List<SampleSource> perCt = new ArrayList<>();
		int from = 0;
		for (int i = 1; i <= slices.size(); i++)
			if (i == slices.size() || !slices.get(i).seriesUid().equals(slices.get(from).seriesUid())) {
				perCt.add(new PerCt(this.slices.subList(from, i)));
				from = i;
			}
		this.sources = List.copyOf(perCt);
	}

	/** Finds the positive slices of every validation series (reads each CT's mask, or the cache header). */
	public static SegmentationValidation of(LunaData data, Crops crops) throws IOException {
		List<Slice> all = new ArrayList<>();
		for (String uid : data.validationSeries()) {
			if (data.nodules(uid).isEmpty()) continue;
			int[] shape = crops.shape(uid);
			for (int z : crops.positiveSlices(uid))
				all.add(new Slice(uid, z, shape[1], shape[2]));
		}
		return new SegmentationValidation(crops, all);
	}

	public List<Slice> slices() { return slices; }

	/** One source per validation CT with nodule slices, in series order. */
	public List<SampleSource> sources() { return sources; }

	/** Fills the 7×H×W input and 1×H×W mask of a slice. */
	public SampleSource.SampleInfo fill(Slice s, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException {
		int plane = s.height() * s.width();
		for (int c = 0; c < SegmentationSamples.CHANNELS; c++) {
			int z = s.index() + c - SegmentationSamples.CONTEXT;
			boolean middle = c == SegmentationSamples.CONTEXT;
			crops.slice(s.seriesUid(), z, input, inputOffset + c * plane, middle ? label : null, labelOffset);
		}
		return new SampleSource.SampleInfo(true, 0, s.seriesUid());
	}

	private final class PerCt implements SampleSource {
		private final List<Slice> mine;

		PerCt(List<Slice> mine) { this.mine = mine; }

		@Override
		public int epochSize() { return mine.size(); }

		@Override
		public int[] inputShape() { return new int[] { SegmentationSamples.CHANNELS, mine.get(0).height(), mine.get(0).width() }; }

		@Override
		public int[] labelShape() { return new int[] { 1, mine.get(0).height(), mine.get(0).width() }; }

		@Override
		public SampleInfo fill(int epoch, int index, float[] input, int inputOffset, float[] label, int labelOffset) throws IOException {
			return SegmentationValidation.this.fill(mine.get(index), input, inputOffset, label, labelOffset);
		}
	}
}
