package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** The malignancy model alone, on given nodule points (e.g. annotations.csv rows of this series). */
@Plugin(type = Command.class, name = "score-malignancy", label = "Score Malignancy",
	description = "Score given nodule points with a malignancy model")
public class ScoreMalignancyCommand extends PointsCommand {

	@Parameter(label = "mal_model", required = false, description = "Malignancy classifier (.pt)")
	private File mal_model;

	@Override
	protected void execute() throws Exception {
		List<Candidate> nodules = readPoints();
		Path mal = model(Networks.Kind.MAL, mal_model);
		try (Inference inference = Models.open(device, 0, null, null, mal)) {
			// Every given point is a nodule, so every one is scored (probability 1 ≥ any threshold).
			nodules = new CtAnalysis(inference, null).scoreMalignancy(ct, nodules, progress());
		}
		List<String> rows = new ArrayList<>();
		for (Candidate c : nodules) rows.add(ct.seriesUid() + "," + num(c.x()) + "," + num(c.y()) + "," + num(c.z()) + "," + num(c.pMalignant()));
		Path out = write("malignancy", "seriesuid,coordX,coordY,coordZ,p_malignant", rows);
		summary = withWarning(String.format("%s: scored %d nodule(s)%s; written to %s", ct.seriesUid(), nodules.size(),
			outside > 0 ? " (" + outside + " outside the CT skipped)" : "", out.toAbsolutePath()));
	}
}
