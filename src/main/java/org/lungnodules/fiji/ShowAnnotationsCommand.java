package org.lungnodules.fiji;

import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.plugin.frame.RoiManager;

import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.training.LunaData;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Draws a dataset's annotated nodules back on the scan they belong to, for checking: on every slice a
 * nodule spans, the circle where its sphere (of the annotated diameter) cuts the slice, on the
 * image's overlay; each nodule's middle circle in the RoiManager when there is a display.
 */
@Plugin(type = Command.class, name = "show-annotations", label = "Show Annotations",
	description = "Draw a training dataset's annotated nodules (annotations.csv) on the open CT")
public class ShowAnnotationsCommand extends LunaCommand implements UsesCurrentImage {

	@Parameter(label = "dataset", style = "directory", description = "The dataset folder (its annotations.csv)")
	private File dataset;

	@Parameter(label = "annotations", required = false, description = "Another annotations table in LUNA16's columns; empty: the dataset's")
	private File annotations;

	@Parameter(label = "input", required = false, description = "The CT; in Fiji, empty = the current image")
	private File input;

	@Parameter(label = "series", required = false, description = "The scan's seriesuid in the table; empty: from the scan's file")
	private String series = "";

	@Parameter(type = ItemIO.OUTPUT, label = "Report")
	private String report;

	private ImagePlus image;
	private final List<Roi> middles = new ArrayList<>();

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	ImagePlus image() { return image; }
	/** Each nodule's circle on its middle slice, as put in the RoiManager. */
	List<Roi> middles() { return middles; }

	@Override
	protected void execute() throws Exception {
		Path table = annotations != null ? annotations.toPath() : dataset == null ? null : dataset.toPath().resolve("annotations.csv");
		if (table == null) throw new BadValue("dataset=FOLDER (or annotations=FILE) is required");
		if (!Files.isRegularFile(table)) throw new BadValue("No annotations table: " + table);
		Path scan = input != null ? input.toPath() : null;
		if (scan == null && image != null && image.getProperty(ImageJDisplay.SOURCE_PROPERTY) != null)
			scan = Path.of(image.getProperty(ImageJDisplay.SOURCE_PROPERTY).toString());
		if (input != null) image = ImagePlusAdapter.toImagePlus(CtReader.read(input.toPath()).volume());
		if (image == null) throw new BadValue("No CT: give input= or open one with File > Import first");
		String uid = series != null && !series.isBlank() ? series.trim() : null;
		if (uid == null) {
			if (scan == null)
				throw new BadValue("The current image does not say which file it came from: give series= (its seriesuid in the table) or input=");
			uid = LunaData.seriesUidOf(scan);
		}
		Geometry g = ImagePlusAdapter.geometryOf(image);
		double[] s = g.spacing();
		Overlay overlay = image.getOverlay() == null ? new Overlay() : image.getOverlay();
		int k = 0, circles = 0;
		for (Luna16Tables.Annotation a : Luna16Tables.readAnnotations(table)) {
			if (!a.seriesUid().equals(uid)) continue;
			k++;
			double[] irc = g.worldToVoxel(a.x(), a.y(), a.z());
			double r = a.diameterMm() / 2;
			int first = (int) Math.ceil(irc[0] - r / s[2]), last = (int) Math.floor(irc[0] + r / s[2]);
			int middle = (int) Math.round(irc[0]);
			for (int z = Math.max(0, Math.min(first, middle)); z <= Math.min(image.getStackSize() - 1, Math.max(last, middle)); z++) {
				double dz = (z - irc[0]) * s[2];
				double rr = Math.sqrt(Math.max(0, r * r - dz * dz));
				if (z == middle && rr <= 0) rr = r; // a nodule thinner than a slice still shows on its nearest one
				if (rr <= 0) continue;
				double rx = rr / s[0], ry = rr / s[1];
				// Pixel centres are at +0.5 in ImageJ.
				OvalRoi oval = new OvalRoi(irc[2] + 0.5 - rx, irc[1] + 0.5 - ry, 2 * rx, 2 * ry);
				oval.setPosition(z + 1);
				oval.setStrokeColor(Color.GREEN);
				oval.setName(String.format(Locale.ROOT, "annotation %d (%.1f mm)", k, a.diameterMm()));
				overlay.add(oval);
				circles++;
				if (z == middle) middles.add(oval);
			}
		}
		image.setOverlay(overlay);
		if (!GraphicsEnvironment.isHeadless()) {
			RoiManager rm = RoiManager.getRoiManager();
			if (rm != null) for (Roi roi : middles) rm.addRoi(roi);
			if (input != null) image.show();
			else image.updateAndDraw();
		}
		report = String.format(Locale.ROOT, "%s: %d annotated nodule(s) of series %s drawn as %d circle(s)", table, k, uid, circles);
	}
}
