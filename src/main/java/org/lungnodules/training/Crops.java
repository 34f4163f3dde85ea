package org.lungnodules.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * Where the sample sources get their raw (un-augmented) crops: from the CTs themselves
 * ({@link #fromCts}) or from a prepared {@link ChunkCache}. Both give identical values.
 * All values are HU clamped to [-1000, 1000]; masks are 0/1 floats. Thread-safe.
 */
public interface Crops {

	/** Classifier and malignancy chunk size (index, row, col). */
	int[] CHUNK = { 32, 48, 48 };
	/** Segmentation training crop before the random 64×64 cut: 7 slices of 96×96. */
	int[] SEG_CROP = { 7, 96, 96 };

	/** The 32×48×48 chunk around a candidate, C order. */
	void chunk(CandidateInfo c, float[] dst, int offset) throws IOException;

	/**
	 * The 7×96×96 crop around a nodule centre, and into {@code mask} the 96×96 nodule mask of its
	 * middle slice (the book's {@code pos_a[3:4]}: the crop's middle, which is the nodule's slice
	 * unless the crop was shifted at the end of the volume).
	 */
	void segCrop(CandidateInfo nodule, float[] dst, int offset, float[] mask, int maskOffset) throws IOException;

	/** (depth, height, width) of a CT. */
	int[] shape(String uid) throws IOException;

	/** The slices of a CT that contain nodule-mask voxels, ascending. */
	int[] positiveSlices(String uid) throws IOException;

	/**
	 * Slice {@code index} (height×width) of a CT; indices outside are clamped to the first or last
	 * slice. If {@code mask} is not null the slice's nodule mask goes there.
	 */
	void slice(String uid, int index, float[] dst, int offset, float[] mask, int maskOffset) throws IOException;

	/** Crops straight from the CT files, holding at most {@code maxVolumes} CTs in memory (least recently used go). */
	static Crops fromCts(LunaData data, int maxVolumes) {
		return new CtCrops(data, maxVolumes, null);
	}

	/** {@link #fromCts} with the default of 2 CTs in memory. */
	static Crops fromCts(LunaData data) {
		return new CtCrops(data, 2, null);
	}

	/** {@link #fromCts}, with the LIDC readers' consensus as the mask of the series that have readings ({@code masks=lidc}). */
	static Crops fromCts(LunaData data, int maxVolumes, LidcMasks masks) {
		return new CtCrops(data, maxVolumes, masks);
	}

	/** Reads CTs on demand and keeps the most recently used few. */
	final class CtCrops implements Crops {
		private final LunaData data;
		private final int maxVolumes;
		private final LidcMasks masks;
		private final Map<String, CompletableFuture<LoadedCt>> loaded;

		CtCrops(LunaData data, int maxVolumes, LidcMasks masks) {
			this.masks = masks;
			if (maxVolumes < 1) throw new IllegalArgumentException("At least one CT must fit in memory, not " + maxVolumes);
			this.data = data;
			this.maxVolumes = maxVolumes;
			this.loaded = new LinkedHashMap<>(16, 0.75f, true) {
				private static final long serialVersionUID = 1L;

				@Override
				protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<LoadedCt>> eldest) {
					return size() > CtCrops.this.maxVolumes;
				}
			};
		}

		/**
		 * The CT of a series; concurrent callers of the same series wait for one read instead of
		 * reading it twice. The read happens outside the map's lock, so other series go on.
		 */
		LoadedCt ct(String uid) throws IOException {
			CompletableFuture<LoadedCt> f;
			boolean mine = false;
			synchronized (loaded) {
				f = loaded.get(uid);
				if (f == null) {
					f = new CompletableFuture<>();
					loaded.put(uid, f);
					mine = true;
				}
			}
			if (mine) {
				try {
					f.complete(LoadedCt.read(data.ctPath(uid), uid, data.nodules(uid), masks == null ? null : masks.readingsOf(uid)));
				}
				catch (IOException | RuntimeException e) {
					f.completeExceptionally(e);
					synchronized (loaded) {
						loaded.remove(uid, f);
					}
				}
			}
			try {
				return f.join();
			}
			catch (CompletionException e) {
				Throwable cause = e.getCause();
				if (cause instanceof IOException io) throw new IOException(io.getMessage(), io);
				if (cause instanceof UncheckedIOException u) throw u.getCause();
				if (cause instanceof RuntimeException r) throw r;
				throw e;
			}
		}

		@Override
		public void chunk(CandidateInfo c, float[] dst, int offset) throws IOException {
			LoadedCt ct = ct(c.seriesUid());
			ct.copy(ct.cropStart(c.x(), c.y(), c.z(), CHUNK), CHUNK, dst, offset);
		}

		@Override
		public void segCrop(CandidateInfo n, float[] dst, int offset, float[] mask, int maskOffset) throws IOException {
			LoadedCt ct = ct(n.seriesUid());
			int[] start = ct.cropStart(n.x(), n.y(), n.z(), SEG_CROP);
			ct.copy(start, SEG_CROP, dst, offset);
			ct.copyMask(start[0] + SEG_CROP[0] / 2, start[1], SEG_CROP[1], start[2], SEG_CROP[2], mask, maskOffset);
		}

		@Override
		public int[] shape(String uid) throws IOException {
			LoadedCt ct = ct(uid);
			return new int[] { ct.depth(), ct.height(), ct.width() };
		}

		@Override
		public int[] positiveSlices(String uid) throws IOException {
			return ct(uid).positiveSlices();
		}

		@Override
		public void slice(String uid, int index, float[] dst, int offset, float[] mask, int maskOffset) throws IOException {
			LoadedCt ct = ct(uid);
			ct.copySlice(index, dst, offset);
			if (mask != null) {
				int z = Math.max(0, Math.min(ct.depth() - 1, index));
				ct.copyMask(z, 0, ct.height(), 0, ct.width(), mask, maskOffset);
			}
		}
	}
}
