package org.lungnodules.fiji;

import org.lungnodules.nn.Networks;
import org.lungnodules.training.TrainingSettings;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** Trains the nodule / non-nodule classifier: cross-entropy, SGD lr 1e-3 momentum 0.99, best.pt by validation F1. */
@Plugin(type = Command.class, name = "train-cls", label = "Train Nodule Classifier",
	description = "Train the nodule/non-nodule classifier (runs/<name>: checkpoints, TensorBoard logs, metrics.csv)")
public class TrainClassifierCommand extends TrainCommand {

	@Parameter(label = "ratio", min = "1", description = "Non-nodule samples per nodule sample (the book's ratio_int; 1: balanced 1:1)")
	private int ratio = 1;

	@Override
	protected Networks.Kind kind() { return Networks.Kind.CLS; }

	@Override
	protected void configure(TrainingSettings s) {
		s.ratio = ratio;
	}
}
