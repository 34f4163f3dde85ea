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
import org.lungnodules.io.dicom.MeasurementReportReader;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * A finished run back on its scan: a {@code <seriesuid>_candidates.csv} written by Analyze CT (one scan,
 * or a cohort run's), or the run's DICOM Structured Report {@code <seriesuid>_nodules.sr.dcm} ({@code dicom=true}),
 * onto the open CT, shown exactly as Analyze CT shows its result (the same {@link ImageJDisplay} path): the
 * Nodules table, circles on the overlay, RoiManager entries when there is a display. Which of the two a file is,
 * its content says (the DICOM mark "DICM" after 128 bytes, else text), so {@code candidates=} keeps its name and
 * recorded macros stay valid. Nodules are placed by their world coordinates (coordX/Y/Z) through the image's
 * geometry, so they land on the nodules whatever grid the image has; an image without the CT's geometry (opened
 * without File › Import, say) gets a CSV's own voxel positions, with a warning (an SR has none: it is refused).
 */
@Plugin(type = Command.class, name = "open-results", label = "Open Results",
	description = "Load a finished run's candidates CSV or DICOM SR onto the open CT: the Nodules table, overlay and RoiManager entries of Analyze CT")
public class OpenResultsCommand extends LunaCommand implements UsesCurrentImage, ShowsNodules {

	@Parameter(label = "candidates CSV or SR", style = FileWidget.OPEN_STYLE, description = "A <seriesuid>_candidates.csv written by " +
		"Analyze CT (or a merged file of several series; see series), or its DICOM SR <seriesuid>_nodules.sr.dcm (dicom=true)")
	private File candidates;

	@Parameter(label = "input", required = false, description = "The CT the results belong to (any format ./luna reads); in Fiji, empty = " +
		"the current image")
	private File input;

	@Parameter(label = "series", required = false, description = "For a file with several series: the series UID whose rows to show " +
		"(default: the image's own series when the file has it)")
	private String series = "";

	@Parameter(label = "threshold", description = "Nodule probability at or above which a candidate is a nodule (as in the run). " +
		"An SR holds only the run's nodules: candidates below the run's threshold are not in it, whatever this says")
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
		if (candidates == null)
			throw new BadValue("candidates=FILE (a <seriesuid>_candidates.csv or <seriesuid>_nodules.sr.dcm of a finished run) is required");
		if (!candidates.isFile()) throw new BadValue("candidates: no such file: " + candidates);
		status.showStatus("Reading " + candidates.getName());
		MeasurementReportReader.Report report = null;
		List<CandidatesCsv.Row> rows = null;
		if (MeasurementReportReader.isPart10(candidates.toPath())) report = MeasurementReportReader.read(candidates.toPath());
		else rows = CandidatesCsv.read(candidates.toPath());

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
			// The series UID our import notes in the image's Info, else the one its title gives.
			String noted = ImagePlusAdapter.parseInfo(image.getInfoProperty()).get("SeriesUID");
			imageSeries = noted != null && !noted.isEmpty() ? noted : ImagePlusAdapter.seriesUidOf(image.getTitle());
		}
		Set<String> inFile = new LinkedHashSet<>();
		if (report != null) {
			if (!report.sourceSeriesUid().isEmpty()) inFile.add(report.sourceSeriesUid());
		}
		else for (CandidatesCsv.Row r : rows) inFile.add(r.seriesUid());
		String uid = pickSeries(inFile, imageSeries);
		if (report != null) rows = rowsOf(report, uid, geometry);
		List<Candidate> list = new ArrayList<>();
		boolean malignancy = false, outside = false;
		for (CandidatesCsv.Row r : rows) {
			if (!r.seriesUid().equals(uid)) continue;
			double[] irc = geometry.worldToVoxel(r.x(), r.y(), r.z());
			// On the grid the run analysed, the file's own numbers, not their round trip through world coordinates
			// (off by 1e-12, which can move a circle's bounds across a pixel edge).
			double[] file = { r.index(), r.row(), r.col() };
			if (Math.abs(irc[0] - file[0]) < 1e-3 && Math.abs(irc[1] - file[1]) < 1e-3 && Math.abs(irc[2] - file[2]) < 1e-3) irc = file;
			if (report != null) irc = onHalfVoxels(irc);
			if (r.probability() >= threshold && !inside(irc, shape)) outside = true;
			list.add(new Candidate(list.size() + 1, irc[0], irc[1], irc[2], r.x(), r.y(), r.z(), r.voxels(), r.diameterMm(), r.probability(),
				Double.NaN, Double.NaN, r.pMalignant()));
			malignancy |= !Double.isNaN(r.pMalignant());
		}
		String note = "";
		if (outside && report != null)
			throw new BadValue("The nodules of " + candidates.getName() + " lie outside this image (" + shape[2] + "×" + shape[1] + "×" + shape[0] +
				" voxels) by their world coordinates, and an SR holds no voxel positions: open the CT with File › Import › ... with geometry " +
				"(is it the CT of series " + uid + "?)");
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
		StringBuilder sb = new StringBuilder(report == null
			? String.format(Locale.ROOT, "%s: %d nodule(s) with probability >= %.2f among %d candidates, from %s", uid, nodules, threshold,
				list.size(), candidates.getAbsolutePath())
			: String.format(Locale.ROOT, "%s: %d nodule(s) with probability >= %.2f among the %d of the structured report %s", uid, nodules,
				threshold, list.size(), candidates.getAbsolutePath()));
		if (!note.isEmpty()) sb.append('\n').append(note);
		summary = sb.toString();
	}

	/**
	 * An SR's nodules as the rows of a candidates file: the voxel count from the volume and the CT's voxel volume,
	 * no voxel position of the file's own (NaN: placed by world coordinates only); all of series {@code uid} (the
	 * report's own, or the image's when the report names none).
	 */
	private static List<CandidatesCsv.Row> rowsOf(MeasurementReportReader.Report report, String uid, Geometry geometry) {
		double[] s = geometry.spacing();
		double voxelMm3 = s[0] * s[1] * s[2];
		List<CandidatesCsv.Row> rows = new ArrayList<>();
		for (MeasurementReportReader.Nodule n : report.nodules())
			rows.add(new CandidatesCsv.Row(uid, n.x(), n.y(), n.z(), n.pNodule(), Double.NaN, Double.NaN, Double.NaN,
				Math.round(n.volumeMm3() / voxelMm3), n.diameterMm(), n.pMalignant()));
		return rows;
	}

	/**
	 * An SR's centre is single precision (FL), a few 1e-5 voxel off the run's. A centre on a voxel centre or edge (a
	 * symmetric nodule's, common) must stay there, or rounding to the centre slice could pick the neighbour; off by
	 * less than 1e-4 voxel from a multiple of half a voxel, it is put back on it.
	 */
	static double[] onHalfVoxels(double[] irc) {
		double[] out = irc.clone();
		for (int a = 0; a < 3; a++) {
			double half = Math.rint(2 * irc[a]) / 2;
			if (Math.abs(irc[a] - half) < 1e-4) out[a] = half;
		}
		return out;
	}

	/** The series whose rows to show: series=, else the file's only one, else the image's. */
	private String pickSeries(Set<String> inFile, String imageSeries) {
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
