package org.lungnodules.fiji;

import java.awt.GraphicsEnvironment;
import java.awt.geom.Rectangle2D;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.gui.OvalRoi;
import ij.gui.PointRoi;
import ij.gui.Roi;
import ij.plugin.frame.RoiManager;
import ij.process.FloatPolygon;

import org.lungnodules.Progress;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.CtReader;
import org.lungnodules.training.LunaData;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Adds the scan open in Fiji, and the nodules marked on it, to a dataset folder that every train
 * command and prepare-cache take as {@code data=}:
 * <ul>
 * <li>the scan is listed in the folder's {@code scans.csv} ({@code seriesuid,path}; the path relative
 *     to the folder when the scan is inside it), so it stays where it is;
 * <li>each nodule becomes a row of the folder's {@code annotations.csv} in LUNA16's columns, world
 *     millimetres: an oval ROI gives its centre and its width as the diameter; each point of a point
 *     ROI gives a centre, with {@code diameter=} (asked for when empty in an interactive run);
 * <li>running it again on the same scan replaces that scan's rows.
 * </ul>
 * The nodules are the RoiManager's ROIs, else the image's selection; each on its own slice (its
 * position, else the image's current slice). The image must be the CT as File › Import opened it
 * (the scan as stored, with its geometry), so its voxels are the file's.
 */
@Plugin(type = Command.class, name = "add-scan-to-dataset", label = "Add Scan to Dataset",
	description = "Add the open CT and the nodules marked on it (oval: width = diameter; point: diameter asked) to a training dataset " +
		"folder's scans.csv and annotations.csv, in world coordinates")
public class AddScanToDatasetCommand extends LunaCommand implements UsesCurrentImage {

	static final String HEADER = "seriesuid,coordX,coordY,coordZ,diameter_mm";

	@Parameter(label = "dataset", style = "directory", description = "The dataset folder (created if missing): scans.csv and annotations.csv go there")
	private File dataset;

	@Parameter(label = "input", required = false, description = "The scan's file or DICOM folder; in Fiji, empty = the file the current image " +
		"was opened from (File > Import)")
	private File input;

	@Parameter(label = "diameter", required = false, min = "0", description = "Diameter in mm of nodules marked with the point tool " +
		"(0: asked for each point)")
	private double diameter;

	@Parameter(type = ItemIO.OUTPUT, label = "Report")
	private String report;

	private ImagePlus image;

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	/** A nodule marked on the image: voxel centre (index, row, col) on the image's grid, diameter in mm. */
	record Marked(double index, double row, double col, double diameterMm, String name) {}

	@Override
	protected void execute() throws Exception {
		if (dataset == null) throw new BadValue("dataset=FOLDER is required");
		Path scan = scanPath();
		Geometry g;
		List<Roi> rois = new ArrayList<>();
		if (image != null) {
			g = ImagePlusAdapter.geometryOf(image);
			RoiManager rm = GraphicsEnvironment.isHeadless() ? null : RoiManager.getInstance();
			if (rm != null && rm.getCount() > 0) for (Roi r : rm.getRoisAsArray()) rois.add(r);
			else if (image.getRoi() != null) rois.add(image.getRoi());
		}
		else {
			g = CtReader.read(scan).volume().geometry();
			RoiManager rm = GraphicsEnvironment.isHeadless() ? null : RoiManager.getInstance();
			if (rm != null) for (Roi r : rm.getRoisAsArray()) rois.add(r);
		}
		int currentSlice = image == null ? 1 : image.getCurrentSlice();
		List<Marked> marked = new ArrayList<>();
		for (Roi r : rois) marked.addAll(nodules(r, currentSlice, g));

		String uid = LunaData.seriesUidOf(scan);
		Path folder = dataset.toPath().toAbsolutePath().normalize();
		Files.createDirectories(folder);
		Path listed = Files.isRegularFile(scan) && CtReader.formatOf(scan) == CtReader.Format.DICOM ? scan.getParent() : scan;
		String reference = listed.startsWith(folder) ? folder.relativize(listed).toString() : listed.toString();
		if (reference.isEmpty()) reference = ".";
		writeScanList(folder.resolve(LunaData.SCANS_CSV), uid, reference);

		List<String> rows = new ArrayList<>();
		for (Marked m : marked) {
			double[] w = g.voxelToWorld(m.index(), m.row(), m.col());
			rows.add(String.join(",", uid, number(w[0]), number(w[1]), number(w[2]), number(m.diameterMm())));
		}
		int replaced = replaceRows(folder.resolve("annotations.csv"), uid, rows);
		report = String.format(Locale.ROOT, "%s: added %s (%s) with %d nodule(s)%s", folder, uid, reference, rows.size(),
			replaced > 0 ? ", replacing its " + replaced + " earlier row(s)" : "");
		if (log != null) log.info(report);
	}

	/** The scan's path: input=, else the file the image came from. */
	private Path scanPath() throws IOException {
		if (input != null) {
			if (!input.exists()) throw new BadValue("input: no such file or folder: " + input);
			return input.toPath().toAbsolutePath().normalize();
		}
		Object source = image == null ? null : image.getProperty(ImageJDisplay.SOURCE_PROPERTY);
		if (source == null && image != null && image.getOriginalFileInfo() != null && image.getOriginalFileInfo().directory != null) {
			ij.io.FileInfo fi = image.getOriginalFileInfo();
			Path p = Path.of(fi.directory, fi.fileName == null ? "" : fi.fileName);
			if (Files.exists(p) && CtReader.formatOf(p) != null) source = p.toString();
		}
		if (source == null)
			throw new BadValue(image == null ? "No CT: open one with File > Import, or give input=" :
				"The current image does not say which file it came from: open the scan with File > Import, or give input=");
		return Path.of(source.toString()).toAbsolutePath().normalize();
	}

	/** The nodules one ROI marks (see the class comment). */
	List<Marked> nodules(Roi r, int currentSlice, Geometry g) {
		double sx = g.spacing()[0];
		int position = r.getZPosition() > 0 ? r.getZPosition() : r.getPosition() > 0 ? r.getPosition() : currentSlice;
		List<Marked> out = new ArrayList<>();
		if (r instanceof PointRoi p) {
			FloatPolygon fp = p.getFloatPolygon();
			for (int i = 0; i < fp.npoints; i++) {
				int slice = p.getPointPosition(i) > 0 ? p.getPointPosition(i) : position;
				double d = diameter > 0 ? diameter : askDiameter(r, slice);
				// ImageJ's point coordinates are pixel centres at +0.5.
				out.add(new Marked(slice - 1, fp.ypoints[i] - 0.5, fp.xpoints[i] - 0.5, d, r.getName()));
			}
		}
		else if (r instanceof OvalRoi) {
			Rectangle2D.Double b = r.getFloatBounds();
			out.add(new Marked(position - 1, b.y + b.height / 2 - 0.5, b.x + b.width / 2 - 0.5, b.width * sx, r.getName()));
		}
		else throw new BadValue("The ROI " + (r.getName() == null ? "" : "'" + r.getName() + "' ") + "is a " + r.getTypeAsString() +
			": mark each nodule with the oval tool (its width is the diameter) or the point tool");
		return out;
	}

	private double askDiameter(Roi r, int slice) {
		if (GraphicsEnvironment.isHeadless() || Macro.getOptions() != null)
			throw new BadValue("A point ROI marks a nodule without its size: give diameter=MM (or mark it with the oval tool)");
		double d = IJ.getNumber("Diameter (mm) of the nodule marked on slice " + slice, 10);
		if (d == IJ.CANCELED) throw new Progress.Canceled();
		if (!(d > 0)) throw new BadValue("The diameter must be a positive number of mm, not " + d);
		return d;
	}

	/** scans.csv with this scan's row set to {@code reference}. */
	static void writeScanList(Path list, String uid, String reference) throws IOException {
		StringBuilder out = new StringBuilder("seriesuid,path\n");
		if (Files.isRegularFile(list))
			LunaData.readScanList(list).forEach((u, p) -> {
				if (!u.equals(uid)) out.append(u).append(',').append(p).append('\n');
			});
		out.append(uid).append(',').append(reference).append('\n');
		AtomicFiles.writeString(list, out.toString());
	}

	/** Replaces the rows of {@code uid} in annotations.csv by {@code rows}; returns how many were there before. */
	static int replaceRows(Path csv, String uid, List<String> rows) throws IOException {
		List<String> kept = new ArrayList<>();
		int replaced = 0;
		if (Files.isRegularFile(csv)) {
			List<String> lines = Files.readAllLines(csv);
			if (lines.isEmpty() || !lines.get(0).trim().equals(HEADER))
				throw new IOException(csv + ": its first line is not '" + HEADER + "'; Add Scan to Dataset keeps LUNA16's columns only");
			for (String line : lines.subList(1, lines.size())) {
				if (line.isBlank()) continue;
				if (line.startsWith(uid + ",")) replaced++;
				else kept.add(line);
			}
		}
		StringBuilder out = new StringBuilder(HEADER).append('\n');
		for (String line : kept) out.append(line).append('\n');
		for (String line : rows) out.append(line).append('\n');
		AtomicFiles.writeString(csv, out.toString());
		return replaced;
	}

	private static String number(double v) {
		return String.format(Locale.ROOT, "%.4f", v);
	}
}
