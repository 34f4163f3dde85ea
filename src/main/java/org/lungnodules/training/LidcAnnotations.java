package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.lungnodules.analysis.LidcConsensus;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.LidcReadings;
import org.lungnodules.io.Luna16Tables.MalignancyAnnotation;

/**
 * {@code annotations=} given as a folder of LIDC-IDRI XML readings: each series' consensus nodules
 * ({@link LidcConsensus}: the readers' marks of one nodule grouped across readers) become its
 * annotations, as the book's annotations_with_malignancy.csv has them.
 * <ul>
 * <li>centre: the mean of the readers' centroids ({@link Cluster#centre()}, LUNA16's own rule);
 * <li>diameter: that of the sphere of the readers' mean volume (LUNA16's diameter_mm is close to it);
 * <li>malignancy: mal_bool as the book (at least two readers rated 4 or 5), the readers' ratings as
 *     mal_details (so their median is the median malignancy rating); the box spans the readers' masks.
 * </ul>
 * Every {@code .xml} under the folder (subfolders too) is read and matched to a scan of the dataset
 * by the SeriesInstanceUid in its header (by its file name when the header has none); the CT is
 * read through {@link CtReader} for the geometry the readers' pixel coordinates refer to. Readings of
 * series not in the dataset are counted in {@link Result#unmatched()}.
 */
public final class LidcAnnotations {

	/** The annotations, the number of XML files used, and the series whose readings matched no scan. */
	public record Result(List<MalignancyAnnotation> annotations, int files, List<String> unmatched) {}

	private LidcAnnotations() {}

	/**
	 * @param scans the dataset's scans by series UID
	 * @param aliases other names (a DICOM folder's name) of the scans, to their series UID
	 * @throws IOException if the folder holds no XML readings, or a file is not LIDC readings (named)
	 */
	public static Result read(Path folder, Map<String, Path> scans, Map<String, String> aliases) throws IOException {
		List<Path> files;
		try (Stream<Path> s = Files.walk(folder)) {
			files = s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".xml")).sorted().toList();
		}
		if (files.isEmpty()) throw new IOException(folder + ": annotations= is a folder, but it holds no LIDC-IDRI .xml readings");
		List<MalignancyAnnotation> out = new ArrayList<>();
		TreeSet<String> unmatched = new TreeSet<>();
		for (Path f : files) {
			LidcReadings r = LidcReadings.read(f);
			String uid = r.seriesUid().isEmpty() ? CtReader.nameOf(f).replaceAll("\\.xml$", "") : r.seriesUid();
			if (!scans.containsKey(uid)) uid = aliases.getOrDefault(uid, uid);
			Path scan = scans.get(uid);
			if (scan == null) {
				unmatched.add(uid);
				continue;
			}
			CtVolume ct = CtReader.read(scan).volume();
			LidcConsensus.Result result = LidcConsensus.of(r, ct.geometry(), ct.shapeIrc(), LidcConsensus.Settings.defaults());
			for (Cluster c : result.clusters()) out.add(annotation(uid, c, ct));
		}
		return new Result(List.copyOf(out), files.size(), List.copyOf(unmatched));
	}

	/** One consensus nodule as a row of annotations_with_malignancy.csv. */
	static MalignancyAnnotation annotation(String uid, Cluster c, CtVolume ct) {
		double[] centre = c.centre();
		double meanVolume = java.util.Arrays.stream(c.readerVolumesMm3()).average().orElse(0);
		double diameter = Math.cbrt(6 * meanVolume / Math.PI);
		double[] low = { Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY };
		double[] high = { Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY };
		for (LidcConsensus.Mask m : c.readerMasks()) {
			int[] st = m.start(), sz = m.size();
			for (int corner = 0; corner < 8; corner++) {
				double i = (corner & 1) == 0 ? st[0] : st[0] + sz[0] - 1;
				double row = (corner & 2) == 0 ? st[1] : st[1] + sz[1] - 1;
				double col = (corner & 4) == 0 ? st[2] : st[2] + sz[2] - 1;
				double[] w = ct.geometry().voxelToWorld(i, row, col);
				for (int a = 0; a < 3; a++) {
					low[a] = Math.min(low[a], w[a]);
					high[a] = Math.max(high[a], w[a]);
				}
			}
		}
		for (int a = 0; a < 3; a++)
			if (!(low[a] <= high[a])) {
				low[a] = centre[a] - diameter / 2;
				high[a] = centre[a] + diameter / 2;
			}
		return new MalignancyAnnotation(uid, centre[0], centre[1], centre[2], diameter, c.malignant(), low, high, c.malignancyRatings());
	}
}
