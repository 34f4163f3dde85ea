package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.lungnodules.Progress;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.EvaluationException;
import org.lungnodules.analysis.FrocEvaluation;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * The end of a fine-tuning run (issue #22 §2): the validation scans analysed end to end, as
 * {@code analyze} does, once with the initial weights and once with the fine-tuned ones, so a user sees
 * whether fine-tuning helped on whole scans and not only on the training loop's samples:
 * <ul>
 * <li>the U-Net's recall of the annotated nodules of at least 6 mm (a nodule is found when a component's
 * centre lies within its radius, LUNA16's rule for a hit);</li>
 * <li>with a classifier, the LUNA16 FROC's CPM of the classified components against the annotations
 * (every component a mark, at most 100 per scan, as {@code evaluate}).</li>
 * </ul>
 * A classifier run keeps the U-Net, so only the FROC changes; a U-Net run keeps the classifier (the
 * published one, when at hand), so both change.
 */
public final class FineTuneComparison {

	/** The smallest nodule the recall counts: LUNA16's annotations start at 3 mm, the book's analysis at 6. */
	public static final double MIN_DIAMETER_MM = 6;

	/** One side's networks: the U-Net, and the classifier or null (then no FROC). */
	public record Weights(Path seg, Path cls) {}

	/**
	 * @param nodules annotated nodules of at least 6 mm in the scans
	 * @param found of those, the ones a component's centre lies within
	 * @param cpm the FROC's competition performance metric, NaN without a classifier or annotations
	 */
	public record Scores(int scans, int nodules, int found, double cpm) {
		public double recall() { return nodules == 0 ? Double.NaN : (double) found / nodules; }
	}

	public record Result(Scores initial, Scores fineTuned, boolean sameSegmentation, boolean classified) {

		/** Two lines for the log and the command's output: the scores side by side. */
		public String report() {
			StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "Validation scans end to end (%d scans, %d annotated nodule(s) >= %.0f mm), " +
				"initial weights vs fine-tuned (best.pt):%n", initial.scans(), initial.nodules(), MIN_DIAMETER_MM));
			if (sameSegmentation) sb.append(String.format(Locale.ROOT, "  U-Net recall of nodules >= 6 mm: %s (same U-Net on both sides)%n",
				recall(initial)));
			else sb.append(String.format(Locale.ROOT, "  U-Net recall of nodules >= 6 mm: %s vs %s%n", recall(initial), recall(fineTuned)));
			if (classified) sb.append(String.format(Locale.ROOT, "  FROC CPM: %s vs %s%n", number(initial.cpm()), number(fineTuned.cpm())));
			else sb.append("  FROC: not computed (no classifier at hand: fetch the published weights with ./luna fetch-models)\n");
			return sb.toString().stripTrailing();
		}

		private static String recall(Scores s) {
			return s.nodules() == 0 ? "- (no such nodule)" : String.format(Locale.ROOT, "%d/%d (%.3f)", s.found(), s.nodules(), s.recall());
		}

		private static String number(double v) {
			return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
		}
	}

	private FineTuneComparison() {}

	/**
	 * Analyses the validation scans of {@code data} with both sets of weights. The CTs are read as the
	 * training read them (lossy-compressed DICOM refused).
	 *
	 * @param device where the networks run ({@code auto}, {@code cpu}, {@code gpu:1}; of several, the first)
	 */
	public static Result compare(LunaData data, Weights initial, Weights fineTuned, String device, Progress progress) throws IOException {
		List<String> scans = data.validationSeries();
		List<Luna16Tables.Annotation> truth = new ArrayList<>();
		for (String uid : scans)
			for (CandidateInfo n : data.nodules(uid))
				if (n.hasAnnotation()) truth.add(new Luna16Tables.Annotation(uid, n.x(), n.y(), n.z(), n.diameterMm()));
		boolean sameSeg = initial.seg().equals(fineTuned.seg());
		boolean classified = initial.cls() != null && fineTuned.cls() != null;
		String one = device == null || device.isBlank() ? "auto" : device.split(",")[0].trim();
		List<Luna16Tables.Mark> marksA = new ArrayList<>(), marksB = new ArrayList<>();
		int nodules = 0, foundA = 0, foundB = 0;
		try (Inference a = open(one, initial); Inference b = open(one, fineTuned)) {
			CtAnalysis.Settings settings = CtAnalysis.Settings.defaults().withKeepVolumes(false);
			CtAnalysis analysisA = new CtAnalysis(a, settings), analysisB = new CtAnalysis(b, settings);
			for (int i = 0; i < scans.size(); i++) {
				progress.checkCanceled();
				String uid = scans.get(i);
				progress.report("Comparing the weights on validation scan " + (i + 1) + " of " + scans.size(), (double) i / scans.size());
				CtVolume ct = CtReader.read(data.ctPath(uid)).volume();
				List<Candidate> componentsA = analysisA.components(ct, Progress.NONE);
				List<Candidate> componentsB = sameSeg ? componentsA : analysisB.components(ct, Progress.NONE);
				for (Luna16Tables.Annotation n : truth) {
					if (!n.seriesUid().equals(uid) || n.diameterMm() < MIN_DIAMETER_MM) continue;
					nodules++;
					if (hit(n, componentsA)) foundA++;
					if (hit(n, componentsB)) foundB++;
				}
				if (classified) {
					for (Candidate c : analysisA.classify(ct, componentsA, Progress.NONE))
						marksA.add(new Luna16Tables.Mark(uid, c.x(), c.y(), c.z(), c.probability()));
					for (Candidate c : analysisB.classify(ct, componentsB, Progress.NONE))
						marksB.add(new Luna16Tables.Mark(uid, c.x(), c.y(), c.z(), c.probability()));
				}
			}
		}
		double cpmA = classified ? cpm(marksA, truth, scans) : Double.NaN, cpmB = classified ? cpm(marksB, truth, scans) : Double.NaN;
		return new Result(new Scores(scans.size(), nodules, foundA, cpmA), new Scores(scans.size(), nodules, foundB, cpmB), sameSeg, classified);
	}

	/** Whether a component's centre lies within the nodule's radius (LUNA16's hit). */
	static boolean hit(Luna16Tables.Annotation nodule, List<Candidate> components) {
		double r2 = nodule.diameterMm() * nodule.diameterMm() / 4;
		for (Candidate c : components) {
			double dx = c.x() - nodule.x(), dy = c.y() - nodule.y(), dz = c.z() - nodule.z();
			if (dx * dx + dy * dy + dz * dz <= r2) return true;
		}
		return false;
	}

	private static double cpm(List<Luna16Tables.Mark> marks, List<Luna16Tables.Annotation> truth, List<String> scans) {
		if (truth.isEmpty() || scans.isEmpty()) return Double.NaN;
		try {
			return FrocEvaluation.evaluate(marks, truth, null, scans,
				new FrocEvaluation.Settings(FrocEvaluation.MAX_MARKS_PER_SCAN, 0, 0), Progress.NONE).cpm();
		}
		catch (EvaluationException e) {
			throw new IllegalStateException("FROC of the validation scans: " + e.getMessage(), e);
		}
	}

	private static Inference open(String device, Weights w) throws IOException {
		Inference.Builder b = Inference.builder().device(device);
		ModelFiles.addTo(b, Networks.Kind.SEG, w.seg());
		if (w.cls() != null) ModelFiles.addTo(b, Networks.Kind.CLS, w.cls());
		return b.build();
	}
}
