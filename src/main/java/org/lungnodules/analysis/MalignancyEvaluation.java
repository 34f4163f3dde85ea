package org.lungnodules.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.lungnodules.io.Luna16Tables.MalignancyAnnotation;
import org.lungnodules.io.Luna16Tables.Mark;

/**
 * How well a malignancy score separates malignant from benign nodules, next to the simplest
 * rival, the nodule's annotated diameter (big nodules are more often malignant).
 * <p>
 * Marks are matched to the nodules of the malignancy table with the LUNA16 rule (the mark lies
 * inside the nodule's sphere); a nodule takes the score of its nearest such mark. Nodules no mark
 * hits have no score and are counted as missed. Both ROC curves use the same scored nodules.
 */
public final class MalignancyEvaluation {

	private MalignancyEvaluation() {}

	/** A scored nodule: the nodule, its nearest hitting mark, the mark's distance to the centre. */
	public record Scored(MalignancyAnnotation nodule, Mark mark, double distanceMm) {}

	/**
	 * @param nodules      nodules of the evaluated scans
	 * @param ignoredMarks marks on series with no nodule in the table (they cannot be scored)
	 */
	public record Result(List<String> scans, int nodules, List<Scored> scored, int missed, int malignant, int benign,
		int ignoredMarks, RocAnalysis.Roc model, RocAnalysis.Interval modelInterval, RocAnalysis.Roc diameter,
		RocAnalysis.Interval diameterInterval) {}

	/**
	 * @param marks      scored by the malignancy probability (e.g. our p_malignant column)
	 * @param seriesList the scans to evaluate, or null: those of the table that have marks, or all
	 *                   of the table's if {@code allSeries}
	 */
	public static Result evaluate(List<Mark> marks, List<MalignancyAnnotation> table, List<String> seriesList,
		boolean allSeries, int bootstrapSamples, long seed) throws EvaluationException {
		if (seriesList != null && allSeries) throw new EvaluationException("Give either a series list or all_series=true, not both");
		Set<String> marked = new HashSet<>();
		for (Mark m : marks) marked.add(m.seriesUid());
		Set<String> scans = new LinkedHashSet<>();
		if (seriesList != null) scans.addAll(seriesList);
		else for (MalignancyAnnotation a : table) if (allSeries || marked.contains(a.seriesUid())) scans.add(a.seriesUid());
		if (scans.isEmpty()) throw new EvaluationException("No nodule of the malignancy table lies in a series of the results");

		Set<String> tableSeries = new HashSet<>();
		for (MalignancyAnnotation a : table) tableSeries.add(a.seriesUid());
		int ignored = 0;
		for (Mark m : marks) if (!scans.contains(m.seriesUid()) || !tableSeries.contains(m.seriesUid())) ignored++;

		Map<String, List<Mark>> marksOf = new HashMap<>();
		for (Mark m : marks) marksOf.computeIfAbsent(m.seriesUid(), k -> new ArrayList<>()).add(m);
		List<Scored> scored = new ArrayList<>();
		int nodules = 0, missed = 0;
		for (MalignancyAnnotation a : table) {
			if (!scans.contains(a.seriesUid())) continue;
			nodules++;
			Mark best = null;
			double bestDistance = Double.POSITIVE_INFINITY;
			double radius = a.diameterMm() / 2.0;
			for (Mark m : marksOf.getOrDefault(a.seriesUid(), List.of())) {
				double dx = a.x() - m.x(), dy = a.y() - m.y(), dz = a.z() - m.z();
				double d2 = dx * dx + dy * dy + dz * dz;
				if (d2 >= radius * radius) continue;
				// Nearest mark; on equal distance the higher score, so the choice never depends on file order.
				if (best == null || d2 < bestDistance || d2 == bestDistance && m.probability() > best.probability()) {
					best = m;
					bestDistance = d2;
				}
			}
			if (best == null) missed++;
			else scored.add(new Scored(a, best, Math.sqrt(bestDistance)));
		}
		int n = scored.size();
		double[] score = new double[n], diameter = new double[n];
		boolean[] malignant = new boolean[n];
		int positives = 0;
		for (int i = 0; i < n; i++) {
			score[i] = scored.get(i).mark().probability();
			diameter[i] = scored.get(i).nodule().diameterMm();
			malignant[i] = scored.get(i).nodule().malignant();
			if (malignant[i]) positives++;
		}
		if (positives == 0 || positives == n)
			throw new EvaluationException("A ROC curve needs malignant and benign nodules among the scored ones; " + n +
				" nodules were hit by a mark, " + positives + " of them malignant");
		RocAnalysis.Roc model = RocAnalysis.curve(score, malignant), size = RocAnalysis.curve(diameter, malignant);
		double confidence = FrocEvaluation.CONFIDENCE;
		return new Result(List.copyOf(scans), nodules, List.copyOf(scored), missed, positives, n - positives, ignored, model,
			RocAnalysis.bootstrap(score, malignant, bootstrapSamples, seed, confidence), size,
			RocAnalysis.bootstrap(diameter, malignant, bootstrapSamples, seed, confidence));
	}
}
