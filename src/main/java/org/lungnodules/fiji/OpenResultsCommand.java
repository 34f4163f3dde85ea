package org.lungnodules.fiji;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import ij.ImagePlus;

import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * A finished run back on its scan: a {@code <seriesuid>_candidates.csv} written by Analyze CT (one scan,
 * or a cohort run's) onto the open CT, shown exactly as Analyze CT shows its result (the same
 * {@link ImageJDisplay} path): the Nodules table, circles on the overlay, RoiManager entries when there is a
 * display. Nodules are placed by their world coordinates (coordX/Y/Z) through the image's geometry, so they
 * land on the nodules whatever grid the image has; an image without the CT's geometry (opened without
 * File › Import, say) gets the file's own voxel positions, with a warning.
 */
@Plugin(type = Command.class, name = "open-results", label = "Open Results",
	description = "Load a finished run's candidates CSV onto the open CT: the Nodules table, overlay and RoiManager entries of Analyze CT")
public class OpenResultsCommand extends LunaCommand implements UsesCurrentImage, ShowsNodules {

	@Parameter(label = "candidates", style = FileWidget.OPEN_STYLE, description = "A <seriesuid>_candidates.csv written by Analyze CT " +
		"(or a merged file of several series; see series)")
	private File candidates;

	@Parameter(label = "input", required = false, description = "The CT the results belong to (any format ./luna reads); in Fiji, empty = " +
		"the current image")
	private File input;

	@Parameter(label = "series", required = false, description = "For a file with several series: the series UID whose rows to show " +
		"(default: the image's own series when the file has it)")
	private String series = "";

	@Parameter(label = "threshold", description = "Nodule probability at or above which a candidate is a nodule (as in the run)")
	private double threshold = 0.5;

	@Parameter(type = ItemIO.OUTPUT, label = "Results opened")
	private String summary;

	@Parameter(type = ItemIO.OUTPUT, label = "Nodules")
	private int nodules;

	private ImagePlus image;
	private CtVolume volume;
	private AnalysisResult result;

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	@Override
	public ImagePlus image() { return image; }
	@Override
	public CtVolume volume() { return volume; }
	@Override
	public AnalysisResult result() { return result; }
	@Override
	public double threshold() { return threshold; }
	@Override
	public boolean usedDemoModels() { return false; }
	@Override
	public boolean wantsLabelImage() { return false; }

	@Override
	protected void execute() throws Exception {
		AnalyzeCommand.checkRange("threshold", threshold, 0, 1);
		if (candidates == null) throw new BadValue("candidates=FILE (a <seriesuid>_candidates.csv of a finished run) is required");
		if (!candidates.isFile()) throw new BadValue("candidates: no such file: " + candidates);
		status.showStatus("Reading " + candidates.getName());
		List<CandidatesCsv.Row> rows = CandidatesCsv.read(candidates.toPath());

		Geometry geometry;
		int[] shape;
		String imageSeries;
		if (input != null) {
			volume = readCt(input, "");
			geometry = volume.geometry();
			shape = volume.shapeIrc();
			imageSeries = volume.seriesUid();
			image = null;
		}
		else {
			if (image == null) throw new BadValue("input=CT is needed" + (java.awt.GraphicsEnvironment.isHeadless() ? "" : ", or open the CT in Fiji first"));
			if (image.getStackSize() < 2) throw new BadValue("The current image '" + image.getTitle() + "' is 2D; a CT must be a 3D stack");
			geometry = ImagePlusAdapter.geometryOf(image);
			shape = new int[] { image.getStackSize(), image.getHeight(), image.getWidth() };
			String[] source = ImagePlusAdapter.sourceOf(image);
			imageSeries = source != null && source.length > 1 && source[1] != null && !source[1].isEmpty() ? source[1]
				: ImagePlusAdapter.seriesUidOf(image.getTitle());
		}
		String uid = pickSeries(rows, imageSeries);
		List<Candidate> list = new ArrayList<>();
		boolean malignancy = false, outside = false;
		for (CandidatesCsv.Row r : rows) {
			if (!r.seriesUid().equals(uid)) continue;
			double[] irc = geometry.worldToVoxel(r.x(), r.y(), r.z());
			if (r.probability() >= threshold && !inside(irc, shape)) outside = true;
			list.add(new Candidate(list.size() + 1, irc[0], irc[1], irc[2], r.x(), r.y(), r.z(), r.voxels(), r.diameterMm(), r.probability(),
				Double.NaN, Double.NaN, r.pMalignant()));
			malignancy |= !Double.isNaN(r.pMalignant());
		}
		String note = "";
		if (outside) {
			// The image lacks the CT's geometry (a plain ImageJ open): the file's voxel positions are on the CT as it was read.
			List<Candidate> byFile = new ArrayList<>();
			int k = 0;
			boolean fit = true;
			for (CandidatesCsv.Row r : rows) {
				if (!r.seriesUid().equals(uid)) continue;
				double[] irc = { r.index(), r.row(), r.col() };
				if (r.probability() >= threshold && !inside(irc, shape)) fit = false;
				Candidate c = list.get(k++);
				byFile.add(new Candidate(c.label(), r.index(), r.row(), r.col(), c.x(), c.y(), c.z(), c.voxels(), c.diameterMm(), c.probability(),
					Double.NaN, Double.NaN, c.pMalignant()));
			}
			if (!fit) throw new BadValue("The nodules of " + candidates.getName() + " lie outside this image (" + shape[2] + "×" + shape[1] + "×" +
				shape[0] + " voxels) both by their world coordinates and by their voxel positions: is it the CT of series " + uid + "?");
			list = byFile;
			note = "Note: by its geometry the image does not hold these world coordinates; the file's voxel positions (index, row, col) " +
				"are used. Open the CT with File › Import › ... with geometry to place nodules by world coordinates.";
			log.warn(note);
		}
		result = new AnalysisResult(uid, geometry, shape, list, null, null, malignancy, List.of(), Map.of());
		nodules = result.nodules(threshold).size();
		StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %d nodule(s) with probability >= %.2f among %d candidates, from %s",
			uid, nodules, threshold, list.size(), candidates.getAbsolutePath()));
		if (!note.isEmpty()) sb.append('\n').append(note);
		summary = sb.toString();
	}

	/** The series whose rows to show: series=, else the file's only one, else the image's. */
	private String pickSeries(List<CandidatesCsv.Row> rows, String imageSeries) {
		Set<String> inFile = new LinkedHashSet<>();
		for (CandidatesCsv.Row r : rows) inFile.add(r.seriesUid());
		if (!series.isEmpty()) {
			if (!inFile.contains(series)) throw new BadValue("series=" + series + " has no rows in " + candidates.getName() + " (it has " + listed(inFile) + ")");
			return series;
		}
		if (inFile.size() == 1) {
			String only = inFile.iterator().next();
			if (imageSeries != null && !imageSeries.isEmpty() && !imageSeries.equals(only))
				log.warn("Open Results: " + candidates.getName() + " is of series " + only + ", the image of " + imageSeries + "; placing its nodules anyway");
			return only;
		}
		if (inFile.isEmpty()) return imageSeries == null ? "" : imageSeries; // a run that found no candidates
		if (imageSeries != null && inFile.contains(imageSeries)) return imageSeries;
		throw new BadValue(candidates.getName() + " holds " + inFile.size() + " series and none is the image's (" + imageSeries + "): pick one with " +
			"series= (" + listed(inFile) + ")");
	}

	private static String listed(Set<String> uids) {
		List<String> l = new ArrayList<>(uids);
		return l.size() <= 5 ? String.join(", ", l) : String.join(", ", l.subList(0, 5)) + ", ...";
	}

	/** Whether a voxel position (index, row, col) is inside the volume, to half a voxel. */
	private static boolean inside(double[] irc, int[] shape) {
		for (int a = 0; a < 3; a++)
			if (!(irc[a] >= -0.5 && irc[a] <= shape[a] - 0.5)) return false;
		return true;
	}
}
