package org.lungnodules.fiji;

import java.awt.Color;
import java.io.File;
import java.nio.file.Path;

import org.lungnodules.Progress;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.io.SlicePicture;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/** Writes a LUNA16-like dataset of synthetic chest CTs: images, annotations, malignancy and candidates. */
@Plugin(type = Command.class, name = "phantom", label = "Generate Synthetic CTs",
	description = "Write synthetic chest CTs with nodules, laid out like LUNA16")
public class PhantomCommand extends LunaCommand {

	@Parameter(label = "output", style = FileWidget.DIRECTORY_STYLE, description = "Folder for the .mhd/.raw files and CSV tables")
	private File output = new File("phantom-data");

	@Parameter(label = "seed", description = "Same seed, same CTs")
	private long seed = 1;

	@Parameter(label = "count", min = "1", description = "Number of CTs")
	private int count = 1;

	@Parameter(label = "size", description = "Voxels as depth,height,width (z,y,x); LUNA16 is about 250,512,512")
	private String size = "128,256,256";

	@Parameter(label = "spacing", description = "Voxel size in mm as x,y,z")
	private String spacing = "0.7,0.7,1.25";

	@Parameter(label = "nodules", description = "Nodules per CT as min-max")
	private String nodules = "1-5";

	@Parameter(label = "diameters", description = "Nodule diameters in mm as min-max")
	private String diameters = "3-30";

	@Parameter(label = "solid_only", description = "Only solid nodules (no part-solid or ground-glass)")
	private boolean solid_only = false;

	@Parameter(label = "juxta_pleural", min = "0", max = "1", stepSize = "0.05",
		description = "Share of nodules against the chest wall (0-1)")
	private double juxta_pleural = 0.2;

	@Parameter(label = "compress", description = "zlib-compress the voxel data (.zraw)")
	private boolean compress = false;

	@Parameter(label = "preview", description = "Also write preview.png: a slice through the first nodule")
	private boolean preview = true;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		int[] zyx = ints("size", size, 3);
		double[] xyz = doubles("spacing", spacing, 3);
		int[] n = range("nodules", nodules);
		double[] d = doubles("diameters", diameters.replace('-', ','), 2);
		Progress progress = progress();
		PhantomDataset.Options options = PhantomDataset.Options.defaults().withSize(zyx[0], zyx[1], zyx[2])
			.withSpacing(xyz[0], xyz[1], xyz[2]).withNodules(n[0], n[1]).withDiameterRange(d[0], d[1])
			.withSolidOnly(solid_only).withJuxtaPleuralFraction(juxta_pleural).withCompression(compress)
			.withProgress(f -> progress.report("Generating synthetic CTs", f)).withCancel(progress::isCanceled);
		Path dir = output.toPath();
		PhantomDataset.Result result = PhantomDataset.write(dir, seed, count, options);
		if (result.cancelled()) throw new Progress.Canceled();
		StringBuilder sb = new StringBuilder();
		sb.append(String.format("Wrote %d CT(s) with %d nodules and %d candidates to %s", result.seriesUids().size(),
			result.noduleCount(), result.candidateCount(), dir.toAbsolutePath()));
		if (preview && !result.seriesUids().isEmpty()) {
			ChestPhantom first = ChestPhantom.generate(seed, 0, options.phantom());
			Path png = dir.resolve("preview.png");
			previewPicture(first).write(png);
			sb.append("\nPreview: ").append(png.toAbsolutePath());
		}
		summary = sb.toString();
	}

	/** The slice through the largest nodule, with every nodule of that slice circled. */
	static SlicePicture previewPicture(ChestPhantom ct) {
		ChestPhantom.Nodule largest = null;
		for (ChestPhantom.Nodule nod : ct.nodules())
			if (largest == null || nod.diameterMm() > largest.diameterMm()) largest = nod;
		int z = largest == null ? ct.volume().depth() / 2 : (int) Math.round(largest.centerIrc()[0]);
		SlicePicture pic = new SlicePicture(ct.volume(), z).title("Synthetic chest CT " + ct.seriesUid());
		double sx = ct.geometry().spacing()[0], sz = ct.geometry().spacing()[2];
		for (ChestPhantom.Nodule nod : ct.nodules()) {
			double r = nod.diameterMm() / 2, dz = (nod.centerIrc()[0] - z) * sz;
			if (Math.abs(dz) >= r) continue;
			double rSlice = Math.sqrt(r * r - dz * dz) / sx;
			pic.mark(new SlicePicture.Mark(nod.centerIrc()[1], nod.centerIrc()[2], rSlice + 3,
				nod.malignant() ? Color.RED : Color.YELLOW, String.format("%.0f mm %s", nod.diameterMm(),
					nod.type().name().toLowerCase().replace('_', '-'))));
		}
		return pic;
	}

	static int[] ints(String key, String text, int n) {
		double[] d = doubles(key, text, n);
		int[] out = new int[n];
		for (int i = 0; i < n; i++) {
			if (d[i] != Math.rint(d[i]) || d[i] < 1 || d[i] > Integer.MAX_VALUE)
				throw new BadValue(key + "='" + text + "': expected " + n + " positive whole numbers");
			out[i] = (int) d[i];
		}
		return out;
	}

	static int[] range(String key, String text) {
		return ints(key, text.replace('-', ','), 2);
	}

	static double[] doubles(String key, String text, int n) {
		String[] parts = text.trim().split("\\s*[,x ]\\s*");
		if (parts.length != n) throw new BadValue(key + "='" + text + "': expected " + n + " numbers separated by commas");
		double[] out = new double[n];
		for (int i = 0; i < n; i++) {
			try {
				out[i] = Double.parseDouble(parts[i]);
			}
			catch (NumberFormatException e) {
				throw new BadValue(key + "='" + text + "': '" + parts[i] + "' is not a number");
			}
			if (!Double.isFinite(out[i])) throw new BadValue(key + "='" + text + "': numbers must be finite");
		}
		return out;
	}
}
