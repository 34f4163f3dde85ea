package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.lungnodules.analysis.LidcConsensus;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.LidcReadings;

/**
 * Segmentation truth from the LIDC radiologists ({@code train-seg masks=lidc}) instead of the book's
 * −700 HU threshold around each annotated centre: a series' mask is the union of its nodules'
 * consensus masks (voxels inside at least half of the readers' contours, {@link LidcConsensus}).
 * <p>
 * <b>Where the readings are.</b> For a CT {@code NAME.mhd}, the file {@code NAME.xml} next to it.
 * With a {@code readings=} folder, also every {@code .xml} under it (subfolders too, as TCIA's
 * LIDC-XML-only download nests them), matched to the series by the SeriesInstanceUid in its header
 * (by its file name when the header has none). A file next to the CT wins over the folder. Series
 * without readings keep the threshold masks; {@link #summary()} says how many of each.
 */
public final class LidcMasks {

	private final Map<String, Path> xmlBySeries;
	private final int withReadings, withoutReadings;

	private LidcMasks(Map<String, Path> xmlBySeries, int withReadings, int withoutReadings) {
		this.xmlBySeries = xmlBySeries;
		this.withReadings = withReadings;
		this.withoutReadings = withoutReadings;
	}

	/**
	 * Finds the readings of the dataset's series.
	 *
	 * @param readingsFolder a folder of LIDC XML files, or null for the files next to the CTs only
	 * @throws IOException if the folder is missing or one of its XML files is not LIDC readings
	 */
	public static LidcMasks find(LunaData data, Path readingsFolder) throws IOException {
		Map<String, Path> folder = new TreeMap<>();
		if (readingsFolder != null) {
			if (!Files.isDirectory(readingsFolder)) throw new IOException(readingsFolder + ": readings= is not a folder");
			List<Path> files;
			try (Stream<Path> s = Files.walk(readingsFolder)) {
				files = s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".xml")).sorted().toList();
			}
			for (Path f : files) {
				LidcReadings r = LidcReadings.read(f);
				String uid = r.seriesUid().isEmpty() ? stem(f) : r.seriesUid();
				Path before = folder.put(uid, f);
				if (before != null) throw new IOException("Two reading files for series " + uid + ": " + before + " and " + f);
			}
		}
		Map<String, Path> chosen = new LinkedHashMap<>();
		int with = 0, without = 0;
		for (Map.Entry<String, Path> e : data.ctPaths().entrySet()) {
			Path ct = e.getValue();
			Path next = ct.resolveSibling(stem(ct) + ".xml");
			Path xml = Files.isRegularFile(next) ? next : folder.get(e.getKey());
			if (xml != null) {
				chosen.put(e.getKey(), xml);
				with++;
			}
			else without++;
		}
		return new LidcMasks(chosen, with, without);
	}

	/** The readings file of a series, or null when it has none (threshold masks then). */
	public Path readingsOf(String seriesUid) {
		return xmlBySeries.get(seriesUid);
	}

	public int seriesWithReadings() { return withReadings; }
	public int seriesWithoutReadings() { return withoutReadings; }

	/** For the training log. */
	public String summary() {
		return "Segmentation masks: " + withReadings + " series with LIDC readers' consensus masks, " + withoutReadings +
			" with the book's -700 HU threshold masks (no readings found)";
	}

	/**
	 * The union of the consensus masks of every nodule in the readings, for a CT of this geometry
	 * and shape (depth, height, width), C order.
	 *
	 * @throws LidcReadings.LidcException if the readings do not fit the CT
	 */
	public static BitSet consensusMask(LidcReadings readings, Geometry geometry, int[] shapeIrc) throws IOException {
		LidcConsensus.Result r = LidcConsensus.of(readings, geometry, shapeIrc, LidcConsensus.Settings.defaults());
		// Readings without a contoured nodule are a valid truth too: an empty mask.
		BitSet mask = new BitSet();
		int h = shapeIrc[1], w = shapeIrc[2];
		for (Cluster c : r.clusters()) {
			int[] st = c.consensus().start(), sz = c.consensus().size();
			for (int i = 0; i < sz[0]; i++)
				for (int y = 0; y < sz[1]; y++)
					for (int x = 0; x < sz[2]; x++)
						if (c.consensus().contains(st[0] + i, st[1] + y, st[2] + x)) mask.set(((st[0] + i) * h + st[1] + y) * w + st[2] + x);
		}
		return mask;
	}

	private static String stem(Path p) {
		String n = p.getFileName().toString();
		int dot = n.lastIndexOf('.');
		return dot > 0 ? n.substring(0, dot) : n;
	}
}
