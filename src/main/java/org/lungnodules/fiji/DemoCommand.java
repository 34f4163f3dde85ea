package org.lungnodules.fiji;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.io.SlicePicture;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * The whole product in one go, with nothing to download: a synthetic chest CT, the full analysis
 * with the models found (published weights in the models folder, else the demo weights in the jar),
 * a table of found nodules against the truth, and a PNG with one slice per nodule.
 */
@Plugin(type = Command.class, name = "demo", label = "Lung Nodule Demo",
	description = "Make a synthetic chest CT, find its nodules and score them, and draw what was found")
public class DemoCommand extends LunaCommand {

	@Parameter(label = "output", style = FileWidget.DIRECTORY_STYLE, description = "Folder for the CT, the candidates CSV and the PNG")
	private File output = new File("demo-output");

	@Parameter(label = "seed", description = "Which synthetic CT")
	private long seed = 2026;

	@Parameter(label = "size", description = "CT size as depth,height,width (z,y,x)")
	private String size = "96,256,256";

	@Parameter(label = "device", choices = { "auto", "cpu", "gpu" })
	private String device = "auto";

	@Parameter(label = "fast", description = "Faster segmentation (only the slices with lung, and the box around the lungs)")
	private boolean fast = false;

	@Parameter(label = "mirror", description = "Also classify each candidate's mirror images and average (as the demo models were checked)")
	private boolean mirror = true;

	@Parameter(type = ItemIO.OUTPUT, label = "Demo")
	private String summary;

	private AnalysisResult result;

	AnalysisResult result() { return result; }

	@Override
	protected void execute() throws Exception {
		int[] zyx = PhantomCommand.ints("size", size, 3);
		Path out = output.toPath();
		AnalyzeCommand.checkWritableFolder(out);
		status.showStatus("Making a synthetic chest CT");
		ChestPhantom phantom = ChestPhantom.generate(seed, 0, ChestPhantom.Options.defaults().withSize(zyx[0], zyx[1], zyx[2])
			.withNodules(3, 5).withDiameterRange(6, 25), progress()::isCanceled);
		Path ct = out.resolve(phantom.seriesUid() + ".mhd");
		MetaImage.writeVolume(ct, phantom.volume(), false);

		Path seg = Models.forSyntheticCt(Networks.Kind.SEG);
		Path cls = Models.forSyntheticCt(Networks.Kind.CLS);
		Path mal = Models.forSyntheticCt(Networks.Kind.MAL);
		try (Inference inference = Models.open(device, 0, seg, cls, mal)) {
			log.info("Demo: networks on " + inference.device() + ": " + seg + ", " + cls + (mal == null ? "" : ", " + mal));
			result = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withFast(fast).withMirror(mirror)
				.withKeepVolumes(false)).analyze(phantom.volume(), progress());
		}
		CandidatesCsv.write(out, result);
		List<Candidate> found = result.nodules(0.5);
		Path png = out.resolve("demo-nodules.png");
		picture(phantom, found).write(png);

		StringBuilder sb = new StringBuilder();
		sb.append(String.format(Locale.ROOT, "Synthetic CT %s (%d×%d×%d voxels): %d true nodule(s), %d candidate(s), %d found with p >= 0.5%n",
			phantom.seriesUid(), zyx[0], zyx[1], zyx[2], phantom.nodules().size(), result.candidates().size(), found.size()));
		sb.append(table(phantom.nodules(), found));
		sb.append("Models: ").append(seg.getFileName()).append(", ").append(cls.getFileName()).append(mal == null ? "" : ", " + mal.getFileName())
			.append(seg.toString().contains("demo-") ? " (demo weights trained on synthetic CTs; not for real scans)" : "").append('\n');
		sb.append("CT: ").append(ct.toAbsolutePath()).append('\n');
		sb.append("Candidates: ").append(out.resolve(CandidatesCsv.fileName(phantom.seriesUid())).toAbsolutePath()).append('\n');
		sb.append("Picture: ").append(png.toAbsolutePath());
		summary = sb.toString();
	}

	/**
	 * The table of what was found against the truth, numbered as the picture, the candidates file and
	 * Analyze CT number nodules: {@code #k} is the k-th detection by probability (p >= 0.5). Each row
	 * names the true nodule it lies in ("false positive" when none); true nodules no detection found
	 * follow as "missed", by their truth id.
	 */
	static String table(List<ChestPhantom.Nodule> truth, List<Candidate> found) {
		StringBuilder sb = new StringBuilder();
		sb.append(String.format("  %-5s %8s %11s %-8s %8s %-13s %-10s %-9s%n", "found", "p", "p_malignant", "truth", "diam_mm", "type", "shape",
			"malignant"));
		int rank = 0, falsePositives = 0;
		for (Candidate c : found) {
			ChestPhantom.Nodule n = truthOf(c, truth);
			String p = String.format(Locale.ROOT, "%.3f", c.probability());
			String mal = c.hasMalignancy() ? String.format(Locale.ROOT, "%.3f", c.pMalignant()) : "-";
			if (n == null) {
				falsePositives++;
				sb.append(String.format(Locale.ROOT, "  %-5s %8s %11s %s%n", "#" + ++rank, p, mal, "false positive"));
			}
			else sb.append(String.format(Locale.ROOT, "  %-5s %8s %11s %-8s %8.1f %-13s %-10s %-9s%n", "#" + ++rank, p, mal, "truth " + n.id(),
				n.diameterMm(), n.type().name().toLowerCase(Locale.ROOT), n.shape().name().toLowerCase(Locale.ROOT), n.malignant() ? "yes" : "no"));
		}
		for (ChestPhantom.Nodule n : truth)
			if (nearest(n, found) == null)
				sb.append(String.format(Locale.ROOT, "  %-5s %8s %11s %-8s %8.1f %-13s %-10s %-9s%n", "missed", "-", "-", "truth " + n.id(),
					n.diameterMm(), n.type().name().toLowerCase(Locale.ROOT), n.shape().name().toLowerCase(Locale.ROOT), n.malignant() ? "yes" : "no"));
		sb.append("  other detections (false positives): ").append(falsePositives).append('\n');
		return sb.toString();
	}

	/** The found nodule that lies inside true nodule {@code n}, if any (the nearest). */
	private static Candidate nearest(ChestPhantom.Nodule n, List<Candidate> found) {
		Candidate best = null;
		double bestD = Double.MAX_VALUE;
		for (Candidate c : found) {
			double d = distance(n.centerXyz(), c);
			if (d < Math.max(n.diameterMm() / 2, 3) && d < bestD) {
				bestD = d;
				best = c;
			}
		}
		return best;
	}

	private static ChestPhantom.Nodule truthOf(Candidate c, List<ChestPhantom.Nodule> truth) {
		for (ChestPhantom.Nodule n : truth)
			if (distance(n.centerXyz(), c) < Math.max(n.diameterMm() / 2, 3)) return n;
		return null;
	}

	private static double distance(double[] xyz, Candidate c) {
		double dx = xyz[0] - c.x(), dy = xyz[1] - c.y(), dz = xyz[2] - c.z();
		return Math.sqrt(dx * dx + dy * dy + dz * dz);
	}

	/** One slice per found nodule (up to 8), each with every found nodule of that slice circled. */
	private static SlicePicture.Painting picture(ChestPhantom phantom, List<Candidate> found) {
		List<BufferedImage> panels = new ArrayList<>();
		for (SlicePicture p : panels(phantom.volume(), found)) panels.add(p.render());
		return new SlicePicture.Painting(SlicePicture.montage(panels, Math.min(4, panels.size())));
	}

	/** The picture's panels: panel k shows detection #k (the table's #k) and labels every detection on its slice by the same number. */
	static List<SlicePicture> panels(org.lungnodules.ct.CtVolume volume, List<Candidate> found) {
		List<Candidate> shown = found.size() > 8 ? found.subList(0, 8) : found;
		List<SlicePicture> panels = new ArrayList<>();
		double sx = volume.geometry().spacing()[0], sz = volume.geometry().spacing()[2];
		if (shown.isEmpty()) panels.add(new SlicePicture(volume, volume.depth() / 2).title("No nodule found"));
		int rank = 0;
		for (Candidate focus : shown) {
			rank++;
			int z = (int) Math.round(focus.index());
			SlicePicture pic = new SlicePicture(volume, z).title(String.format(Locale.ROOT, "Nodule #%d, p=%.2f%s", rank,
				focus.probability(), focus.hasMalignancy() ? String.format(Locale.ROOT, ", malignancy %.2f", focus.pMalignant()) : ""));
			int r2 = 0;
			for (Candidate c : found) {
				r2++;
				double r = Math.max(c.diameterMm(), 3) / 2, dz = (c.index() - z) * sz;
				if (Math.abs(dz) >= r) continue;
				Color colour = c.hasMalignancy() ? new Color(1f, 1f - (float) Math.max(0, Math.min(1, c.pMalignant())), 0f) : Color.YELLOW;
				pic.mark(new SlicePicture.Mark(c.row(), c.col(), Math.sqrt(r * r - dz * dz) / sx + 3, colour, "#" + r2));
			}
			panels.add(pic);
		}
		return panels;
	}
}
