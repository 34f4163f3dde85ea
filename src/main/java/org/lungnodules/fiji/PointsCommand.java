package org.lungnodules.fiji;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.lungnodules.analysis.Candidate;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.nn.Networks;
import org.scijava.ItemIO;
import org.scijava.plugin.Parameter;

/**
 * What classify and score-malignancy share: a CT, a table of world points (LUNA16's
 * seriesuid,coordX,coordY,coordZ columns, filtered to this CT's series), and a CSV of scores.
 */
abstract class PointsCommand extends LunaCommand {

	@Parameter(label = "input", description = "A CT: .mhd/.mha, .nii/.nii.gz, or a DICOM series (folder or one file)")
	protected File input;

	@Parameter(label = "series", required = false, description = "For a folder holding several DICOM series: the SeriesInstanceUID to use")
	protected String series = "";

	@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM (lossy JPEG, " +
		"JPEG 2000 irreversible, JPEG-LS near-lossless): refuse (default) or accept, with a warning in every output")
	private String lossy = "refuse";

	@Override
	protected boolean acceptsLossy() {
		return lossyAccepted(lossy);
	}

	@Parameter(label = "points", description = "CSV with seriesuid,coordX,coordY,coordZ (e.g. LUNA16 candidates.csv); rows of other series are ignored")
	protected File points;

	@Parameter(label = "output", required = false, description = "CSV to write (default: <seriesuid>_<command>.csv next to the points file)")
	protected File output;

	@Parameter(label = "device", choices = { "auto", "cpu", "gpu" })
	protected String device = "auto";

	@Parameter(label = "models", choices = { Models.PUBLISHED, Models.DEMO }, description = "Where the model comes from when none is " +
		"given: the fetched published weights, or the demo model in the jar (synthetic CTs only)")
	protected String models = Models.PUBLISHED;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	protected String summary;

	protected CtVolume ct;
	protected int outside;
	private boolean demoModels;

	/** Reads the CT and the points of its series as candidates (centres from world coordinates). */
	protected List<Candidate> readPoints() throws IOException {
		ct = readCt(input, series);
		List<Candidate> list = new ArrayList<>();
		int[] shape = ct.shapeIrc();
		int label = 0;
		for (Luna16Tables.Mark m : Luna16Tables.readResults(pointsWithProbability(points.toPath()))) {
			if (!m.seriesUid().equals(ct.seriesUid())) continue;
			double[] irc = ct.geometry().worldToVoxel(m.x(), m.y(), m.z());
			boolean inside = true;
			for (int a = 0; a < 3; a++) inside &= Math.rint(irc[a]) >= 0 && Math.rint(irc[a]) < shape[a];
			if (!inside) {
				outside++;
				continue;
			}
			list.add(Candidate.atPoint(++label, ct.geometry(), m.x(), m.y(), m.z()));
		}
		if (list.isEmpty())
			throw new BadValue(points + " has no points inside the CT of series " + ct.seriesUid() + (outside > 0 ? " (" + outside + " outside it)" : ""));
		return list;
	}

	/**
	 * LUNA16's candidates.csv has no probability column; the results reader wants one, so a copy
	 * with a constant column is read instead (the points are all we use).
	 */
	private static Path pointsWithProbability(Path csv) throws IOException {
		List<String> lines = Files.readAllLines(csv);
		if (lines.isEmpty() || lines.get(0).contains("probability")) return csv;
		Path tmp = Files.createTempFile("points", ".csv");
		tmp.toFile().deleteOnExit();
		List<String> out = new ArrayList<>(lines.size());
		for (int i = 0; i < lines.size(); i++)
			out.add(lines.get(i).isBlank() ? lines.get(i) : lines.get(i) + (i == 0 ? ",probability" : ",1"));
		Files.write(tmp, out);
		return tmp;
	}

	/** Writes rows atomically; the default name sits next to the points file. */
	protected Path write(String suffix, String header, List<String> rows) throws IOException {
		Path out = output != null ? output.toPath() : points.toPath().toAbsolutePath().resolveSibling(ct.seriesUid() + "_" + suffix + ".csv");
		List<String> all = new ArrayList<>();
		all.add(header);
		all.addAll(rows);
		AtomicFiles.writeString(out, String.join("\n", all) + "\n");
		return out;
	}

	/** The model of {@code kind}: the given file, else as {@code models=} says; warns when a demo model stands in. */
	protected Path model(Networks.Kind kind, File given) throws IOException {
		Path p = Models.resolve(kind, given, models, true);
		demoModels = Models.demoUsed(models, given);
		if (demoModels) log.warn(Models.DEMO_WARNING);
		return p;
	}

	/** The summary, led by the demo warning when a demo model was used. */
	protected String withWarning(String text) {
		return (demoModels ? Models.DEMO_WARNING + "\n" : "") + (lastRead != null && lastRead.lossy() ? LOSSY_WARNING + "\n" : "") + text;
	}

	static String num(double v) {
		return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
	}
}
