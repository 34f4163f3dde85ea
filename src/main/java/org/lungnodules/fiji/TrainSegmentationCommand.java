package org.lungnodules.fiji;

import org.lungnodules.nn.Networks;
import org.scijava.command.Command;
import org.scijava.plugin.Plugin;

/** Trains the U-Net: soft Dice with false negatives weighted ×8, Adam, best.pt by validation recall. */
@Plugin(type = Command.class, name = "train-seg", label = "Train Segmentation U-Net",
	description = "Train the nodule segmentation U-Net (runs/<name>: checkpoints, TensorBoard logs, metrics.csv)")
public class TrainSegmentationCommand extends TrainCommand {

	@Override
	protected Networks.Kind kind() { return Networks.Kind.SEG; }
}
