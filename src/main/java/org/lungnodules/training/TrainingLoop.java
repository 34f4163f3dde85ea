package org.lungnodules.training;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;

import org.lungnodules.Progress;
import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;
import org.lungnodules.nn.Devices;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.StateDicts;
import org.lungnodules.nn.TorchLayout;
import org.lungnodules.nn.TorchModule;

/**
 * The training loop of all three networks, after the published recipes:
 * <table>
 * <caption>recipes</caption>
 * <tr><th>kind</th><th>loss</th><th>optimizer</th><th>best.pt by</th></tr>
 * <tr><td>cls</td><td>per-sample cross-entropy, mean</td><td>SGD lr 1e-3, momentum 0.99</td><td>validation F1</td></tr>
 * <tr><td>seg</td><td>soft Dice + 8 × soft Dice of the labelled pixels only (false negatives)</td><td>Adam lr 1e-3</td><td>validation recall</td></tr>
 * <tr><td>mal</td><td>cross-entropy</td><td>SGD lr 3e-3, weight decay 1e-4</td><td>validation ROC AUC</td></tr>
 * </table>
 * Each epoch trains on {@code train.epochSize()} samples (sample i of epoch e is whatever the
 * source says, so order is a pure function of seed, epoch and index), logs metrics (log lines,
 * TensorBoard under {@code <run>/trn} and {@code <run>/val}, {@code <run>/metrics.csv}), validates
 * after epoch 1 and every {@code valEvery}-th epoch, and writes {@code last.pt} (and {@code best.pt}
 * when the validation score is the best so far). BatchNorm runs in training mode while training
 * (running statistics updated, {@code num_batches_tracked} counted) and in eval mode for validation.
 * <p>
 * Resuming ({@code resume=true}) reloads {@code last.pt}: weights, BatchNorm statistics, optimizer
 * state, epoch, sample count and best score. A run killed in the middle of an epoch redoes that
 * epoch from its start, with the same samples, and ends with the same weights as an uninterrupted
 * run. Nothing else in the loop draws random numbers.
 * <p>
 * Several GPUs: each batch is split into one shard per GPU; every GPU runs forward and backward on
 * its shard with a copy of the weights, the gradients are summed on the first GPU, the optimizer
 * updates there, and the copies are refreshed (PyTorch's DataParallel; BatchNorm statistics come
 * from the first GPU's shard, as there).
 */
public final class TrainingLoop {

	/** The outcome of a run. */
	/**
	 * The outcome of a run. {@code initialScore} is the validation score of the {@code init} weights before any
	 * training (cls and seg fine-tuning), NaN when there were none or no validation.
	 */
	public record Summary(Path runFolder, int epochsDone, long totalTrainingSamples, double bestScore, Path lastCheckpoint, Path bestCheckpoint,
		double initialScore, String scoreMetric) {

		/** The initial and the fine-tuned validation score side by side, or "" when the run did not start from init weights. */
		public String fineTuningReport() {
			if (Double.isNaN(initialScore)) return "";
			return String.format(java.util.Locale.ROOT, "Validation %s: initial weights %.4f, fine-tuned (best.pt) %.4f: %s", scoreMetric,
				initialScore, bestScore, bestScore > initialScore ? "fine-tuning helped"
					: bestScore == initialScore ? "no change" : "fine-tuning did not help; keep the initial weights");
		}
	}

	private final TrainingSettings settings;
	private final SampleSource train, validation;
	private final TrainingListener listener;
	private final Progress progress;

	/**
	 * @param validation null to skip validation (best.pt then follows the training metric)
	 */
	public TrainingLoop(TrainingSettings settings, SampleSource train, SampleSource validation, TrainingListener listener, Progress progress) {
		settings.validate();
		this.settings = settings;
		this.train = train;
		this.validation = validation;
		this.listener = listener == null ? TrainingListener.NONE : listener;
		this.progress = progress == null ? Progress.NONE : progress;
		checkShapes(train, "training");
		if (validation != null) checkShapes(validation, "validation");
	}

	private void checkShapes(SampleSource source, String what) {
		int[] in = source.inputShape(), label = source.labelShape();
		boolean seg = settings.kind == Networks.Kind.SEG;
		boolean ok = seg ? in.length == 3 && in[0] == 7 && in[1] % 4 == 0 && in[2] % 4 == 0 && Arrays.equals(label, new int[] { 1, in[1], in[2] })
			: Arrays.equals(in, new int[] { 1, 32, 48, 48 }) && label.length == 0;
		if (!ok) throw new IllegalArgumentException("The " + what + " samples do not fit the " + settings.kind + " network: input " +
			Arrays.toString(in) + ", label " + Arrays.toString(label));
		if (source.epochSize() < 1) throw new IllegalArgumentException("The " + what + " samples are empty (epoch size " + source.epochSize() + ")");
	}

	public Summary run() throws IOException {
		Inference.configureEngine();
		Path runFolder = settings.runFolder();
		Path last = runFolder.resolve("last.pt"), best = runFolder.resolve("best.pt");
		if (!settings.resume && Files.exists(last))
			throw new IOException("The run folder " + runFolder + " already holds a checkpoint (last.pt): use resume=true to continue it, or another name");
		Files.createDirectories(runFolder);
		List<Device> devices = devices();
		Devices.engine(); // started, so that JniUtils can reach PyTorch
		int previousThreads = ai.djl.pytorch.jni.JniUtils.getNumThreads(), threads = intraOpThreads(devices);
		if (threads != previousThreads) ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
		try {
			return run(devices, last, best, runFolder);
		} finally {
			if (threads != previousThreads) ai.djl.pytorch.jni.JniUtils.setNumThreads(previousThreads);
		}
	}

	/**
	 * The intra-op threads for this run: {@link TrainingSettings#threads}, or when 0, one thread for
	 * the U-Net on the CPU. Its operations on batches of 16 × 64 × 64 take well under a millisecond
	 * each; with two OpenMP threads every one ends in a barrier, and on a busy machine the partner
	 * thread is often descheduled (or spinning while this one is), which made the loop 2–20× slower
	 * than one thread (BENCHMARKS.md). The classifiers' 32×48×48 convolutions are large enough to gain.
	 */
	private int intraOpThreads(List<Device> devices) {
		int current = ai.djl.pytorch.jni.JniUtils.getNumThreads();
		if (!Device.Type.CPU.equals(devices.get(0).getDeviceType())) return current;
		if (settings.threads > 0) return settings.threads;
		return settings.kind == Networks.Kind.SEG ? 1 : current;
	}

	private Summary run(List<Device> devices, Path last, Path best, Path runFolder) throws IOException {
		try (NDManager manager = NDManager.newBaseManager(devices.get(0));
			Model model = new Model(manager, devices);
			BatchLoader loader = new BatchLoader(settings.workers)) {
			int startEpoch = 0;
			long samples = 0;
			double bestScore = Double.NEGATIVE_INFINITY;
			// What best_score is measured on: the validation samples, or the training samples when there are none.
			String scoredOn = validation != null ? "validation: " + validation.identity() : "training: " + train.identity();
			MetricsCsv csv = new MetricsCsv(runFolder.resolve("metrics.csv"));
			if (settings.resume && Files.exists(last)) {
				Map<?, ?> root = model.restore(last);
				startEpoch = ((Number) root.get("epoch")).intValue();
				samples = ((Number) root.get("totalTrainingSamples_count")).longValue();
				Object b = root.get("best_score"), was = root.get("best_score_on");
				if (b instanceof Number n) bestScore = n.doubleValue();
				csv.truncateAfter(startEpoch);
				listener.message("Resuming " + runFolder + " after epoch " + startEpoch + " (" + samples + " samples trained)");
				// A score from other validation data is no yardstick: a later phase of a recipe may validate
				// on more CTs, and its epochs would otherwise have to beat a number measured elsewhere.
				if (was instanceof String && !was.equals(scoredOn)) {
					bestScore = Double.NEGATIVE_INFINITY;
					listener.message("best.pt was chosen on other data (" + was + "; now " + scoredOn + "): the next scored epoch replaces it");
				}
			} else if (settings.resume) {
				listener.message("No " + last + " to resume: starting a new run");
			}
			listener.message("Training " + settings.kind + " on " + devices + " (" + ai.djl.pytorch.jni.JniUtils.getNumThreads() +
				" intra-op threads): " + settings + ", " + model.trainableSummary());
			// Fine-tuning: score the starting weights on the same validation samples first, so the run can end with
			// both scores side by side and a user sees whether fine-tuning helped (issue #22).
			double initialScore = Double.NaN;
			if (settings.init != null && settings.kind != Networks.Kind.MAL && validation != null) {
				Metrics.Result before = model.runEpoch(loader, validation, 0, false);
				initialScore = before.get(settings.scoreMetric());
				listener.message(String.format(java.util.Locale.ROOT, "Initial weights %s, before training: validation %s %.4f",
					settings.init.getFileName(), settings.scoreMetric(), initialScore));
			}
			try (TensorBoardWriter trnLog = new TensorBoardWriter(runFolder.resolve("trn"));
				TensorBoardWriter valLog = new TensorBoardWriter(runFolder.resolve("val"))) {
				for (int epoch = startEpoch + 1; epoch <= settings.epochs; epoch++) {
					listener.message(String.format("Epoch %d of %d, %d/%d batches of size %d*%d", epoch, settings.epochs,
						batches(train), validation == null ? 0 : batches(validation), settings.batchSize, devices.size()));
					Metrics.Result trn = model.runEpoch(loader, train, epoch, true);
					samples += train.epochSize();
					report(trn, trnLog, csv, samples);
					double score = Double.NaN;
					boolean validated = validation != null && (epoch == 1 || epoch % settings.valEvery == 0);
					if (validated) {
						Metrics.Result val = model.runEpoch(loader, validation, epoch, false);
						report(val, valLog, csv, samples);
						score = val.get(settings.scoreMetric());
					} else if (validation == null) {
						score = trn.get(settings.scoreMetric());
					}
					boolean isBest = !Double.isNaN(score) && score >= bestScore;
					if (isBest) bestScore = score;
					Map<String, Object> checkpoint = model.checkpoint(epoch, samples, bestScore, scoredOn);
					TorchCheckpoint.write(last, checkpoint);
					if (isBest) {
						TorchCheckpoint.write(best, checkpoint);
						listener.message(String.format("E%d saved %s and %s (%s %.4f, best so far)", epoch, last, best, settings.scoreMetric(), score));
					} else {
						listener.message("E" + epoch + " saved " + last);
					}
				}
			}
			Summary summary = new Summary(runFolder, settings.epochs, samples, bestScore, last, Files.exists(best) ? best : null, initialScore,
				settings.scoreMetric());
			if (!summary.fineTuningReport().isEmpty()) listener.message(summary.fineTuningReport());
			return summary;
		}
	}

	private int batches(SampleSource s) {
		return (s.epochSize() + settings.batchSize - 1) / settings.batchSize;
	}

	private void report(Metrics.Result r, TensorBoardWriter tb, MetricsCsv csv, long step) throws IOException {
		for (String line : r.logText().split("\n")) listener.message(line);
		Map<String, Double> scalars = new LinkedHashMap<>(r.values());
		scalars.keySet().removeIf(k -> k.startsWith("count/"));
		tb.scalars(step, scalars);
		csv.append(r);
		listener.epochMetrics(r);
	}

	private List<Device> devices() {
		return Devices.resolve(settings.device, Devices.engine().getGpuCount());
	}

	// ---- batches

	/** One batch of samples, filled in the background while the previous one trains. */
	private static final class Batch {
		final int count;
		final float[] input, label;
		final SampleSource.SampleInfo[] info;

		Batch(int count, int inputSize, int labelSize) {
			this.count = count;
			input = new float[count * inputSize];
			label = new float[count * Math.max(1, labelSize)];
			info = new SampleSource.SampleInfo[count];
		}
	}

	/** Fills batches with a few threads; one batch ahead of the loop. */
	private static final class BatchLoader implements AutoCloseable {
		private final ExecutorService pool;
		private final int workers;

		BatchLoader(int workers) {
			this.workers = workers;
			pool = workers == 0 ? null : Executors.newFixedThreadPool(workers, r -> {
				Thread t = new Thread(r, "training-batches");
				t.setDaemon(true);
				return t;
			});
		}

		/** Starts filling samples [start, start + count) of the epoch; the future's get() waits for all. */
		List<Future<?>> submit(SampleSource source, int epoch, int start, Batch batch) throws IOException {
			int inputSize = size(source.inputShape()), labelSize = Math.max(1, size(source.labelShape()));
			List<Future<?>> parts = new ArrayList<>();
			int chunks = Math.max(1, Math.min(workers, batch.count));
			for (int c = 0; c < chunks; c++) {
				int from = c * batch.count / chunks, to = (c + 1) * batch.count / chunks;
				if (pool == null) {
					fill(source, epoch, start, batch, from, to, inputSize, labelSize);
				} else {
					parts.add(pool.submit(() -> {
						fill(source, epoch, start, batch, from, to, inputSize, labelSize);
						return null;
					}));
				}
			}
			return parts;
		}

		private static void fill(SampleSource source, int epoch, int start, Batch batch, int from, int to, int inputSize, int labelSize) throws IOException {
			for (int i = from; i < to; i++)
				batch.info[i] = source.fill(epoch, start + i, batch.input, i * inputSize, batch.label, i * labelSize);
		}

		static void await(List<Future<?>> parts) throws IOException {
			for (Future<?> f : parts) {
				try {
					f.get();
				} catch (InterruptedException e) {
					Thread.currentThread().interrupt();
					throw new Progress.Canceled();
				} catch (ExecutionException e) {
					Throwable cause = e.getCause();
					if (cause instanceof IOException io) throw io;
					if (cause instanceof RuntimeException re) throw re;
					throw new IOException("Loading a training sample failed: " + cause, cause);
				}
			}
		}

		@Override
		public void close() {
			if (pool != null) pool.shutdownNow();
		}
	}

	/** The number of elements of a tensor of this shape (an int: one sample must fit a Java array). */
	public static int size(int[] shape) {
		long n = 1;
		for (int d : shape) n *= d;
		return Math.toIntExact(n);
	}

	// ---- the network, its optimizer and the per-kind losses

	/** The network with its optimizer, replicas on extra GPUs, and what a checkpoint holds. */
	private final class Model implements AutoCloseable {
		final NDManager manager;
		final List<Device> devices;
		final TorchModule net;
		final TorchLayout layout;
		final List<String> parameterKeys = new ArrayList<>();
		final boolean[] trainable;
		final TorchOptimizer optimizer;
		final ReplicaStore store;

		Model(NDManager manager, List<Device> devices) throws IOException {
			this.manager = manager;
			this.devices = devices;
			net = Networks.create(settings.kind, manager);
			Networks.initializeFromScratch(net, settings.seed);
			layout = net.torchLayout();
			for (String key : layout.keys())
				if (layout.parameter(key) != null && !key.endsWith(".running_mean") && !key.endsWith(".running_var")) parameterKeys.add(key);
			Set<String> trainedBlocks = loadInit();
			trainable = new boolean[parameterKeys.size()];
			List<Parameter> parameters = new ArrayList<>();
			for (int i = 0; i < trainable.length; i++) {
				String key = parameterKeys.get(i);
				trainable[i] = trainedBlocks == null || trainedBlocks.contains(block(key));
				parameters.add(layout.parameter(key));
			}
			// PyTorch: only parameters that require a gradient get one; the rest (frozen blocks, BatchNorm statistics) none.
			for (String key : layout.keys())
				if (layout.parameter(key) != null) layout.parameter(key).getArray().setRequiresGradient(false);
			for (int i = 0; i < trainable.length; i++)
				if (trainable[i]) parameters.get(i).getArray().setRequiresGradient(true);
			optimizer = settings.optimizer == TrainingSettings.OptimizerKind.ADAM
				? new TorchOptimizer.Adam(parameters, trainable, settings.lr, settings.weightDecay)
				: new TorchOptimizer.Sgd(parameters, trainable, settings.lr, settings.momentum, settings.weightDecay);
			store = new ReplicaStore(manager, devices, trainableIds(parameters));
		}

		@Override
		public void close() {
			// the arrays belong to the manager, closed by the caller
		}

		private Set<String> trainableIds(List<Parameter> parameters) {
			Set<String> ids = new java.util.HashSet<>();
			for (int i = 0; i < trainable.length; i++) if (trainable[i]) ids.add(parameters.get(i).getId());
			return ids;
		}

		/**
		 * The block a key belongs to: its PyTorch child module (tail_batchnorm, block1…4, head_linear,
		 * input_batchnorm), and inside the U-Net its part (unet.down_path.0, unet.up_path.1, unet.last), since the
		 * U-Net is one child module and fine-tuning needs finer steps.
		 */
		private static String block(String key) {
			String[] parts = key.split("\\.");
			if (!parts[0].equals("unet") || parts.length < 3) return parts[0];
			return parts[1].equals("last") ? "unet.last" : "unet." + parts[1] + "." + parts[2];
		}

		/**
		 * Loads {@code init} weights. For mal, the book's fine-tuning: every weight but the head's
		 * comes from the classifier (the head keeps its fresh initialization), and only the last
		 * {@code finetuneDepth} child modules that have parameters are trained.
		 *
		 * @return the names of the trained blocks, or null when everything is trained
		 */
		private Set<String> loadInit() throws IOException {
			if (settings.init == null) return null;
			TorchCheckpoint ckpt = TorchCheckpoint.read(settings.init);
			LinkedHashMap<String, Tensor> source = ckpt.stateDict();
			List<String> blocks = new ArrayList<>(new LinkedHashSet<>(parameterKeys.stream().map(Model::block).toList()));
			if (settings.kind != Networks.Kind.MAL) {
				StateDicts.load(net, source, settings.init.toString());
				if (settings.finetuneDepth == 0) {
					listener.message("Fine-tuning from " + settings.init + ", all blocks");
					return null;
				}
				int depth = Math.min(settings.finetuneDepth, blocks.size());
				Set<String> trained = new LinkedHashSet<>(blocks.subList(blocks.size() - depth, blocks.size()));
				listener.message("Fine-tuning from " + settings.init + ", blocks " + String.join(" ", trained));
				return trained;
			}
			String head = blocks.get(blocks.size() - 1);
			LinkedHashMap<String, Tensor> merged = StateDicts.export(net);
			for (Map.Entry<String, Tensor> e : source.entrySet())
				if (!block(e.getKey()).equals(head)) merged.put(e.getKey(), e.getValue());
			StateDicts.load(net, merged, settings.init.toString());
			int depth = settings.finetuneDepth == 0 ? blocks.size() : Math.min(settings.finetuneDepth, blocks.size());
			Set<String> trained = new LinkedHashSet<>(blocks.subList(blocks.size() - depth, blocks.size()));
			listener.message("Fine-tuning from " + settings.init + ", blocks " + String.join(" ", trained));
			return trained;
		}

		String trainableSummary() {
			long trained = 0, all = 0;
			for (int i = 0; i < trainable.length; i++) {
				long n = layout.parameter(parameterKeys.get(i)).getShape().size();
				all += n;
				if (trainable[i]) trained += n;
			}
			return trained + " of " + all + " parameters trained";
		}

		Map<String, Object> checkpoint(int epoch, long samples, double bestScore, String bestScoreOn) {
			Map<String, Object> root = new LinkedHashMap<>();
			root.put("model_state", StateDicts.export(net));
			root.put("model_name", settings.kind == Networks.Kind.SEG ? "UNetWrapper" : "LunaModel");
			root.put("optimizer_state", optimizer.stateDict());
			root.put("optimizer_name", optimizer.name());
			root.put("epoch", (long) epoch);
			root.put("totalTrainingSamples_count", samples);
			root.put("best_score", bestScore);
			root.put("best_score_on", bestScoreOn);
			root.put("time", LocalDateTime.now().toString());
			root.put("run_parameters", settings.toMap());
			return root;
		}

		Map<?, ?> restore(Path last) throws IOException {
			TorchCheckpoint ckpt = TorchCheckpoint.read(last);
			if (!(ckpt.root() instanceof Map<?, ?> root) || !(root.get("epoch") instanceof Number) ||
				!(root.get("totalTrainingSamples_count") instanceof Number))
				throw new IOException(last + ": not a training checkpoint of this program (no epoch / totalTrainingSamples_count)");
			StateDicts.load(net, ckpt.stateDict(), last.toString());
			try {
				optimizer.loadStateDict(root.get("optimizer_state"));
			} catch (IllegalArgumentException e) {
				throw new IOException(last + ": " + e.getMessage(), e);
			}
			store.refresh();
			return root;
		}

		/** One pass over a source: training (with updates) or validation; returns the epoch's metrics. */
		Metrics.Result runEpoch(BatchLoader loader, SampleSource source, int epoch, boolean training) throws IOException {
			int n = source.epochSize(), batchSize = settings.batchSize * devices.size();
			int total = (n + batchSize - 1) / batchSize;
			int inputSize = size(source.inputShape()), labelSize = Math.max(1, size(source.labelShape()));
			EpochRecord record = new EpochRecord(n, settings.kind == Networks.Kind.SEG);
			EtaProgress eta = new EtaProgress(progress, listener::message, "E" + epoch + (training ? " Training" : " Validation"), total);
			Batch next = new Batch(Math.min(batchSize, n), inputSize, labelSize);
			List<Future<?>> pending = loader.submit(source, epoch, 0, next);
			for (int b = 0; b < total; b++) {
				progress.checkCanceled();
				BatchLoader.await(pending);
				Batch batch = next;
				int start = b * batchSize;
				if (b + 1 < total) {
					int nextStart = start + batchSize;
					next = new Batch(Math.min(batchSize, n - nextStart), inputSize, labelSize);
					pending = loader.submit(source, epoch, nextStart, next);
				}
				step(batch, source, start, record, training);
				eta.update(b + 1);
			}
			eta.finish();
			return record.result(epoch, training ? "trn" : "val", settings.kind);
		}

		private void step(Batch batch, SampleSource source, int start, EpochRecord record, boolean training) {
			int[] inShape = source.inputShape(), labelShape = source.labelShape();
			int inputSize = size(inShape), labelSize = Math.max(1, size(labelShape));
			try (NDScope scope = new NDScope()) {
				int shards = Math.min(devices.size(), batch.count);
				List<Losses> results = new ArrayList<>();
				if (training) {
					store.refresh();
					try (GradientCollector collector = Devices.engine().newGradientCollector()) {
						for (int s = 0; s < shards; s++) {
							int from = s * batch.count / shards, to = (s + 1) * batch.count / shards;
							store.useShare(s);
							Losses l = forward(batch, from, to, inShape, labelShape, inputSize, labelSize, devices.get(s), true);
							// each shard's mean, weighted by its share, adds up to the batch mean
							collector.backward(l.total.mul((float) (to - from) / batch.count));
							results.add(l);
						}
					}
					store.gatherGradients();
					optimizer.step();
					for (String key : layout.keys())
						if (layout.isBatchCounter(key)) layout.setBatchCounter(key, layout.batchCounter(key) + 1);
				} else {
					for (int s = 0; s < shards; s++) {
						int from = s * batch.count / shards, to = (s + 1) * batch.count / shards;
						store.useShare(s);
						results.add(forward(batch, from, to, inShape, labelShape, inputSize, labelSize, devices.get(s), false));
					}
				}
				for (int s = 0; s < shards; s++) {
					int from = s * batch.count / shards, to = (s + 1) * batch.count / shards;
					results.get(s).record(record, batch, from, to, start, labelSize);
				}
			}
		}

		private Losses forward(Batch batch, int from, int to, int[] inShape, int[] labelShape, int inputSize, int labelSize, Device device, boolean training) {
			int count = to - from;
			NDManager m = manager;
			NDArray x = m.create(FloatBuffer.wrap(batch.input, from * inputSize, count * inputSize), shape(count, inShape)).toDevice(device, false);
			NDArray y = m.create(FloatBuffer.wrap(batch.label, from * labelSize, count * labelSize),
				labelShape.length == 0 ? new Shape(count) : shape(count, labelShape)).toDevice(device, false);
			NDList out = net.forward(store, new NDList(x), training);
			if (settings.kind == Networks.Kind.SEG) {
				NDArray prediction = out.head();
				NDArray dice = diceLoss(prediction, y);
				NDArray falseNegativeDice = diceLoss(prediction.mul(y), y);
				NDArray total = dice.mean().add(falseNegativeDice.mean().mul(8f));
				return new Losses(total, dice, prediction, y);
			}
			NDArray logits = out.get(0), probabilities = out.get(1);
			float[] hot = new float[2 * count];
			for (int i = 0; i < count; i++) hot[2 * i + (batch.label[from + i] > 0.5f ? 1 : 0)] = 1;
			NDArray oneHot = m.create(hot, new Shape(count, 2)).toDevice(device, false);
			NDArray perSample = logits.logSoftmax(1).mul(oneHot).sum(new int[] { 1 }).neg();
			return new Losses(perSample.mean(), perSample, probabilities, y);
		}
	}

	private static Shape shape(int n, int[] sample) {
		long[] s = new long[sample.length + 1];
		s[0] = n;
		for (int i = 0; i < sample.length; i++) s[i + 1] = sample[i];
		return new Shape(s);
	}

	/**
	 * The book's soft Dice loss per sample: 1 − (2·Σ p·l + 1) / (Σ p + Σ l + 1) over all but the
	 * batch axis (the +1 keeps empty masks finite).
	 */
	static NDArray diceLoss(NDArray prediction, NDArray label) {
		int[] axes = { 1, 2, 3 };
		NDArray correct = prediction.mul(label).sum(axes);
		NDArray ratio = correct.mul(2f).add(1f).div(prediction.sum(axes).add(label.sum(axes)).add(1f));
		return ratio.neg().add(1f);
	}

	/** A shard's loss to back-propagate and what the metrics need from it. */
	private record Losses(NDArray total, NDArray perSample, NDArray output, NDArray label) {
		void record(EpochRecord r, Batch batch, int from, int to, int start, int labelSize) {
			float[] loss = perSample.toFloatArray();
			float[] out = output.toFloatArray();
			for (int i = from; i < to; i++) {
				int k = start + i, j = i - from;
				SampleSource.SampleInfo info = batch.info[i];
				r.loss[k] = loss[j];
				if (r.segmentation) {
					double tp = 0, fn = 0, fp = 0;
					for (int p = 0; p < labelSize; p++) {
						boolean predicted = out[j * labelSize + p] > 0.5f, labelled = batch.label[i * labelSize + p] > 0.5f;
						if (predicted && labelled) tp++;
						else if (labelled) fn++;
						else if (predicted) fp++;
					}
					r.tp[k] = tp;
					r.fn[k] = fn;
					r.fp[k] = fp;
				} else {
					r.positive[k] = batch.label[i] > 0.5f;
					r.pPositive[k] = out[2 * j + 1];
					r.diameter[k] = info == null ? Double.NaN : info.diameterMm();
				}
			}
		}
	}

	/** Per-sample values of one epoch. */
	private static final class EpochRecord {
		final boolean segmentation;
		final float[] loss, pPositive;
		final boolean[] positive;
		final double[] diameter, tp, fn, fp;

		EpochRecord(int n, boolean segmentation) {
			this.segmentation = segmentation;
			loss = new float[n];
			pPositive = segmentation ? null : new float[n];
			positive = segmentation ? null : new boolean[n];
			diameter = segmentation ? null : new double[n];
			tp = segmentation ? new double[n] : null;
			fn = segmentation ? new double[n] : null;
			fp = segmentation ? new double[n] : null;
		}

		Metrics.Result result(int epoch, String split, Networks.Kind kind) {
			if (segmentation) return Metrics.segmentation(epoch, split, loss, tp, fn, fp);
			boolean mal = kind == Networks.Kind.MAL;
			boolean haveDiameters = mal && split.equals("val") && Arrays.stream(diameter).noneMatch(Double::isNaN);
			return Metrics.classification(epoch, split, positive, pPositive, loss, haveDiameters ? diameter : null, mal);
		}
	}

	/**
	 * Parameters for the forward pass of each share of a batch (as torch's DataParallel does): share 0
	 * uses the parameters themselves; every other share its own copies on its device, refreshed before
	 * each training step, whose gradients are summed back into the parameters. Copies belong to a share,
	 * not to a device, so that {@code device=cpu,cpu} exercises the same code on a machine without GPUs.
	 * BatchNorm statistics of the model are share 0's, as with DataParallel.
	 */
	private static final class ReplicaStore extends ParameterStore {
		private final List<Device> devices;
		private final Set<String> trainableIds;
		private final List<Map<String, NDArray>> replicas = new ArrayList<>();
		private final Map<String, Parameter> parameters = new LinkedHashMap<>();
		private int share;

		ReplicaStore(NDManager manager, List<Device> devices, Set<String> trainableIds) {
			super(manager, false);
			this.devices = devices;
			this.trainableIds = trainableIds;
			for (int i = 1; i < devices.size(); i++) replicas.add(new LinkedHashMap<>());
		}

		/** The share whose forward pass comes next (the shares run one after another on this thread). */
		void useShare(int index) {
			if (index < 0 || index >= devices.size()) throw new IllegalArgumentException("No share " + index);
			share = index;
		}

		@Override
		public NDArray getValue(Parameter parameter, Device device, boolean training) {
			if (parameter == null) return null;
			if (share == 0) return parameter.getArray();
			Device target = devices.get(share);
			if (!device.equals(target)) throw new IllegalStateException("Share " + share + " runs on " + target + ", not " + device);
			parameters.put(parameter.getId(), parameter);
			return replicas.get(share - 1).computeIfAbsent(parameter.getId(), id -> {
				// duplicate(): toDevice onto the array's own device returns an alias (torch's Tensor.to), and a
				// replica sharing storage would let BatchNorm statistics of every share land in the model
				NDArray copy = parameter.getArray().stopGradient().toDevice(target, false).duplicate();
				NDScope.unregister(copy);
				copy.setRequiresGradient(trainableIds.contains(id));
				return copy;
			});
		}

		/** Copies the current weights and BatchNorm statistics into the replicas. */
		void refresh() {
			for (Map<String, NDArray> copies : replicas)
				for (Map.Entry<String, NDArray> e : copies.entrySet())
					parameters.get(e.getKey()).getArray().stopGradient().toDevice(e.getValue().getDevice(), true)
						.copyTo(e.getValue().stopGradient());
		}

		/** Adds every replica's gradient to the main parameter's, and clears the replica's. */
		void gatherGradients() {
			for (Map<String, NDArray> copies : replicas)
				for (Map.Entry<String, NDArray> e : copies.entrySet()) {
					if (!trainableIds.contains(e.getKey())) continue;
					NDArray grad = e.getValue().getGradient();
					NDArray main = parameters.get(e.getKey()).getArray();
					main.getGradient().addi(grad.toDevice(main.getDevice(), true));
					grad.subi(grad);
				}
		}
	}

}
