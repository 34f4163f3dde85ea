package org.lungnodules.fiji;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import org.lungnodules.nn.Networks;
import org.lungnodules.training.LunaData;
import org.lungnodules.training.TrainingData;
import org.lungnodules.training.TrainingSettings;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Trains the U-Net: soft Dice with false negatives weighted ×8, Adam, best.pt by validation recall.
 * The masks are the book's −700 HU threshold masks, or with {@code masks=lidc} the LIDC readers'
 * consensus where a series has readings ({@link org.lungnodules.training.LidcMasks}).
 */
@Plugin(type = Command.class, name = "train-seg", label = "Train Segmentation U-Net",
	description = "Train the nodule segmentation U-Net (runs/<name>: checkpoints, TensorBoard logs, metrics.csv)")
public class TrainSegmentationCommand extends TrainCommand {

	static final String THRESHOLD = "threshold", LIDC = "lidc";

	@Parameter(label = "masks", choices = { THRESHOLD, LIDC }, description = "threshold: the book's -700 HU masks around each annotation; " +
		"lidc: the LIDC radiologists' consensus (>= 50% of readers) where an XML reading is found (NAME.xml next to NAME.mhd, or in readings=), " +
		"the threshold masks elsewhere")
	private String masks = THRESHOLD;

	@Parameter(label = "readings", style = "directory", required = false,
		description = "masks=lidc: a folder of LIDC-IDRI XML readings, matched to the series by their SeriesInstanceUid")
	private File readings;

	@Parameter(label = "Start from weights", required = false, description = "Fine-tune: a published .state or one of our checkpoints of the U-Net " +
		"(lr then defaults to a tenth of the recipe's and validation runs every epoch)")
	private File init;

	@Parameter(label = "Blocks to fine-tune", min = "0", max = "16", description = "With init: 0 trains all blocks; N the last N, counted from the output")
	private int finetune_depth = 0;

	@Override
	protected Networks.Kind kind() { return Networks.Kind.SEG; }

	@Override
	protected void configure(TrainingSettings s) {
		s.init = init == null ? null : init.toPath();
		s.finetuneDepth = finetune_depth;
	}

	@Override
	protected TrainingData openData(Path folder, Path cacheFolder, LunaData.Options options) throws IOException {
		String m = masks == null ? THRESHOLD : masks.trim().toLowerCase(Locale.ROOT);
		if (m.equals(THRESHOLD)) {
			if (readings != null) throw new BadValue("readings= is for masks=lidc");
			return TrainingData.open(folder, cacheFolder, options);
		}
		if (!m.equals(LIDC)) throw new BadValue("masks must be threshold or lidc, not '" + masks + "'");
		if (readings != null && !readings.isDirectory()) throw new BadValue("readings: no such folder: " + readings);
		return TrainingData.openWithLidcMasks(folder, cacheFolder, options, readings == null ? null : readings.toPath());
	}
}
