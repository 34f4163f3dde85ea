package org.lungnodules.phantom;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleConsumer;

import org.lungnodules.phantom.ChestPhantom.Candidate;
import org.lungnodules.phantom.ChestPhantom.Nodule;
import org.lungnodules.io.MetaImage;

/**
 * Writes a LUNA16-like dataset of phantoms to a folder: {@code <uid>.mhd} + raw data for each CT,
 * and {@code annotations.csv}, {@code annotations_with_malignancy.csv} (the book's columns) and
 * {@code candidates.csv}. CT {@code i} is {@link ChestPhantom#generate ChestPhantom.generate(seed, i, ...)},
 * so any CT of a dataset can be regenerated in memory.
 * <p>
 * On cancel the tables are still written for the CTs finished so far, so the folder is always a
 * consistent (smaller) dataset.
 */
public final class PhantomDataset {

	private PhantomDataset() {}

	public static final String ANNOTATIONS = "annotations.csv", MALIGNANCY = "annotations_with_malignancy.csv",
		CANDIDATES = "candidates.csv";

	/** Phantom settings plus what the writer needs. Immutable; {@code with...} returns changed copies. */
	public static final class Options {
		private ChestPhantom.Options phantom = ChestPhantom.Options.defaults();
		private boolean compress;
		private boolean writeImages = true;
		private DoubleConsumer progress = p -> {};
		private BooleanSupplier cancel = () -> false;

		public static Options defaults() {
			return new Options();
		}

		private Options copy() {
			Options o = new Options();
			o.phantom = phantom; o.compress = compress; o.writeImages = writeImages; o.progress = progress; o.cancel = cancel;
			return o;
		}

		public Options withPhantom(ChestPhantom.Options phantom) {
			Options o = copy();
			o.phantom = Objects.requireNonNull(phantom, "phantom options");
			return o;
		}

		/** Size (z, y, x) in voxels; shortcut for the phantom options. */
		public Options withSize(int depth, int height, int width) { return withPhantom(phantom.withSize(depth, height, width)); }
		/** Spacing (x, y, z) in mm. */
		public Options withSpacing(double x, double y, double z) { return withPhantom(phantom.withSpacing(x, y, z)); }
		public Options withNodules(int min, int max) { return withPhantom(phantom.withNodules(min, max)); }
		public Options withDiameterRange(double minMm, double maxMm) { return withPhantom(phantom.withDiameterRange(minMm, maxMm)); }
		public Options withSolidOnly(boolean solidOnly) { return withPhantom(phantom.withSolidOnly(solidOnly)); }
		public Options withJuxtaPleuralFraction(double fraction) { return withPhantom(phantom.withJuxtaPleuralFraction(fraction)); }

		/** zlib-compressed data files (.zraw), as MetaImage's CompressedData. */
		public Options withCompression(boolean compress) {
			Options o = copy();
			o.compress = compress;
			return o;
		}

		/** False writes only the three tables (quick dry runs; the CTs can be regenerated from the seed). */
		public Options withImages(boolean writeImages) {
			Options o = copy();
			o.writeImages = writeImages;
			return o;
		}

		/** Receives the finished fraction, 0–1, after each step. */
		public Options withProgress(DoubleConsumer progress) {
			Options o = copy();
			o.progress = progress == null ? p -> {} : progress;
			return o;
		}

		/** Polled between and during CTs; true stops the run. */
		public Options withCancel(BooleanSupplier cancel) {
			Options o = copy();
			o.cancel = cancel == null ? () -> false : cancel;
			return o;
		}

		public ChestPhantom.Options phantom() { return phantom; }
		public boolean compress() { return compress; }
		public boolean writeImages() { return writeImages; }
	}

	/** What was written. {@code cancelled} is true when the run stopped early (the tables cover {@code seriesUids}). */
	public record Result(Path dir, List<String> seriesUids, int noduleCount, int candidateCount, boolean cancelled) {}

	/**
	 * Writes {@code count} phantoms and the three tables into {@code dir} (created if missing).
	 *
	 * @throws IOException if a file cannot be written; the message names it
	 */
	public static Result write(Path dir, long seed, int count, Options options) throws IOException {
		if (count < 0) throw new IllegalArgumentException("Number of CTs must not be negative: " + count);
		Options o = options == null ? Options.defaults() : options;
		Files.createDirectories(dir);
		StringBuilder annotations = new StringBuilder("seriesuid,coordX,coordY,coordZ,diameter_mm\n");
		StringBuilder malignancy = new StringBuilder("seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details," +
			"bboxLowX,bboxLowY,bboxLowZ,bboxHighX,bboxHighY,bboxHighZ,len_mal_details\n");
		StringBuilder candidates = new StringBuilder("seriesuid,coordX,coordY,coordZ,class\n");
		List<String> uids = new ArrayList<>();
		int nodules = 0, candidateRows = 0;
		boolean cancelled = false;
		for (int i = 0; i < count; i++) {
			ChestPhantom phantom;
			try {
				if (o.cancel.getAsBoolean()) throw new CancellationException();
				phantom = ChestPhantom.generate(seed, i, o.phantom, o.cancel);
			} catch (CancellationException e) {
				cancelled = true;
				break;
			}
			o.progress.accept((i + 0.7) / count);
			String uid = phantom.seriesUid();
			if (o.writeImages) MetaImage.writeVolume(dir.resolve(uid + ".mhd"), phantom.volume(), o.compress);
			for (Nodule n : phantom.nodules()) {
				double[] c = n.centerXyz(), lo = n.bboxLowXyz(), hi = n.bboxHighXyz();
				annotations.append(uid).append(',').append(num(c[0])).append(',').append(num(c[1])).append(',').append(num(c[2]))
					.append(',').append(num(n.diameterMm())).append('\n');
				malignancy.append(uid).append(',').append(num(c[0])).append(',').append(num(c[1])).append(',').append(num(c[2]))
					.append(',').append(num(n.diameterMm())).append(',').append(n.malignant() ? "True" : "False")
					.append(",\"").append(n.malignancyDetails()).append("\"");
				for (double v : lo) malignancy.append(',').append(num(v));
				for (double v : hi) malignancy.append(',').append(num(v));
				malignancy.append(',').append(n.malignancyRatings().length).append('\n');
				nodules++;
			}
			for (Candidate c : phantom.candidates()) {
				candidates.append(uid).append(',').append(num(c.x())).append(',').append(num(c.y())).append(',').append(num(c.z()))
					.append(',').append(c.isNodule() ? 1 : 0).append('\n');
				candidateRows++;
			}
			uids.add(uid);
			o.progress.accept((i + 1.0) / count);
		}
		writeAtomically(dir.resolve(ANNOTATIONS), annotations);
		writeAtomically(dir.resolve(MALIGNANCY), malignancy);
		writeAtomically(dir.resolve(CANDIDATES), candidates);
		return new Result(dir, Collections.unmodifiableList(uids), nodules, candidateRows, cancelled);
	}

	private static String num(double v) {
		return String.format(Locale.ROOT, "%.4f", v);
	}

	private static void writeAtomically(Path file, CharSequence text) throws IOException {
		Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
		try {
			Files.writeString(tmp, text, StandardCharsets.UTF_8);
			Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		} catch (IOException e) {
			Files.deleteIfExists(tmp);
			throw new IOException("Cannot write " + file + ": " + e.getMessage(), e);
		}
	}
}
