package org.lungnodules.fiji;

import org.lungnodules.nn.Networks;
import org.scijava.command.Command;
import org.scijava.plugin.Plugin;

/** Trains the nodule / non-nodule classifier: cross-entropy, SGD lr 1e-3 momentum 0.99, best.pt by validation F1. */
@Plugin(type = Command.class, name = "train-cls", label = "Train Nodule Classifier",
	description = "Train the nodule/non-nodule classifier (runs/<name>: checkpoints, TensorBoard logs, metrics.csv)")
public class TrainClassifierCommand extends TrainCommand {

	@Override
	protected Networks.Kind kind() { return Networks.Kind.CLS; }
}
