package org.lungnodules.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.nn.DemoModels;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.analysis.RocAnalysis;

/**
 * How good models trained on synthetic CTs are, on synthetic CTs they have never seen: the three
 * goals of the demo weights, each measured against the phantom's own truth (what it drew), never
 * against what a network reported.
 * <ul>
 * <li><b>Classifier</b>: every point of the phantoms' candidate list (the nodules and the
 * non-nodule candidates on vessels, rib ends, the pleura and lung, as LUNA16's candidates.csv has
 * them) is classified from its 32×48×48 chunk; nodule if p_nodule &ge; 0.5. Precision, recall and
 * F1 over all of them, as the training loop's validation reports them.</li>
 * <li><b>Segmentation</b>: the U-Net and the grouping of the analysis ({@link CtAnalysis}); a nodule
 * counts as found when the centre of a component lies within its radius (3 mm at least). Recall of
 * the nodules of 6 mm and more, and of all; the end-to-end detection rate (such a component with
 * p_nodule &ge; 0.5) alongside.</li>
 * <li><b>Malignancy</b>: p_malignant of each drawn nodule from its chunk at the annotated centre (as
 * the malignancy loop validates); ROC AUC against the phantom's benign/malignant label, next to the
 * AUC of the diameter alone.</li>
 * </ul>
 * The CTs default to the distribution the demo models were trained on (scripts/train-demo-models.sh:
 * 64×256×256 at 0.7×0.7×1.25 mm, 2–5 nodules of 4–25 mm), with a seed (303) that neither their
 * training (101) nor their validation (202) used.
 * <p>
 * Options: {@code n} CTs for the classifier (30: with 8, one nodule moves F1 by ~0.02), {@code seed}
 * (303), {@code size} z×y×x (64x256x256), {@code nodules} (2..5), {@code diameters} (4..25), {@code mal_n}
 * CTs whose nodules the malignancy AUCs use (40; the first {@code n} are the same CTs), {@code seg_n} of
 * those that also go through segmentation and grouping (8; the slow part), {@code seg}/{@code cls}/{@code mal}
 * model files (default: the demo weights in the jar), {@code device} (cpu), {@code threads} (0: all cores),
 * {@code mirror} (true, as the demo runs: also classify each chunk's mirror images and average, {@link CtAnalysis#classify}).
 */
public final class DemoModelCheck {

	private DemoModelCheck() {}

	/** What the check measured. Counts are of candidates (classifier) and nodules (the rest). */
	public record Result(int cts, int segmentationCts, int malignancyCts, int truePositives, int falsePositives, int falseNegatives,
		int trueNegatives, int nodules6mm, int found6mm, int nodules, int found, int detected, double malignancyAuc, double diameterAuc, int malignant,
		int benign, Map<String, Double> seconds) {

		public double precision() { return truePositives / (double) Math.max(1, truePositives + falsePositives); }
		public double recall() { return truePositives / (double) Math.max(1, truePositives + falseNegatives); }
		public double f1() {
			double p = precision(), r = recall();
			return p + r == 0 ? 0 : 2 * p * r / (p + r);
		}
		public double segmentationRecall6mm() { return found6mm / (double) Math.max(1, nodules6mm); }
	}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		Result r = check(options, out);
		out.printf(Locale.ROOT, "classifier, all %d candidates of %d held-out CTs: precision %.3f, recall %.3f, F1 %.3f "
			+ "(%d nodules: %d found; %d non-nodules: %d taken for nodules)%n", r.truePositives + r.falsePositives + r.falseNegatives +
			r.trueNegatives, r.cts, r.precision(), r.recall(), r.f1(), r.truePositives + r.falseNegatives, r.truePositives,
			r.falsePositives + r.trueNegatives, r.falsePositives);
		out.printf(Locale.ROOT, "segmentation + grouping, %d CTs: nodules >= 6 mm found %d/%d (recall %.3f); all nodules %d/%d; "
			+ "detected end to end (p_nodule >= 0.5) %d/%d%n", r.segmentationCts, r.found6mm, r.nodules6mm, r.segmentationRecall6mm(), r.found, r.nodules,
			r.detected, r.nodules);
		out.printf(Locale.ROOT, "malignancy, nodules of %d held-out CTs: ROC AUC %.3f vs diameter-only %.3f (%d malignant, %d benign)%n",
			r.malignancyCts, r.malignancyAuc, r.diameterAuc, r.malignant, r.benign);
		out.println("seconds per part: " + r.seconds);
	}

	/** Runs the check; {@code log} (may be null) gets a line per CT. */
	public static Result check(Map<String, String> options, PrintStream log) throws IOException {
		int n = Integer.parseInt(options.getOrDefault("n", "30"));
		// malignancy AUCs of a few dozen nodules swing by ±0.15; more CTs for it alone cost little (no segmentation)
		int malN = Integer.parseInt(options.getOrDefault("mal_n", "40"));
		int segN = Integer.parseInt(options.getOrDefault("seg_n", "8"));
		long seed = Long.parseLong(options.getOrDefault("seed", "303"));
		int[] size = PhantomDetectionCheck.parseSize(options.getOrDefault("size", "64x256x256"));
		int[] nodules = PhantomDetectionCheck.parseRange(options.getOrDefault("nodules", "2..5"));
		int[] diameterRange = PhantomDetectionCheck.parseRange(options.getOrDefault("diameters", "4..25"));
		ChestPhantom.Options phantomOptions = ChestPhantom.Options.defaults().withSize(size[0], size[1], size[2]).withSpacing(0.7, 0.7, 1.25)
			.withNodules(nodules[0], nodules[1]).withDiameterRange(diameterRange[0], diameterRange[1]);

		Inference.Builder b = Inference.builder().device(options.getOrDefault("device", "cpu"))
			.threads(Integer.parseInt(options.getOrDefault("threads", "0")));
		for (Networks.Kind kind : Networks.Kind.values()) {
			String given = options.get(kind.name().toLowerCase(Locale.ROOT));
			Path file = given != null ? Path.of(given) : DemoModels.path(kind);
			if (file == null) throw new IllegalArgumentException("No " + kind + " model given and this build ships no demo model for it");
			ModelFiles.addTo(b, kind, file);
		}

		int tp = 0, fp = 0, fn = 0, tn = 0, n6 = 0, found6 = 0, all = 0, found = 0, detected = 0;
		List<Double> pMalignant = new ArrayList<>(), diameter = new ArrayList<>();
		List<Boolean> malignant = new ArrayList<>();
		Map<String, Double> seconds = new java.util.LinkedHashMap<>();
		try (Inference inference = b.build()) {
			CtAnalysis analysis = new CtAnalysis(inference, CtAnalysis.Settings.defaults().withKeepVolumes(false)
				.withMirror(Boolean.parseBoolean(options.getOrDefault("mirror", "true"))));
			for (int i = 0; i < Math.max(n, malN); i++) {
				long t0 = System.nanoTime();
				ChestPhantom phantom = ChestPhantom.generate(seed, i, phantomOptions);
				long t1 = System.nanoTime();
				seconds.merge("phantoms", (t1 - t0) / 1e9, Double::sum);
				CtVolume ct = phantom.volume();
				if (i < malN) {
					List<Candidate> centres = new ArrayList<>();
					for (ChestPhantom.Nodule nodule : phantom.nodules()) {
						double[] c = nodule.centerXyz();
						centres.add(Candidate.atPoint(centres.size() + 1, ct.geometry(), c[0], c[1], c[2]));
						diameter.add(nodule.diameterMm());
						malignant.add(nodule.malignant());
					}
					for (Candidate c : analysis.scoreMalignancy(ct, centres, null)) pMalignant.add(c.pMalignant());
				}
				long t2 = System.nanoTime();
				seconds.merge("malignancy", (t2 - t1) / 1e9, Double::sum);
				if (i >= n) continue;

				List<ChestPhantom.Candidate> candidates = phantom.candidates();
				List<Candidate> points = new ArrayList<>();
				for (ChestPhantom.Candidate c : candidates) points.add(Candidate.atPoint(points.size() + 1, ct.geometry(), c.x(), c.y(), c.z()));
				List<Candidate> scored = analysis.classify(ct, points, null);
				long t3 = System.nanoTime();
				seconds.merge("classifier", (t3 - t2) / 1e9, Double::sum);
				int ctFp = 0;
				for (int k = 0; k < candidates.size(); k++) {
					boolean nodule = candidates.get(k).isNodule(), saysNodule = scored.get(k).probability() >= 0.5;
					if (nodule && saysNodule) tp++;
					else if (nodule) fn++;
					else if (saysNodule) { fp++; ctFp++; }
					else tn++;
				}

				List<Candidate> components = i < segN ? analysis.analyze(ct, null).candidates() : null;
				seconds.merge("segmentation", (System.nanoTime() - t3) / 1e9, Double::sum);
				if (log != null)
					log.printf(Locale.ROOT, "CT %d (%s): %d nodules, %d candidates (%d taken for nodules wrongly)%s%n", i, phantom.seriesUid(),
						phantom.nodules().size(), candidates.size(), ctFp, components == null ? "" : ", " + components.size() + " components");
				if (components == null) continue;
				for (ChestPhantom.Nodule nodule : phantom.nodules()) {
					double[] c = nodule.centerXyz();
					double reach = Math.max(nodule.diameterMm() / 2, 3);
					boolean hit = false, hitWithP = false;
					for (Candidate comp : components) {
						double dx = comp.x() - c[0], dy = comp.y() - c[1], dz = comp.z() - c[2];
						if (dx * dx + dy * dy + dz * dz > reach * reach) continue;
						hit = true;
						hitWithP |= comp.probability() >= 0.5;
					}
					all++;
					if (hit) found++;
					if (hitWithP) detected++;
					if (nodule.diameterMm() >= 6) {
						n6++;
						if (hit) found6++;
					}
				}
			}
		}
		boolean[] positive = new boolean[malignant.size()];
		double[] scores = new double[positive.length], diameters = new double[positive.length];
		int m = 0;
		for (int i = 0; i < positive.length; i++) {
			positive[i] = malignant.get(i);
			scores[i] = pMalignant.get(i);
			diameters[i] = diameter.get(i);
			if (positive[i]) m++;
		}
		boolean bothClasses = m > 0 && m < positive.length;
		return new Result(n, Math.min(segN, n), malN, tp, fp, fn, tn, n6, found6, all, found, detected, bothClasses ? RocAnalysis.auc(scores, positive) : Double.NaN,
			bothClasses ? RocAnalysis.auc(diameters, positive) : Double.NaN, m, positive.length - m, seconds);
	}
}
