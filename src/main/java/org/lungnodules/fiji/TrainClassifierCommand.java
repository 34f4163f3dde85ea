package org.lungnodules.fiji;

import java.io.File;

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

	@Parameter(label = "Start from weights", required = false, description = "Fine-tune: a published .state or one of our checkpoints of the classifier " +
		"(lr then defaults to a tenth of the recipe's and validation runs every epoch)")
	private File init;

	@Parameter(label = "Blocks to fine-tune", min = "0", max = "16", description = "With init: 0 trains all blocks; N the last N, counted from the output")
	private int finetune_depth = 0;

	@Override
	protected Networks.Kind kind() { return Networks.Kind.CLS; }

	@Override
	protected void configure(TrainingSettings s) {
		s.ratio = ratio;
		s.init = init == null ? null : init.toPath();
		s.finetuneDepth = finetune_depth;
	}
}
