package org.lungnodules.fiji;

import java.io.File;

import org.lungnodules.nn.Networks;
import org.lungnodules.training.TrainingSettings;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Fine-tunes a nodule classifier into the benign / malignant classifier: SGD lr 3e-3, weight decay
 * 1e-4, validation every epoch, best.pt by ROC AUC (logged next to the diameter-only baseline).
 */
@Plugin(type = Command.class, name = "train-mal", label = "Train Malignancy Classifier",
	description = "Fine-tune a nodule classifier to tell benign from malignant nodules")
public class TrainMalignancyCommand extends TrainCommand {

	@Parameter(label = "Start from classifier", required = false, description = "Checkpoint of a trained nodule classifier (its head is not loaded)")
	private File init;

	@Parameter(label = "Blocks to fine-tune", min = "0", max = "6", description = "1: the head only; 2: the head and block4; 0: all")
	private int finetune_depth = 1;

	@Override
	protected Networks.Kind kind() { return Networks.Kind.MAL; }

	@Override
	protected void configure(TrainingSettings s) {
		s.init = init == null ? null : init.toPath();
		s.finetuneDepth = finetune_depth;
	}
}
