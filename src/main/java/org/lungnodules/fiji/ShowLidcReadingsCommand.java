package org.lungnodules.fiji;

import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ij.ImagePlus;
import ij.gui.Overlay;
import ij.gui.PointRoi;
import ij.gui.PolygonRoi;
import ij.gui.Roi;
import ij.measure.ResultsTable;
import ij.plugin.filter.ThresholdToSelection;
import ij.plugin.frame.RoiManager;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;

import org.lungnodules.analysis.LidcConsensus;
import org.lungnodules.analysis.LidcConsensus.Cluster;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.LidcReadings;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * The LIDC radiologists' readings on a CT: each reader's contours on the overlay, on their slices,
 * one colour per reader (points for nodules under 3 mm and non-nodules); each consensus nodule
 * (≥ 50 % of its readers) in the RoiManager on its largest slice; ratings and sizes in the
 * "LIDC Readings" ResultsTable.
 */
@Plugin(type = Command.class, name = "show-lidc-readings", label = "Show LIDC Readings",
	description = "Draw the LIDC-IDRI radiologists' contours on the CT (one colour per reader), the consensus nodules in the RoiManager " +
		"and their ratings in a table")
public class ShowLidcReadingsCommand extends LunaCommand implements UsesCurrentImage {

	static final String TABLE = "LIDC Readings";

	/** Reader colours, in reading-session order (repeated past eight readers). */
	static final Color[] READER_COLOURS = { Color.RED, Color.GREEN, Color.CYAN, Color.MAGENTA, Color.ORANGE, Color.YELLOW, Color.PINK,
		Color.BLUE };

	@Parameter(label = "readings", style = FileWidget.OPEN_STYLE, description = "The LIDC-IDRI XML readings of the CT")
	private File readings;

	@Parameter(label = "input", required = false, description = "The CT (any format ./luna reads); in Fiji, empty = the current image")
	private File input;

	@Parameter(type = ItemIO.OUTPUT, label = "Report")
	private String report;

	private ImagePlus image;
	private ResultsTable table;
	private final List<Roi> consensusRois = new ArrayList<>();

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	/** The image drawn on (the given one, or the CT read from input=). */
	ImagePlus image() { return image; }
	ResultsTable table() { return table; }
	/** One outline per consensus nodule, as put in the RoiManager. */
	List<Roi> consensusRois() { return consensusRois; }

	@Override
	protected void execute() throws Exception {
		if (readings == null) throw new BadValue("readings=XML (the LIDC-IDRI readings) is required");
		LidcReadings xml = LidcReadings.read(readings.toPath());
		if (input != null) {
			CtReader.ReadCt read = CtReader.read(input.toPath());
			for (String note : read.notes()) log.info(note);
			image = ImagePlusAdapter.toImagePlus(read.volume());
		}
		if (image == null) throw new BadValue("No CT: give input= or open one in Fiji first");
		Geometry g = ImagePlusAdapter.geometryOf(image);
		int[] shape = { image.getStackSize(), image.getHeight(), image.getWidth() };
		LidcConsensus consensus = new LidcConsensus(g, shape, LidcConsensus.Settings.defaults(), readings.toPath());
		LidcConsensus.Result result = LidcConsensus.of(xml, g, shape, LidcConsensus.Settings.defaults());

		Overlay overlay = image.getOverlay() == null ? new Overlay() : image.getOverlay();
		int contours = 0;
		for (int r = 0; r < xml.readings().size(); r++) {
			LidcReadings.Reading reading = xml.readings().get(r);
			Color colour = READER_COLOURS[r % READER_COLOURS.length];
			for (LidcReadings.Nodule n : reading.nodules()) {
				int i = 0;
				for (LidcReadings.Roi roi : n.rois()) {
					i++;
					String what = "reader " + n.readerId() + ", nodule '" + n.noduleId() + "', roi " + i;
					int slice = consensus.sliceOf(roi.z(), what);
					int[][] rc = consensus.ctPoints(roi.xs(), roi.ys(), what);
					float[] xs = new float[roi.points()], ys = new float[roi.points()];
					// +0.5: LIDC's points are pixel indices; ImageJ draws through pixel centres at +0.5.
					for (int p = 0; p < xs.length; p++) {
						xs[p] = rc[1][p] + 0.5f;
						ys[p] = rc[0][p] + 0.5f;
					}
					PolygonRoi polygon = new PolygonRoi(xs, ys, xs.length, Roi.POLYGON);
					polygon.setStrokeColor(colour);
					polygon.setStrokeWidth(roi.inclusion() ? 1 : 0.5);
					polygon.setPosition(slice + 1);
					polygon.setName("reader " + n.readerId() + " " + n.noduleId() + (roi.inclusion() ? "" : " (excluded)"));
					overlay.add(polygon);
					contours++;
				}
			}
			for (List<LidcReadings.Mark> marks : List.of(reading.smallNodules(), reading.nonNodules())) {
				for (LidcReadings.Mark m : marks) {
					String what = "reader " + m.readerId() + ", mark '" + m.id() + "'";
					int slice = consensus.sliceOf(m.z(), what);
					int[][] rc = consensus.ctPoints(new int[] { m.x() }, new int[] { m.y() }, what);
					PointRoi point = new PointRoi(rc[1][0] + 0.5, rc[0][0] + 0.5);
					point.setStrokeColor(colour);
					point.setPosition(slice + 1);
					point.setName("reader " + m.readerId() + " " + (marks == reading.smallNodules() ? "nodule < 3 mm " : "non-nodule ") + m.id());
					overlay.add(point);
				}
			}
		}
		image.setOverlay(overlay);

		table = new ResultsTable();
		int k = 0;
		for (Cluster c : result.clusters()) {
			k++;
			int best = bestSlice(c);
			Roi outline = outline(c, best, shape);
			if (outline != null) {
				outline.setName(String.format(Locale.ROOT, "LIDC nodule %d (%d readers)", k, c.readers()));
				outline.setPosition(best + 1);
				outline.setStrokeColor(Color.WHITE);
				consensusRois.add(outline);
			}
			table.incrementCounter();
			table.addValue("nodule", k);
			table.addValue("readers", c.readers());
			table.addValue("coordX", c.centre()[0]);
			table.addValue("coordY", c.centre()[1]);
			table.addValue("coordZ", c.centre()[2]);
			table.addValue("slice", best + 1);
			table.addValue("volume_mm3", c.consensusVolumeMm3());
			table.addValue("diameter_mm", c.consensusDiameterMm());
			table.addValue("mal_bool", c.malignant() ? 1 : 0);
			for (String rating : LidcReadings.RATINGS) table.addValue(rating, c.medianRatings().getOrDefault(rating, Double.NaN));
		}
		// ImageJ 1's RoiManager is a window, which cannot exist with no display at all (java.awt.headless).
		if (!GraphicsEnvironment.isHeadless()) {
			RoiManager rm = RoiManager.getRoiManager();
			if (rm != null) for (Roi roi : consensusRois) rm.addRoi(roi);
		}
		if (!GraphicsEnvironment.isHeadless()) {
			table.show(TABLE);
			if (input != null) image.show();
			else image.updateAndDraw();
		}
		Map<String, Integer> perReader = new LinkedHashMap<>();
		for (LidcReadings.Reading r : xml.readings()) perReader.put(r.readerId(), r.nodules().size());
		report = String.format(Locale.ROOT, "%s: %d readers %s; %d contours drawn; %d nodule(s) of 3 mm or more after clustering, " +
			"%d nodule(s) under 3 mm, %d non-nodule(s)", readings.getName(), xml.readings().size(), perReader, contours, result.clusters().size(),
			xml.smallNodules().size(), xml.nonNodules().size());
		for (String w : result.warnings()) report += "\nWarning: " + w;
	}

	/** The slice where the consensus has the most voxels. */
	private static int bestSlice(Cluster c) {
		int[] st = c.consensus().start(), sz = c.consensus().size();
		int best = st[0], most = -1;
		for (int i = 0; i < sz[0]; i++) {
			int n = 0;
			for (int y = 0; y < sz[1]; y++)
				for (int x = 0; x < sz[2]; x++) if (c.consensus().contains(st[0] + i, st[1] + y, st[2] + x)) n++;
			if (n > most) {
				most = n;
				best = st[0] + i;
			}
		}
		return best;
	}

	/** The consensus mask's outline on one slice, as an ImageJ selection (null when empty). */
	private static Roi outline(Cluster c, int slice, int[] shape) {
		ByteProcessor bp = new ByteProcessor(shape[2], shape[1]);
		int[] st = c.consensus().start(), sz = c.consensus().size();
		for (int y = st[1]; y < st[1] + sz[1]; y++)
			for (int x = st[2]; x < st[2] + sz[2]; x++) if (c.consensus().contains(slice, y, x)) bp.set(x, y, 255);
		bp.setThreshold(255, 255, ImageProcessor.NO_LUT_UPDATE);
		return ThresholdToSelection.run(new ImagePlus("consensus", bp));
	}
}
