package org.lungnodules.nn;

import java.io.Closeable;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;

/**
 * The inference service: loads the networks once, keeps them on one device and runs batches.
 * <p>
 * <b>Memory.</b> Each batch runs in its own {@link NDManager} sub-manager that is closed before the
 * next batch starts, so besides the weights at most one batch of arrays is alive per stream (below).
 * Inputs are staged through a reusable direct buffer per thread and outputs copied straight into the
 * caller's result array.
 * <p>
 * <b>Streams.</b> On the CPU a call's batches run on {@link #streams()} threads at once, each with one
 * intra-op thread, instead of one batch at a time on all intra-op threads. The U-Net's and the
 * classifiers' small convolutions (7→16 to 64 channels) do not keep two oneDNN threads busy within one
 * sample, and between layers they wait for each other; two single-threaded streams over different
 * slices do not wait at all. Measured with {@code SegThreadProbe} (test sources, 16 random 512² slices,
 * the Ice Lake VM of BENCHMARKS.md, alternating): 0.158–0.170 s a slice with one stream of two threads,
 * 0.138–0.160 s with two streams of one. Each sample is computed on its own either way, so results differ
 * only by float rounding (1.2e-7 there). PyTorch's thread count is per calling thread (OpenMP's
 * {@code nthreads-var}), so the streams' setting does not change the caller's. On a GPU, or with one
 * intra-op thread, batches run one at a time on the calling thread.
 * <p>
 * <b>Threads.</b> Thread-safe by serialization: the public methods are {@code synchronized}; a call
 * already uses every stream. For concurrent inference open one {@code Inference} per worker. Thread
 * counts are PyTorch's process-wide settings: the system
 * properties {@code ai.djl.pytorch.num_threads} (intra-op, default: all cores) and
 * {@code ai.djl.pytorch.num_interop_threads} (set here to 1 if unset, as these eager networks never
 * fork) are read when DJL's PyTorch engine starts; {@link Builder#threads(int)} changes the intra-op
 * count later. {@code ai.djl.pytorch.graph_optimizer} only concerns TorchScript models and does not
 * apply to these blocks.
 * <p>
 * <b>No autograd.</b> DJL's PyTorch engine disables grad mode when it starts, but PyTorch's grad mode is
 * per thread; the parameters are therefore frozen ({@code requires_grad = false}), so no graph is
 * recorded on any thread.
 */
public final class Inference implements Closeable {

	/** System property with the default of {@link Builder#streams(int)}, for comparing both ways in benchmarks. */
	public static final String STREAMS_PROPERTY = "lungnodules.inference.streams";

	/** Voxels of one classifier chunk (1 × 32 × 48 × 48). */
	public static final int CHUNK_VOXELS = NoduleClassifier.DEPTH * NoduleClassifier.HEIGHT * NoduleClassifier.WIDTH;

	/** Rough peak bytes of activations per sample, to size batches from a memory budget. */
	private static final long CLS_BYTES_PER_CHUNK = 16L << 20;
	private static final long SEG_BYTES_PER_PIXEL = 700;
	private static final int MAX_BATCH = 64;
	/**
	 * The largest single activation per sample: the U-Net's up-path concatenation, 32 channels of
	 * floats at full resolution; the classifier's first block, 8 channels of 32×48×48 floats.
	 */
	private static final long SEG_LARGEST_BYTES_PER_PIXEL = 32 * 4, CLS_LARGEST_BYTES_PER_CHUNK = 8L * CHUNK_VOXELS * 4;
	/** What one activation may take of a glibc thread heap (64 MB, less its header and other blocks). */
	private static final long HEAP_ROOM = EngineEnvironment.GLIBC_HEAP_BYTES - (4L << 20);

	/** Classifier outputs for n samples, row-major n × 2; column 1 is the positive class. */
	public record Classification(int count, float[] logits, float[] probabilities) {
		/** Softmax probability of the positive class (nodule, or malignant) of sample i. */
		public float positive(int i) { return probabilities[2 * i + 1]; }
	}

	static {
		configureEngine();
	}

	/**
	 * Prepares the process for libtorch ({@link EngineEnvironment#prepare()}: inter-op threads, OpenMP
	 * wait policy, allocator). It only takes effect if called before DJL's PyTorch engine starts (the
	 * first NDManager); idempotent.
	 */
	public static void configureEngine() {
		EngineEnvironment.prepare();
	}

	private final Device device;
	private final NDManager base;
	private final Map<Networks.Kind, TorchModule> networks = new EnumMap<>(Networks.Kind.class);
	private final int fixedBatch;
	private final long memoryBudget;
	private final ThreadLocal<ByteBuffer> staging = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));
	private final int streams;
	/** The stream threads, or null when batches run on the calling thread. */
	private final ExecutorService pool;
	private boolean closed;

	private Inference(Builder b) throws IOException {
		Devices.engine(); // started, so that the thread count below reaches libtorch
		if (b.threads > 0) ai.djl.pytorch.jni.JniUtils.setNumThreads(b.threads);
		device = Devices.choose(b.device);
		fixedBatch = b.batchSize;
		memoryBudget = b.memoryBudget > 0 ? b.memoryBudget : defaultBudget(device);
		int intraOp = Math.max(1, ai.djl.pytorch.jni.JniUtils.getNumThreads());
		int asked = b.streams > 0 ? b.streams : Integer.getInteger(STREAMS_PROPERTY, 0);
		streams = device.isGpu() ? 1 : asked > 0 ? asked : Math.min(intraOp, Runtime.getRuntime().availableProcessors());
		pool = streams > 1 ? Executors.newFixedThreadPool(streams, Inference::streamThread) : null;
		base = NDManager.newBaseManager(device, "PyTorch");
		try {
			for (Map.Entry<Networks.Kind, Map<String, Tensor>> e : b.stateDicts.entrySet()) {
				TorchModule net = Networks.create(e.getKey(), base);
				StateDicts.load(net, e.getValue(), b.sources.get(e.getKey()));
				for (String key : net.torchLayout().keys()) {
					Parameter p = net.torchLayout().parameter(key);
					if (p != null) p.freeze(true);
				}
				networks.put(e.getKey(), net);
			}
		} catch (IOException | RuntimeException e) {
			base.close();
			if (pool != null) pool.shutdownNow();
			throw e;
		}
	}

	/** A daemon stream thread whose forward passes use one intra-op thread. */
	private static Thread streamThread(Runnable r) {
		Thread t = new Thread(() -> {
			ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
			r.run();
		}, "lung-nodules-inference-stream");
		t.setDaemon(true);
		return t;
	}

	private static long defaultBudget(Device device) {
		if (device.isGpu()) {
			try {
				java.lang.management.MemoryUsage m = ai.djl.util.cuda.CudaUtils.getGpuMemory(device);
				return Math.max(256L << 20, (m.getMax() - m.getCommitted()) / 2);
			} catch (RuntimeException | LinkageError e) {
				return 1L << 30;
			}
		}
		long physical = 8L << 30;
		if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
			physical = os.getTotalMemorySize();
		return Math.max(256L << 20, Math.min(2L << 30, physical / 4));
	}

	public static Builder builder() { return new Builder(); }

	public static final class Builder {
		private String device = "auto";
		private final Map<Networks.Kind, Map<String, Tensor>> stateDicts = new EnumMap<>(Networks.Kind.class);
		private final Map<Networks.Kind, String> sources = new EnumMap<>(Networks.Kind.class);
		private int batchSize, threads, streams;
		private long memoryBudget;

		/** auto, cpu, gpu or gpu:N, resolved by {@link Devices#resolve} when the service is built. */
		public Builder device(String d) { device = d; return this; }

		/** Loads a network from a state dict; {@code source} names it in error messages. */
		public Builder network(Networks.Kind kind, Map<String, Tensor> stateDict, String source) {
			stateDicts.put(kind, stateDict);
			sources.put(kind, source);
			return this;
		}

		/** Loads a network from a checkpoint file (legacy .state or zip format). */
		public Builder network(Networks.Kind kind, Path checkpoint) throws IOException {
			return network(kind, TorchCheckpoint.read(checkpoint).stateDict(), checkpoint.toString());
		}

		/** Fixed batch size; 0 (default) chooses it from the memory budget. */
		public Builder batchSize(int n) {
			if (n < 0) throw new IllegalArgumentException("batch size must be >= 0");
			batchSize = n;
			return this;
		}

		/** Bytes of activations a batch may use; 0 (default) = a quarter of RAM up to 2 GiB, or half the free GPU memory. */
		public Builder memoryBudget(long bytes) { memoryBudget = bytes; return this; }

		/** PyTorch intra-op threads (process-wide); 0 keeps the current setting. */
		public Builder threads(int n) { threads = n; return this; }

		/**
		 * Batches run at once on the CPU, each on one intra-op thread (see the class comment); 0 (default)
		 * = PyTorch's intra-op thread count, at most the available processors; 1 runs them one at a time on
		 * the caller's thread with all intra-op threads. Ignored on a GPU.
		 */
		public Builder streams(int n) {
			if (n < 0) throw new IllegalArgumentException("streams must be >= 0");
			streams = n;
			return this;
		}

		public Inference build() throws IOException { return new Inference(this); }
	}

	public Device device() { return device; }

	/** How many batches run at once (see the class comment). */
	public int streams() { return streams; }

	/** Whether a network of this kind was loaded (e.g. the optional malignancy classifier). */
	public boolean hasNetwork(Networks.Kind kind) { return networks.containsKey(kind); }

	/**
	 * Batch size used for a network kind; h and w matter only for seg. On the CPU a batch is also
	 * limited so that its largest activation fits one of glibc's 64 MB thread heaps (see
	 * {@link EngineEnvironment#tuneMalloc}): a larger block would be mmapped and page-faulted in afresh
	 * for every batch, which cost about half of the analysis's CPU time on 512² slices. A 512² slice is
	 * then segmented alone (its 32-channel activation is 33.5 MB); the results do not depend on the
	 * batch size beyond float rounding, as every sample is computed on its own.
	 */
	public int batchSize(Networks.Kind kind, int h, int w) {
		long largest = kind == Networks.Kind.SEG ? SEG_LARGEST_BYTES_PER_PIXEL * h * w : CLS_LARGEST_BYTES_PER_CHUNK;
		int cap = device.isGpu() ? Integer.MAX_VALUE : (int) Math.max(1, Math.min(MAX_BATCH, HEAP_ROOM / largest));
		if (fixedBatch > 0) return Math.min(fixedBatch, cap);
		long perSample = kind == Networks.Kind.SEG ? SEG_BYTES_PER_PIXEL * h * w : CLS_BYTES_PER_CHUNK;
		return (int) Math.max(1, Math.min(cap, Math.min(MAX_BATCH, memoryBudget / perSample)));
	}

	/** Nodule classifier on n chunks of 32×48×48 (C order, stacked), HU clamped to [−1000, 1000]. */
	public synchronized Classification classify(float[] chunks, int n) {
		return runClassifier(Networks.Kind.CLS, chunks, n);
	}

	/** Malignancy classifier, same input as {@link #classify}. */
	public synchronized Classification malignancy(float[] chunks, int n) {
		return runClassifier(Networks.Kind.MAL, chunks, n);
	}

	private Classification runClassifier(Networks.Kind kind, float[] chunks, int n) {
		checkInput(chunks, n, CHUNK_VOXELS, "chunks");
		float[] logits = new float[2 * n], probs = new float[2 * n];
		int batch = streamBatch(batchSize(kind, 0, 0), n);
		List<Runnable> tasks = new ArrayList<>();
		for (int start = 0; start < n; start += batch) {
			int from = start, count = Math.min(batch, n - start);
			tasks.add(() -> {
				try (NDManager m = base.newSubManager()) {
					NDList out = forward(kind, m, chunks, from * (long) CHUNK_VOXELS, Networks.batchShape(kind, count, 0, 0));
					copyOut(out.get(0), logits, 2 * from);
					copyOut(out.get(1), probs, 2 * from);
				}
			});
		}
		runAll(tasks);
		return new Classification(n, logits, probs);
	}

	/**
	 * U-Net on n inputs of 7×h×w (C order, stacked; h and w multiples of 4). Returns the n×h×w
	 * probabilities.
	 */
	public synchronized float[] segment(float[] input, int n, int h, int w) {
		return segment(input, n, h, w, false);
	}

	/**
	 * {@link #segment(float[], int, int, int)}, optionally with channels-last activations (see
	 * {@link TorchModule#setChannelsLast}). The float rounding then differs from PyTorch's default layout
	 * (probabilities by up to about 5e-4 on the reference phantom, versus 1e-4 with the default layout).
	 * It was 1.5–2× faster while glibc unmapped every large block; with {@link EngineEnvironment}'s
	 * allocator settings the default layout is the faster one for the U-Net (75–83 against 44–52
	 * GFLOP/s on 2 cores), so the analysis no longer asks for it. The classifiers always run
	 * channels-last (faster for their 1- and 8-channel 3D convolutions): their outputs stay within the
	 * reference tolerances.
	 */
	public synchronized float[] segment(float[] input, int n, int h, int w, boolean channelsLast) {
		TorchModule unet = networks.get(Networks.Kind.SEG);
		if (unet != null) unet.setChannelsLast(channelsLast);
		return segmentAll(List.of(new SegInput(input, n, h, w))).get(0);
	}

	/**
	 * U-Net inputs of different sizes in one call, so that the streams share them: {@code input} holds n
	 * samples of 7×h×w (C order, stacked; h and w multiples of 4).
	 */
	public record SegInput(float[] input, int n, int h, int w) {
		public SegInput {
			if (h <= 0 || w <= 0 || h % 4 != 0 || w % 4 != 0)
				throw new IllegalArgumentException("U-Net slices must be multiples of 4 in size, got " + h + "×" + w);
			checkInput(input, n, (long) SegmentationUNet.IN_CHANNELS * h * w, "slices");
		}
	}

	/** The U-Net on each input (default memory layout); returns each one's n×h×w probabilities, in order. */
	public synchronized List<float[]> segment(List<SegInput> inputs) {
		TorchModule unet = networks.get(Networks.Kind.SEG);
		if (unet != null) unet.setChannelsLast(false);
		return segmentAll(inputs);
	}

	private List<float[]> segmentAll(List<SegInput> inputs) {
		List<float[]> outs = new ArrayList<>(inputs.size());
		List<Runnable> tasks = new ArrayList<>();
		int total = 0;
		for (SegInput in : inputs) total += in.n();
		for (SegInput in : inputs) {
			int n = in.n(), h = in.h(), w = in.w();
			long perSample = (long) SegmentationUNet.IN_CHANNELS * h * w;
			float[] out = new float[Math.toIntExact((long) n * h * w)];
			outs.add(out);
			int batch = batchSize(Networks.Kind.SEG, h, w);
			if (total == n) batch = streamBatch(batch, n); // one input alone: split it over the streams
			for (int start = 0; start < n; start += batch) {
				int from = start, count = Math.min(batch, n - start);
				tasks.add(() -> {
					try (NDManager m = base.newSubManager()) {
						NDList result = forward(Networks.Kind.SEG, m, in.input(), from * perSample,
							Networks.batchShape(Networks.Kind.SEG, count, h, w));
						copyOut(result.head(), out, from * h * w);
					}
				});
			}
		}
		runAll(tasks);
		return outs;
	}

	/** A batch size that gives every stream work when n samples would fit in fewer batches than streams. */
	private int streamBatch(int batch, int n) {
		return streams > 1 ? Math.max(1, Math.min(batch, (n + streams - 1) / streams)) : batch;
	}

	/** Runs the batches on the streams (or here) and waits for all; the first failure is rethrown as it was. */
	private void runAll(List<Runnable> tasks) {
		if (pool == null || tasks.size() < 2) {
			for (Runnable t : tasks) t.run();
			return;
		}
		List<Future<?>> futures = new ArrayList<>(tasks.size());
		for (Runnable t : tasks) futures.add(pool.submit(t));
		Throwable failure = null;
		boolean interrupted = false;
		for (Future<?> f : futures) {
			while (true) {
				try {
					f.get();
					break;
				} catch (InterruptedException e) {
					// A batch under way cannot be stopped inside libtorch; wait for them all, then tell the caller.
					interrupted = true;
				} catch (ExecutionException e) {
					if (failure == null) failure = e.getCause();
					break;
				}
			}
		}
		if (interrupted) Thread.currentThread().interrupt();
		if (failure instanceof RuntimeException r) throw r;
		if (failure instanceof Error err) throw err;
		if (failure != null) throw new IllegalStateException(failure);
	}

	private NDList forward(Networks.Kind kind, NDManager batchManager, float[] data, long offset, Shape shape) {
		if (closed) throw new IllegalStateException("Inference is closed");
		TorchModule net = networks.get(kind);
		if (net == null) throw new IllegalStateException("No " + kind.name().toLowerCase(Locale.ROOT) + " network was loaded");
		int len = Math.toIntExact(shape.size());
		ByteBuffer buffer = staging.get();
		if (buffer.capacity() < len * 4L) {
			buffer = ByteBuffer.allocateDirect(len * 4).order(ByteOrder.nativeOrder());
			staging.set(buffer);
		}
		buffer.clear();
		buffer.asFloatBuffer().put(data, Math.toIntExact(offset), len);
		buffer.limit(len * 4);
		// A direct buffer in native order goes to PyTorch without another Java-side copy.
		NDArray x = batchManager.create(buffer, shape, EngineTypes.require(DataType.FLOAT32, kind + " input"));
		return net.forward(new ParameterStore(batchManager, false), new NDList(x), false);
	}

	private static void copyOut(NDArray array, float[] dest, int offset) {
		ByteBuffer b = array.toByteBuffer();
		b.order(ByteOrder.nativeOrder()).asFloatBuffer().get(dest, offset, Math.toIntExact(array.size()));
	}

	private static void checkInput(float[] data, int n, long perSample, String what) {
		if (n < 0) throw new IllegalArgumentException("Negative number of " + what + ": " + n);
		if (data.length < n * perSample)
			throw new IllegalArgumentException(n + " " + what + " need " + n * perSample + " floats, got " + data.length);
	}

	/** Arrays currently held by the base manager (the weights); for leak checks in tests and benchmarks. */
	public int managedArrayCount() {
		return ((BaseNDManager) base).getManagedArrays().size();
	}

	TorchModule network(Networks.Kind kind) { return networks.get(kind); }

	@Override
	public synchronized void close() {
		if (!closed) {
			closed = true;
			if (pool != null) pool.shutdownNow();
			base.close();
		}
	}
}
