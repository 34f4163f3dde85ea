package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Path;

import ij.ImagePlus;

import net.imglib2.img.array.ArrayImgs;

import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.Grouping;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The U-Net step alone: a nodule-probability map (and optionally the labelled components) as MetaImage. */
@Plugin(type = Command.class, name = "segment", label = "Segment CT",
	description = "Write the U-Net nodule probability of every voxel (7-slice context), and optionally the labelled components")
public class SegmentCommand extends LunaCommand implements UsesCurrentImage {

	@Parameter(label = "input", required = false, description = "A CT: .mhd/.mha, .nii/.nii.gz, or a DICOM series (folder or one file); " +
		"in Fiji, empty = the current image")
	private File input;

	@Parameter(label = "series", required = false, description = "For a folder holding several DICOM series: the SeriesInstanceUID to use")
	private String series = "";

	@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM (lossy JPEG, " +
		"JPEG 2000 irreversible, JPEG-LS near-lossless): refuse (default) or accept, with a warning in every output")
	private String lossy = "refuse";

	@Override
	protected boolean acceptsLossy() {
		return lossyAccepted(lossy);
	}

	@Parameter(label = "seg_model", required = false, description = "Segmentation U-Net (.state or .pt)")
	private File seg_model;

	@Parameter(label = "models", choices = { Models.PUBLISHED, Models.DEMO }, description = "Where the U-Net comes from when seg_model " +
		"is not given: the fetched published weights, or the demo model in the jar (synthetic CTs only)")
	private String models = Models.PUBLISHED;

	@Parameter(label = "output", required = false, description = "Probability map to write (.mhd or .mha); empty = only show it in Fiji")
	private File output;

	@Parameter(label = "labels", required = false, description = "Also write the labelled components here (.mhd or .mha)")
	private File labels;

	@Parameter(label = "seg_threshold", description = "Probability above which a voxel is a nodule voxel (for labels)")
	private double seg_threshold = 0.5;

	@Parameter(label = "device", choices = { "auto", "cpu", "gpu" })
	private String device = "auto";

	@Parameter(label = "fast", description = "Only the slices with lung, and the box around the lungs")
	private boolean fast = false;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Parameter(type = ItemIO.OUTPUT, label = "Probability")
	private MetaImage probability;

	private ImagePlus image;

	@Override
	public void useImage(ImagePlus imp) {
		image = imp;
	}

	@Override
	protected void execute() throws Exception {
		AnalyzeCommand.checkRange("seg_threshold", seg_threshold, 0, 0.999999);
		if (input == null && image == null) throw new BadValue("input=... (a CT file or DICOM series folder) is needed");
		for (File f : new File[] { output, labels })
			if (f != null && !f.getName().toLowerCase().matches(".*\\.(mhd|mha)")) throw new BadValue("output files must end in .mhd or .mha: " + f);
		CtVolume ct = input != null ? readCt(input, series) : ImagePlusAdapter.fromImagePlus(image);
		CtAnalysis.checkUsable(ct);
		Path seg = Models.resolve(Networks.Kind.SEG, seg_model, models, true);
		boolean demo = Models.demoUsed(models, seg_model);
		if (demo) log.warn(Models.DEMO_WARNING);
		float[] p;
		try (Inference inference = Models.open(device, 0, seg, null, null)) {
			p = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(fast)).segment(ct, progress());
		}
		Geometry g = ct.geometry();
		probability = MetaImage.of(ArrayImgs.floats(p, ct.width(), ct.height(), ct.depth()), g.origin(), g.spacing(), g.direction());
		StringBuilder sb = new StringBuilder(ct.seriesUid() + ": nodule probability of " + p.length + " voxels");
		if (output != null) {
			MetaImage.write(output.toPath(), probability, true);
			sb.append("\nProbability map: ").append(output.getAbsolutePath());
		}
		if (labels != null) {
			Grouping.Labels l = CtAnalysis.group(ct, p, seg_threshold, progress());
			MetaImage.write(labels.toPath(), MetaImage.of(ArrayImgs.ints(l.labels(), ct.width(), ct.height(), ct.depth()), g.origin(),
				g.spacing(), g.direction()), true);
			sb.append("\nLabels (").append(l.count()).append(" components): ").append(labels.getAbsolutePath());
		}
		summary = (demo ? Models.DEMO_WARNING + "\n" : "") + (input != null && lastRead != null && lastRead.lossy() ? LOSSY_WARNING + "\n" : "") + sb;
	}
}
