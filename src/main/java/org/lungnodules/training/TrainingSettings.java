package org.lungnodules.training;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lungnodules.nn.Networks;

/**
 * Everything a training run is configured by. {@link #defaults} gives the published recipe of each
 * network; the train-* commands override fields from their parameters. All values are saved in the
 * checkpoints as plain strings and numbers.
 */
public final class TrainingSettings {

	public enum OptimizerKind { SGD, ADAM }

	public Networks.Kind kind;
	/** The run's name: its folder under {@link #runsFolder}. */
	public String name = "run";
	public Path runsFolder = Path.of("runs");
	public int epochs = 1;
	public int batchSize = 32;
	public OptimizerKind optimizer = OptimizerKind.SGD;
	public double lr = 1e-3, momentum = 0.99, weightDecay = 0;
	/** Seed of the network initialization (the sample order belongs to the SampleSource's seed). */
	public long seed = 1;
	/** auto, cpu, gpu or gpu:N; auto uses every GPU DJL sees, splitting each batch across them. */
	public String device = "auto";
	/** Continue from {@code last.pt} of the run folder instead of refusing to overwrite it. */
	public boolean resume;
	/** Validate after epoch 1 and every valEvery-th epoch (the published cadence). */
	public int valEvery = 5;
	/** Threads that fill batches in the background; 0 fills them on the training thread. */
	public int workers = 2;
	/**
	 * PyTorch intra-op threads while training on the CPU; 0 (default) chooses: 1 for seg, whose
	 * 7×64×64 crops make every operation so small that a second thread costs more in
	 * synchronisation than it gains (BENCHMARKS.md: 139 instead of 70–122 samples/s on 2 cores),
	 * and PyTorch's setting (all cores) for cls and mal. Restored when the run ends. Ignored on GPUs.
	 */
	public int threads;
	/**
	 * Weights to start from (a published {@code .state} or one of our checkpoints): for cls and seg the whole
	 * network's, to fine-tune it; for mal the classifier whose blocks are fine-tuned (its head is not loaded).
	 */
	public Path init;
	/**
	 * With init: how many blocks, counted from the output, are trained; 0 trains all. Blocks are the network's
	 * child modules (cls, mal: head_linear, block4 … block1, tail_batchnorm) and, for seg, the U-Net's parts
	 * (unet.last, unet.up_path.1, unet.up_path.0, unet.down_path.2 … 0, input_batchnorm). mal defaults to 1
	 * (the book's head-only fine-tuning), cls and seg to 0.
	 */
	public int finetuneDepth = 1;
	/** Which augmentations training applies: all, none, or a list of {@link Augmentation.Settings#NAMES}. */
	public String augment = "all";
	/** Classifier only: non-nodule samples per nodule sample in training (the book's ratio_int; 1 = balanced 1:1). */
	public int ratio = 1;

	/** The published recipe for a network. */
	public static TrainingSettings defaults(Networks.Kind kind) {
		TrainingSettings s = new TrainingSettings();
		s.kind = kind;
		switch (kind) {
			case CLS -> { s.optimizer = OptimizerKind.SGD; s.lr = 1e-3; s.momentum = 0.99; s.valEvery = 5; s.batchSize = 32; s.finetuneDepth = 0; }
			case SEG -> { s.optimizer = OptimizerKind.ADAM; s.lr = 1e-3; s.momentum = 0; s.valEvery = 1; s.batchSize = 16; s.finetuneDepth = 0; }
			case MAL -> { s.optimizer = OptimizerKind.SGD; s.lr = 3e-3; s.momentum = 0; s.weightDecay = 1e-4; s.valEvery = 1; s.batchSize = 32; }
		}
		return s;
	}

	/** The learning rate cls and seg use when they fine-tune ({@code init=}) and lr is not given: a tenth of the recipe's. */
	public static final double FINE_TUNING_LR_FACTOR = 0.1;

	/**
	 * Fine-tuning defaults for a run that starts from {@code init} weights: cls and seg then validate every
	 * epoch (a small cohort has few epochs to pick best.pt from) and, unless {@code lrGiven}, train at a tenth
	 * of the recipe's rate, so the published weights are adjusted rather than overwritten. mal's recipe is
	 * already the book's fine-tuning and stays as it is.
	 */
	public void applyFineTuningDefaults(boolean lrGiven, boolean valEveryGiven) {
		if (init == null || kind == Networks.Kind.MAL) return;
		if (!lrGiven) lr = defaults(kind).lr * FINE_TUNING_LR_FACTOR;
		if (!valEveryGiven) valEvery = 1;
	}

	/** The validation metric that picks best.pt: F1 (cls), recall (seg), AUC (mal). */
	public String scoreMetric() {
		return switch (kind) {
			case CLS -> "pr/f1_score";
			case SEG -> "pr/recall";
			case MAL -> "auc";
		};
	}

	/** @throws IllegalArgumentException naming the bad setting */
	public void validate() {
		if (kind == null) throw new IllegalArgumentException("no network kind");
		if (name == null || name.isBlank() || name.contains("/") || name.contains("\\") || name.equals("..") || name.equals("."))
			throw new IllegalArgumentException("name must be a plain folder name, not '" + name + "'");
		if (epochs < 1) throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
		if (batchSize < 1) throw new IllegalArgumentException("batch_size must be at least 1, got " + batchSize);
		if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be positive, got " + lr);
		if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
		if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight_decay must be >= 0, got " + weightDecay);
		if (valEvery < 1) throw new IllegalArgumentException("val_every must be at least 1, got " + valEvery);
		if (workers < 0) throw new IllegalArgumentException("workers must be >= 0, got " + workers);
		if (threads < 0 || threads > 1024) throw new IllegalArgumentException("threads must be 0 (automatic) to 1024, got " + threads);
		Augmentation.Settings.none().only(augment); // names checked here, before any data is read
		if (ratio < 1 || ratio > 1000) throw new IllegalArgumentException("ratio must be 1 (balanced) to 1000 non-nodules per nodule, got " + ratio);
		if (finetuneDepth < 0 || finetuneDepth > 16)
			throw new IllegalArgumentException("finetune_depth must be 0 (all blocks) to 16 (blocks from the output), got " + finetuneDepth);
		if (finetuneDepth > 0 && init == null && kind != Networks.Kind.MAL)
			throw new IllegalArgumentException("finetune_depth=" + finetuneDepth + " needs init= (the weights to fine-tune)");
	}

	public Path runFolder() {
		return runsFolder.resolve(name);
	}

	/** The settings as the checkpoint's {@code run_parameters}: names as the command keys. */
	public Map<String, Object> toMap() {
		Map<String, Object> m = new LinkedHashMap<>();
		m.put("kind", kind.name().toLowerCase(java.util.Locale.ROOT));
		m.put("name", name);
		m.put("epochs", (long) epochs);
		m.put("batch_size", (long) batchSize);
		m.put("optimizer", optimizer.name());
		m.put("lr", lr);
		m.put("momentum", momentum);
		m.put("weight_decay", weightDecay);
		m.put("seed", seed);
		m.put("device", device);
		m.put("val_every", (long) valEvery);
		m.put("workers", (long) workers);
		m.put("threads", (long) threads);
		m.put("init", init == null ? "" : init.toString());
		m.put("finetune_depth", (long) finetuneDepth);
		if (kind == Networks.Kind.CLS) m.put("ratio", (long) ratio);
		m.put("augment", augment);
		return m;
	}

	@Override
	public String toString() {
		return toMap().toString();
	}
}
