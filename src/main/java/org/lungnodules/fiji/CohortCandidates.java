package org.lungnodules.fiji;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

import org.lungnodules.Progress;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.PublishedModels;
import org.lungnodules.training.CandidateGeneration;
import org.lungnodules.training.LunaData;

/**
 * For train-cls and prepare-cache on a cohort without a {@code candidates.csv}: generates the
 * classifier's candidates ({@link CandidateGeneration}) with {@code seg_model=} or the published
 * U-Net, and returns the options that point the dataset at the generated table.
 */
final class CohortCandidates {

	private CohortCandidates() {}

	/**
	 * @param dir where the generated points and {@code candidates.csv} are kept (beside the chunk cache)
	 * @return {@code options} unchanged when the dataset has a candidates table, else with the generated one
	 */
	static LunaData.Options ensure(Path dataFolder, LunaData.Options options, Path dir, File segModel, String device, int randomPoints,
		long seed, Consumer<String> log, Progress progress) throws IOException {
		LunaData data = LunaData.open(dataFolder, options);
		if (data.candidatesFile() != null) return options;
		Path seg = Models.resolve(Networks.Kind.SEG, segModel, Models.PUBLISHED, false);
		if (seg == null)
			throw new LunaCommand.BadValue("The dataset " + dataFolder + " has no candidates.csv, and no segmentation model is at hand to " +
				"generate the classifier's candidates: give seg_model=FILE (the published U-Net's .state or one of our checkpoints), fetch the " +
				"published weights with ./luna fetch-models, or give candidates=FILE");
		log.accept("No candidates.csv in " + dataFolder + ": generating the classifier's candidates with " + seg + " (segment + group, plus " +
			randomPoints + " random lung points per scan) into " + dir);
		CandidateGeneration.Result r;
		try (Inference inference = Models.open(device, 0, seg, null, null)) {
			r = CandidateGeneration.generate(data, dir, inference, PublishedModels.sha256(seg), new CandidateGeneration.Settings(randomPoints, seed),
				progress);
		}
		log.accept(r.summary());
		LunaData.Options withCandidates = options.withCandidates(r.candidatesCsv());
		log.accept(splitCounts(LunaData.open(dataFolder, withCandidates)));
		return withCandidates;
	}

	/** Scans, nodules and candidates of each split, for the log. */
	static String splitCounts(LunaData d) {
		long[] scans = new long[2], nodules = new long[2], candidates = new long[2];
		for (String uid : d.series()) {
			int v = d.isValidation(uid) ? 1 : 0;
			scans[v]++;
			for (CandidateInfo c : d.candidates(uid)) {
				if (c.isNodule()) nodules[v]++;
				else candidates[v]++;
			}
		}
		return String.format(Locale.ROOT, "Split by series: training %d scans, %d annotated nodules, %d non-nodule candidates; validation %d " +
			"scans, %d annotated nodules, %d non-nodule candidates", scans[0], nodules[0], candidates[0], scans[1], nodules[1], candidates[1]);
	}
}
