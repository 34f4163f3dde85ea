package org.lungnodules.fiji;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.PointRoi;
import ij.gui.Roi;
import ij.plugin.frame.RoiManager;

import org.lungnodules.ct.Geometry;
import org.lungnodules.io.AtomicFiles;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * A training dataset built by marking nodules in Fiji (issue #22 §3). A dataset is a folder holding
 * <ul>
 * <li>{@code annotations.csv}: LUNA16's columns {@code seriesuid,coordX,coordY,coordZ,diameter_mm}, world
 * millimetres (LPS), one row per nodule, keyed by the scan's SeriesInstanceUID (DICOM) or file stem;</li>
 * <li>{@code scans.csv}: {@code seriesuid,path}, where each scan lives (the scans stay where they are).</li>
 * </ul>
 * The nodules come from the RoiManager: an oval's width is the nodule's diameter; a point takes the
 * {@code diameter} parameter. Positions go through the image's own geometry, so they are world points
 * whatever order the file stores its voxels in.
 */
public final class DatasetCommands {

	static final String ANNOTATIONS = "annotations.csv", SCANS = "scans.csv";
	static final String ANNOTATIONS_HEADER = "seriesuid,coordX,coordY,coordZ,diameter_mm", SCANS_HEADER = "seriesuid,path";

	private DatasetCommands() {}

	/** One marked nodule: world centre (LPS mm) and diameter (mm). */
	record Mark(double x, double y, double z, double diameterMm) {}

	/** The scan an image shows: opened through our File › Import, or the command cannot know its path. */
	static String[] sourceOf(ImagePlus imp) throws LunaCommand.BadValue {
		String[] source = ImagePlusAdapter.sourceOf(imp);
		if (source == null)
			throw new LunaCommand.BadValue("The image '" + imp.getTitle() + "' was not opened through File > Import > ... with geometry, " +
				"so its scan's path and series are unknown: open the scan that way, then mark its nodules again");
		return source;
	}

	/**
	 * The nodules marked by {@code rois} on {@code imp}, in world coordinates.
	 *
	 * @param pointDiameterMm the diameter given to point marks; must be positive when there are any
	 */
	static List<Mark> marks(ImagePlus imp, Roi[] rois, double pointDiameterMm) throws LunaCommand.BadValue {
		Geometry g = ImagePlusAdapter.geometryOf(imp);
		double sx = imp.getCalibration().pixelWidth, sy = imp.getCalibration().pixelHeight;
		List<Mark> out = new ArrayList<>();
		for (Roi roi : rois) {
			String name = roi.getName() == null ? "(unnamed)" : roi.getName();
			if (roi instanceof OvalRoi) {
				int slice = sliceOf(imp, roi.getPosition() != 0 ? roi.getPosition() : roi.getZPosition(), name);
				Rectangle2D b = roi.getFloatBounds();
				// ImageJ's pixel c covers [c, c + 1): the voxel index of a point is its coordinate minus one half.
				double[] w = g.voxelToWorld(slice - 1, b.getCenterY() - 0.5, b.getCenterX() - 0.5);
				out.add(new Mark(w[0], w[1], w[2], (b.getWidth() * sx + b.getHeight() * sy) / 2));
			}
			else if (roi instanceof PointRoi p) {
				if (!(pointDiameterMm > 0))
					throw new LunaCommand.BadValue("ROI '" + name + "' is a point: give its nodule's diameter with diameter=MM " +
						"(or mark the nodule with the oval tool, whose width is the diameter)");
				java.awt.geom.Point2D.Double[] points = pointsOf(p);
				for (int i = 0; i < points.length; i++) {
					int position = p.getPointPosition(i);
					int slice = sliceOf(imp, position != 0 ? position : roi.getPosition(), name);
					double[] w = g.voxelToWorld(slice - 1, points[i].y, points[i].x);
					out.add(new Mark(w[0], w[1], w[2], pointDiameterMm));
				}
			}
			else
				throw new LunaCommand.BadValue("ROI '" + name + "' is a " + roi.getTypeAsString() + ": mark nodules with the oval tool " +
					"(its width is the diameter) or the point tool");
		}
		return out;
	}

	/**
	 * A point mark's voxel (col, row). ImageJ stores a clicked point as the integer indices of its pixel (and
	 * draws it at the pixel's centre); with sub-pixel resolution the coordinate is continuous, pixel c covering
	 * [c, c + 1), so its voxel index is the coordinate minus one half.
	 */
	private static java.awt.geom.Point2D.Double[] pointsOf(PointRoi p) {
		ij.process.FloatPolygon f = p.getFloatPolygon();
		java.awt.geom.Point2D.Double[] out = new java.awt.geom.Point2D.Double[f.npoints];
		for (int i = 0; i < f.npoints; i++) {
			double x = f.xpoints[i], y = f.ypoints[i];
			boolean pixelIndices = x == Math.rint(x) && y == Math.rint(y);
			out[i] = pixelIndices ? new java.awt.geom.Point2D.Double(x, y) : new java.awt.geom.Point2D.Double(x - 0.5, y - 0.5);
		}
		return out;
	}

	private static int sliceOf(ImagePlus imp, int position, String name) throws LunaCommand.BadValue {
		if (imp.getStackSize() == 1) return 1;
		if (position < 1 || position > imp.getStackSize())
			throw new LunaCommand.BadValue("ROI '" + name + "' belongs to no slice of the stack: add it to the RoiManager while its slice " +
				"is shown (the RoiManager then keeps the slice)");
		return position;
	}

	/** The table's lines without this series' rows, then {@code rows}; written atomically with {@code header} if it was new. */
	static int replaceRows(Path table, String header, String seriesUid, List<String> rows) throws IOException {
		List<String> kept = new ArrayList<>();
		int replaced = 0;
		if (Files.exists(table)) {
			List<String> lines = Files.readAllLines(table, StandardCharsets.UTF_8);
			if (lines.isEmpty() || !lines.get(0).startsWith(header.substring(0, header.indexOf(','))))
				throw new IOException(table + " does not start with the header '" + header + "'");
			kept.add(lines.get(0));
			for (String line : lines.subList(1, lines.size())) {
				if (line.isBlank()) continue;
				String key = line.substring(0, line.indexOf(',') < 0 ? line.length() : line.indexOf(',')).trim();
				if (key.equals(seriesUid)) replaced++;
				else kept.add(line);
			}
		}
		else kept.add(header);
		kept.addAll(rows);
		StringBuilder sb = new StringBuilder();
		for (String line : kept) sb.append(line).append('\n');
		AtomicFiles.writeString(table, sb.toString());
		return replaced;
	}

	static String csvField(String s) {
		return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
	}

	@Plugin(type = Command.class, name = "add-scan", label = "Add Scan to Dataset",
		description = "Add the current CT and the nodules marked in the RoiManager (ovals: width = diameter; points: diameter=) " +
			"to a training dataset folder: annotations.csv in world coordinates and scans.csv with the scan's path")
	public static class AddScan extends LunaCommand implements UsesCurrentImage {

		@Parameter(label = "dataset", style = FileWidget.DIRECTORY_STYLE, description = "The dataset folder (created if missing)")
		private File dataset;

		@Parameter(label = "diameter", required = false, description = "Diameter in mm of nodules marked with the point tool")
		private double diameter = 0;

		@Parameter(type = ItemIO.OUTPUT, label = "Report")
		private String report;

		private ImagePlus image;
		private Roi[] rois;

		@Override
		public void useImage(ImagePlus imp) {
			image = imp;
		}

		/** The nodules to add, instead of the RoiManager's (for callers without a RoiManager, such as tests). */
		void useRois(Roi[] r) {
			rois = r;
		}

		@Override
		protected void execute() throws Exception {
			if (dataset == null) throw new BadValue("dataset=FOLDER is needed");
			if (image == null) throw new BadValue("No CT is open: open one with File > Import > ... with geometry first");
			String[] source = sourceOf(image);
			Roi[] marked = rois;
			if (marked == null) {
				// A batch-mode macro's roiManager("add") fills a hidden manager; ImageJ 1 has none with no display at all.
				RoiManager rm = java.awt.GraphicsEnvironment.isHeadless() ? null
					: ij.macro.Interpreter.isBatchMode() && ij.macro.Interpreter.getBatchModeRoiManager() != null
						? ij.macro.Interpreter.getBatchModeRoiManager() : RoiManager.getInstance();
				marked = rm == null ? new Roi[0] : rm.getRoisAsArray();
			}
			if (marked.length == 0)
				throw new BadValue("The RoiManager holds no nodules: mark each with the oval tool (or the point tool) and add it " +
					"(Edit > Selection > Add to Manager, or t)");
			List<Mark> marks = marks(image, marked, diameter);
			Path dir = dataset.toPath();
			Files.createDirectories(dir);
			String uid = source[1];
			List<String> rows = new ArrayList<>();
			for (Mark m : marks)
				rows.add(String.format(Locale.ROOT, "%s,%.4f,%.4f,%.4f,%.4f", csvField(uid), m.x(), m.y(), m.z(), m.diameterMm()));
			int replaced = replaceRows(dir.resolve(ANNOTATIONS), ANNOTATIONS_HEADER, uid, rows);
			replaceRows(dir.resolve(SCANS), SCANS_HEADER, uid, List.of(csvField(uid) + "," + csvField(source[0])));
			report = String.format(Locale.ROOT, "%s: %d nodule(s) of %s added to %s%s", dir, marks.size(), uid, dir.resolve(ANNOTATIONS),
				replaced > 0 ? " (replacing its " + replaced + " earlier row(s))" : "");
			if (log != null) log.info(report);
		}
	}

	@Plugin(type = Command.class, name = "show-annotations", label = "Show Annotations",
		description = "Draw a dataset's annotated nodules (annotations.csv) on the current CT, on every slice each spans")
	public static class ShowAnnotations extends LunaCommand implements UsesCurrentImage {

		@Parameter(label = "dataset", style = FileWidget.DIRECTORY_STYLE, description = "The dataset folder, or its annotations.csv")
		private File dataset;

		@Parameter(type = ItemIO.OUTPUT, label = "Report")
		private String report;

		private ImagePlus image;

		@Override
		public void useImage(ImagePlus imp) {
			image = imp;
		}

		ImagePlus image() { return image; }

		@Override
		protected void execute() throws Exception {
			if (dataset == null) throw new BadValue("dataset=FOLDER is needed");
			if (image == null) throw new BadValue("No CT is open: open one with File > Import > ... with geometry first");
			Path table = dataset.isDirectory() ? dataset.toPath().resolve(ANNOTATIONS) : dataset.toPath();
			if (!Files.isRegularFile(table)) throw new BadValue(table + " does not exist");
			String uid = sourceOf(image)[1];
			List<org.lungnodules.io.Luna16Tables.Annotation> annotations = org.lungnodules.io.Luna16Tables.readAnnotations(table);
			Geometry g = ImagePlusAdapter.geometryOf(image);
			double sx = image.getCalibration().pixelWidth, sy = image.getCalibration().pixelHeight, sz = image.getCalibration().pixelDepth;
			Overlay overlay = image.getOverlay() == null ? new Overlay() : image.getOverlay();
			int n = 0;
			for (org.lungnodules.io.Luna16Tables.Annotation a : annotations) {
				if (!uid.equals(a.seriesUid())) continue;
				n++;
				double r = a.diameterMm() / 2;
				double[] v = g.worldToVoxel(a.x(), a.y(), a.z());
				int zc = (int) Math.round(v[0]);
				for (int z = Math.max(0, zc - (int) Math.ceil(r / sz)); z <= Math.min(image.getStackSize() - 1, zc + (int) Math.ceil(r / sz)); z++) {
					double dz = (z - v[0]) * sz;
					if (Math.abs(dz) > r) continue;
					double rr = Math.sqrt(r * r - dz * dz), rx = Math.max(1.5, rr / sx), ry = Math.max(1.5, rr / sy);
					Roi circle = new OvalRoi(v[2] + 0.5 - rx, v[1] + 0.5 - ry, 2 * rx, 2 * ry);
					circle.setStrokeColor(Color.CYAN);
					circle.setStrokeWidth(z == zc ? 2 : 1);
					circle.setPosition(z + 1);
					circle.setName(String.format(Locale.ROOT, "annotation %d (%.1f mm)", n, 2 * r));
					overlay.add(circle);
				}
			}
			image.setOverlay(overlay);
			image.updateAndDraw();
			report = String.format(Locale.ROOT, "%d annotated nodule(s) of %s from %s drawn on %s", n, uid, table, image.getTitle());
		}
	}
}
