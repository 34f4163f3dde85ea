package org.lungnodules.fiji;

import java.awt.GraphicsEnvironment;
import java.io.File;
import java.util.Locale;

import org.lungnodules.nn.Networks;
import org.lungnodules.training.SampleSource;
import org.lungnodules.training.LunaData;
import org.lungnodules.training.TrainingData;
import org.lungnodules.training.TrainingListener;
import org.lungnodules.training.TrainingLoop;
import org.lungnodules.training.TrainingSettings;
import org.scijava.ItemIO;
import org.scijava.plugin.Parameter;

/**
 * What the three train-* commands share: their parameters (the keys of {@code ./luna train-cls
 * data=... name=...}) and the run itself. Defaults are the published recipe of each network, set
 * by the subclass constructors; 0 or an empty value means "the recipe's".
 */
abstract class TrainCommand extends LunaCommand {

	@Parameter(label = "Dataset folder", style = "directory", description = "LUNA16-like dataset folder")
	protected File data;

	@Parameter(label = "cache", style = "directory", required = false, description = "A folder filled by prepare-cache (faster); empty: crop from the CTs")
	protected File cache;

	@Parameter(label = "val_stride", min = "1", description = "Every N-th series (sorted by UID) goes to validation")
	protected int val_stride = 10;

	@Parameter(label = "val_subsets", required = false, description = "LUNA16 folds (subsetN folders) used as validation instead of the stride, e.g. 9 or 8,9")
	protected String val_subsets = "";

	@Parameter(label = "val_samples", min = "0", description = "Cap on validation samples (0: all); nodules are always kept")
	protected int val_samples = 0;

	@Parameter(label = "Runs folder", style = "directory", required = false, description = "Runs are written to <output>/<name>")
	protected File output = new File("runs");

	@Parameter(label = "Run name", required = false)
	protected String name = "";

	@Parameter(label = "Epochs", min = "1")
	protected int epochs = 1;

	@Parameter(label = "Samples per epoch", min = "0", description = "0: the dataset's size")
	protected int epoch_size;

	@Parameter(label = "Batch size", min = "0", description = "0: the recipe's")
	protected int batch_size;

	@Parameter(label = "Learning rate", min = "0", description = "0: the recipe's")
	protected double lr;

	@Parameter(label = "Momentum", min = "-1", description = "-1: the recipe's")
	protected double momentum = -1;

	@Parameter(label = "Weight decay", min = "-1", description = "-1: the recipe's")
	protected double weight_decay = -1;

	@Parameter(label = "Seed")
	protected long seed = 1;

	@Parameter(label = "Device", choices = { "auto", "cpu", "gpu" })
	protected String device = "auto";

	@Parameter(label = "Resume from last.pt")
	protected boolean resume;

	@Parameter(label = "Validate every N epochs", min = "0", description = "0: the recipe's")
	protected int val_every;

	@Parameter(label = "augment", required = false, description = "Augmentations: all, none, or a list of flip,offset,scale,rotate,noise (the book's --augment-* switches)")
	protected String augment = "all";

	@Parameter(label = "Loader threads", min = "0")
	protected int workers = 2;

	@Parameter(label = "PyTorch threads", min = "0", description = "0: automatic (1 for the U-Net on the CPU, else all cores)")
	protected int threads;

	@Parameter(type = ItemIO.OUTPUT, label = "Best checkpoint")
	protected String best_checkpoint;

	@Parameter(type = ItemIO.OUTPUT, label = "Fine-tuning", description = "With init=: the initial and the fine-tuned weights' validation scores")
	protected String fine_tuning = "";

	protected abstract Networks.Kind kind();

	/** The training data; train-seg overrides this for masks=lidc. */
	protected TrainingData openData(java.nio.file.Path folder, java.nio.file.Path cacheFolder, LunaData.Options options) throws java.io.IOException {
		return TrainingData.open(folder, cacheFolder, options);
	}

	/** Extra settings of a subclass (init, finetune_depth). */
	protected void configure(TrainingSettings s) {}

	@Override
	protected void execute() throws Exception {
		Networks.Kind kind = kind();
		TrainingSettings s = TrainingSettings.defaults(kind);
		if (data == null) throw new BadValue("data=... (the dataset folder) is required");
		if (!data.isDirectory()) throw new BadValue("data: no such folder: " + data);
		s.runsFolder = (output == null ? new File("runs") : output).toPath();
		s.name = name == null || name.isBlank() ? kind.name().toLowerCase(Locale.ROOT) + "_" +
			java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd_HH.mm.ss")) : name;
		s.epochs = epochs;
		if (batch_size > 0) s.batchSize = batch_size;
		if (lr > 0) s.lr = lr;
		if (momentum >= 0) s.momentum = momentum;
		if (weight_decay >= 0) s.weightDecay = weight_decay;
		s.seed = seed;
		s.device = device;
		s.resume = resume;
		if (val_every > 0) s.valEvery = val_every;
		s.workers = workers;
		s.threads = threads;
		s.augment = augment;
		configure(s);
		s.applyFineTuningDefaults(lr > 0, val_every > 0);
		try {
			s.validate();
		} catch (IllegalArgumentException e) {
			throw new BadValue(e.getMessage());
		}

		LunaData.Options options;
		try {
			options = LunaData.Options.defaults().withValStride(val_stride).withValSubsets(LunaData.Options.parseSubsets(val_subsets));
		}
		catch (IllegalArgumentException e) {
			throw new BadValue(e.getMessage());
		}
		try (TrainingData samples = openData(data.toPath(), cache == null ? null : cache.toPath(), options)) {
			String missing = samples.data().missingSummary();
			if (!missing.isEmpty()) log.warn(missing);
			log.info(samples.data().splitSummary());
			if (samples.maskSummary() != null) log.info(samples.maskSummary());
			SampleSource train = samples.training(s, epoch_size);
			SampleSource validation = samples.validation(kind, val_samples);
			run(s, train, validation);
		}
	}

	private void run(TrainingSettings s, SampleSource train, SampleSource validation) throws Exception {
		TrainingPlot plot = GraphicsEnvironment.isHeadless() ? null : new TrainingPlot(s.name, s.scoreMetric());
		TrainingListener listener = new TrainingListener() {
			@Override
			public void message(String text) {
				if (log != null) log.info(text);
			}

			@Override
			public void epochMetrics(org.lungnodules.training.Metrics.Result result) {
				if (plot != null) plot.add(result);
			}
		};
		TrainingLoop.Summary summary = new TrainingLoop(s, train, validation, listener, progress()).run();
		best_checkpoint = summary.bestCheckpoint() == null ? "" : summary.bestCheckpoint().toString();
		fine_tuning = summary.fineTuningReport();
	}
}
