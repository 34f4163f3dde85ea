package org.lungnodules.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Prepares the process for libtorch before DJL loads it, so that Fiji (started from its own launcher)
 * and test JVMs get what {@code ./luna} sets in the shell. {@link Devices#engine()} calls
 * {@link #prepare()}, and every path of ours to the engine goes through it.
 * <ul>
 * <li><b>{@code OMP_WAIT_POLICY=PASSIVE}</b> unless the variable is set. libgomp reads its environment
 * once, when it is loaded with libtorch; its default lets idle OpenMP threads spin, which on shared
 * cores burns the time slices their partners need (2.3× slower analysis under load, BENCHMARKS.md).
 * The variable is put into the C environment with libc's {@code setenv} (Java cannot change its own
 * environment); {@code /proc/self/environ} does not show it, libgomp does ({@code OMP_DISPLAY_ENV=VERBOSE}
 * prints {@code GOMP_SPINCOUNT = '0'}).</li>
 * <li><b>glibc's allocator keeps large blocks</b> ({@link #tuneMalloc()}), so the U-Net's activations are
 * not handed back to the kernel and faulted in again for every batch; {@link #releaseFreeMemory()}
 * gives it back when a piece of work ends (the cohort walk calls it between scans).</li>
 * <li><b>libtorch's one-time "AutoNonVariableTypeMode is deprecated" warning</b> is spent while c10's log
 * level is raised to ERROR ({@link #quietDeprecationWarning()}); afterwards the level is what
 * {@code TORCH_CPP_LOG_LEVEL} asks for (DJL never applies that variable) or c10's default, WARNING, so
 * later warnings and errors still show.</li>
 * <li>{@code ai.djl.pytorch.num_interop_threads} = 1 unless set: these eager networks never fork.</li>
 * </ul>
 * Each step that fails (no glibc, no JNA, an engine that was loaded earlier by someone else) is
 * skipped with a log line: none of them changes results, only speed and noise.
 */
public final class EngineEnvironment {

	private static final Logger LOG = Logger.getLogger(EngineEnvironment.class.getName());

	/** Set to {@code default} to leave glibc's allocator settings alone. */
	public static final String MALLOC_PROPERTY = "lung.nodules.malloc";

	// glibc <malloc.h> mallopt parameters
	private static final int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_MAX = -4;
	/** glibc's per-thread heaps are this large (HEAP_MAX_SIZE on 64-bit); a larger block is always mmapped. */
	public static final long GLIBC_HEAP_BYTES = 64L << 20;
	/** c10's log levels (FLAGS_caffe2_log_level): 0 INFO, 1 WARNING, 2 ERROR. */
	private static final int C10_WARNING = 1, C10_ERROR = 2;

	private static boolean prepared, started;
	private static String mallocState = "not tuned";

	private EngineEnvironment() {}

	/**
	 * Sets the environment and allocator before libtorch loads; idempotent. Cheap after the first call.
	 * When libtorch is already in the process (another plugin started DJL first) the environment can no
	 * longer reach libgomp; that is logged and the rest is still done.
	 */
	public static synchronized void prepare() {
		if (prepared) return;
		prepared = true;
		if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null)
			System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
		if (!Platform.isLinux() && !Platform.isMac()) return; // Windows: no setenv; the launcher's environment applies
		try {
			if (nativeLibraryPath("libgomp") != null)
				LOG.info("libtorch was loaded before Lung Nodules prepared it: OMP_WAIT_POLICY must be set before starting Fiji");
			setDefaultEnv("OMP_WAIT_POLICY", "PASSIVE");
			if (Platform.isLinux()) mallocState = tuneMalloc();
		} catch (LinkageError | RuntimeException e) {
			LOG.info("Could not prepare the native environment (" + e + "); libtorch runs with its defaults");
		}
	}

	/**
	 * Starts DJL's PyTorch engine after {@link #prepare()} and spends libtorch's one-time deprecation
	 * warning quietly; idempotent.
	 */
	public static synchronized Engine startEngine() {
		prepare();
		Engine engine = Engine.getEngine("PyTorch");
		if (!started) {
			started = true;
			quietDeprecationWarning(engine);
		}
		return engine;
	}

	/** What {@link #tuneMalloc()} did, for benchmark and log output. */
	public static synchronized String mallocState() { return mallocState; }

	/**
	 * Keeps freed native memory inside glibc's heaps instead of returning it to the kernel.
	 * <p>
	 * <b>Why.</b> glibc serves every block over its mmap threshold (at most 32 MB) with a fresh
	 * {@code mmap} and unmaps it on free. A batch of 512² U-Net activations is made of such blocks
	 * (16 channels × 512² floats = 16 MB per slice), so each batch faulted in its memory page by page
	 * again, zero-filled by the kernel: on the VMs measured, about half of the analysis's CPU time was
	 * system time. Per-thread heaps are also shrunk with {@code madvise(MADV_DONTNEED)} or deleted when
	 * their top is free, which does the same to smaller blocks.
	 * <p>
	 * <b>Settings.</b> {@code M_MMAP_MAX = 0}: blocks come from the heaps, not from their own mmap (in
	 * a thread's arena glibc still maps a block that cannot fit one 64 MB heap, which is why
	 * {@link Inference} keeps each activation below {@link #GLIBC_HEAP_BYTES}). {@code M_TRIM_THRESHOLD}
	 * and {@code M_TOP_PAD} of 64 MB: a heap is neither shrunk nor deleted unless more than that is free
	 * at its top. Unlike {@code ./luna}'s old opt-in {@code GLIBC_TUNABLES} (one arena, never trimmed,
	 * which grew past 10 GB), memory stays bounded: freed blocks are reused for the next batch of the
	 * same shapes, so the process holds about one batch's peak, not the sum of all batches.
	 * <p>
	 * Skipped when {@value #MALLOC_PROPERTY}={@code default} or when {@code GLIBC_TUNABLES} already sets
	 * malloc tunables (the user's choice wins).
	 */
	static String tuneMalloc() {
		if ("default".equalsIgnoreCase(System.getProperty(MALLOC_PROPERTY, "")))
			return "glibc defaults (" + MALLOC_PROPERTY + "=default)";
		String tunables = getenv("GLIBC_TUNABLES");
		if (tunables != null && tunables.contains("glibc.malloc."))
			return "GLIBC_TUNABLES from the environment";
		Function mallopt = NativeLibrary.getInstance("c").getFunction("mallopt");
		int pad = (int) GLIBC_HEAP_BYTES;
		boolean ok = mallopt.invokeInt(new Object[] { M_MMAP_MAX, 0 }) == 1
			& mallopt.invokeInt(new Object[] { M_TRIM_THRESHOLD, pad }) == 1
			& mallopt.invokeInt(new Object[] { M_TOP_PAD, pad }) == 1;
		return ok ? "kept in glibc heaps (mmap_max 0, trim_threshold and top_pad 64 MB)" : "mallopt refused a setting";
	}

	/**
	 * Hands the free memory inside glibc's heaps back to the kernel ({@code malloc_trim(0)}): what
	 * {@link #tuneMalloc()} makes glibc keep, and what glibc's own thresholds keep otherwise. Meant for
	 * the end of a piece of work (one scan of a cohort), not for between batches: the next scan faults
	 * its pages in once, instead of once per batch.
	 *
	 * @return whether anything was given back (false also where there is no glibc)
	 */
	public static boolean releaseFreeMemory() {
		if (!Platform.isLinux()) return false;
		try {
			return NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(new Object[] { 0L }) == 1;
		} catch (LinkageError | RuntimeException e) {
			return false;
		}
	}

	/** A memory line of {@code /proc/self/status} ({@code VmRSS}, {@code VmHWM}, ...) in kB, or -1 where there is none (not Linux). */
	public static long processMemoryKb(String key) {
		try {
			for (String line : Files.readAllLines(Paths.get("/proc/self/status")))
				if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("\\D", ""));
		} catch (IOException | RuntimeException e) {
			// not Linux
		}
		return -1;
	}

	/** Sets a variable in the C environment unless it is set there already (a user's value wins). */
	static void setDefaultEnv(String name, String value) {
		if (getenv(name) != null) return;
		int rc = NativeLibrary.getInstance("c").getFunction("setenv").invokeInt(new Object[] { name, value, 0 });
		if (rc != 0) LOG.info("setenv " + name + " failed (" + rc + ")");
	}

	/** The C environment's value (which, unlike {@link System#getenv}, sees {@code setenv} calls). */
	static String getenv(String name) {
		Pointer p = NativeLibrary.getInstance("c").getFunction("getenv").invokePointer(new Object[] { name });
		return p == null ? null : p.getString(0);
	}

	/**
	 * libtorch warns "AutoNonVariableTypeMode is deprecated" (TORCH_WARN_ONCE in LegacyTypeDispatch.h)
	 * the first time DJL writes into an array, on every run; users take it for an error. DJL cannot
	 * avoid the deprecated guard, and c10's log level only comes from {@code TORCH_CPP_LOG_LEVEL} when a
	 * program calls {@code c10::initLogging()}, which DJL does not. So: raise c10's level to ERROR,
	 * write into one array (the warning is used up, it prints once per process at most), restore the
	 * level and apply {@code TORCH_CPP_LOG_LEVEL} with {@code initLogging}. Other warnings still show.
	 */
	private static void quietDeprecationWarning(Engine engine) {
		try {
			String c10 = nativeLibraryPath("libc10");
			if (c10 == null) return; // a GPU or other build that names it differently: leave the warning
			NativeLibrary lib = NativeLibrary.getInstance(c10);
			Pointer level = lib.getGlobalVariableAddress("FLAGS_caffe2_log_level");
			int before = level.getInt(0);
			level.setInt(0, Math.max(before, C10_ERROR));
			try (NDManager m = engine.newBaseManager()) {
				NDArray a = m.zeros(new ai.djl.ndarray.types.Shape(1));
				a.set(new float[] { 1 });
			} finally {
				level.setInt(0, before);
			}
			lib.getFunction("_ZN3c1011initLoggingEv").invokeVoid(new Object[0]);
		} catch (LinkageError | RuntimeException e) {
			LOG.fine("libtorch's log level was left alone: " + e);
		}
	}

	/** c10's current log level (0 INFO, 1 WARNING, 2 ERROR), or -1 if libc10 is not loaded. */
	static int c10LogLevel() {
		String c10 = nativeLibraryPath("libc10");
		return c10 == null ? -1 : NativeLibrary.getInstance(c10).getGlobalVariableAddress("FLAGS_caffe2_log_level").getInt(0);
	}

	/** Path of a loaded shared library whose file name starts with {@code prefix} ("libc10"), else null. */
	static String nativeLibraryPath(String prefix) {
		Path maps = Paths.get("/proc/self/maps");
		if (!Files.isReadable(maps)) return null;
		List<String> lines;
		try {
			lines = Files.readAllLines(maps);
		} catch (IOException e) {
			return null;
		}
		for (String line : lines) {
			int slash = line.indexOf('/');
			if (slash < 0) continue;
			String path = line.substring(slash);
			String file = path.substring(path.lastIndexOf('/') + 1);
			if (file.startsWith(prefix + ".") || file.startsWith(prefix + "-")) return path;
		}
		return null;
	}

	/** One line for logs: the wait policy libgomp will see and the allocator setting. */
	public static synchronized String describe() {
		String policy = Platform.isLinux() || Platform.isMac() ? getenv("OMP_WAIT_POLICY") : System.getenv("OMP_WAIT_POLICY");
		return String.format(Locale.ROOT, "OMP_WAIT_POLICY=%s, native memory %s", policy == null ? "(unset)" : policy, mallocState);
	}
}
