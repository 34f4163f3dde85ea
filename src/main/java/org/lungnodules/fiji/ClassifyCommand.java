package org.lungnodules.fiji;

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

import java.io.File;

/** LUNA16's false-positive-reduction track: the nodule probability of given candidate points. */
@Plugin(type = Command.class, name = "classify", label = "Classify Candidates",
	description = "Score given candidate points (e.g. LUNA16 candidates.csv) with the nodule classifier")
public class ClassifyCommand extends PointsCommand {

	@Parameter(label = "cls_model", required = false, description = "Nodule classifier (.state or .pt)")
	private File cls_model;

	@Override
	protected void execute() throws Exception {
		List<Candidate> candidates = readPoints();
		Path cls = model(Networks.Kind.CLS, cls_model);
		try (Inference inference = Models.open(device, 0, null, cls, null)) {
			candidates = new CtAnalysis(inference, null).classify(ct, candidates, progress());
		}
		List<String> rows = new ArrayList<>();
		for (Candidate c : candidates)
			rows.add(ct.seriesUid() + "," + num(c.x()) + "," + num(c.y()) + "," + num(c.z()) + "," + num(c.probability()) + "," +
				num(c.logitNonNodule()) + "," + num(c.logitNodule()));
		Path out = write("classified", "seriesuid,coordX,coordY,coordZ,probability,logit0,logit1", rows);
		summary = withWarning(String.format("%s: classified %d point(s)%s; written to %s", ct.seriesUid(), candidates.size(),
			outside > 0 ? " (" + outside + " outside the CT skipped)" : "", out.toAbsolutePath()));
	}
}
