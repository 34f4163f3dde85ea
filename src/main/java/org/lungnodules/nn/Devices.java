package org.lungnodules.nn;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Which device the networks run on, and where models and DJL's native libraries live.
 * <p>
 * {@code device=auto} means the GPU(s) when DJL sees any; {@code gpu} insists on one and fails with a
 * clear message when there is none; {@code cpu} never uses one.
 */
public final class Devices {

	private Devices() {}

	/**
	 * The devices a {@code device=} value names, given how many GPUs DJL sees. One rule for inference
	 * (which uses the first) and training (which splits each batch across all of them):
	 * <ul>
	 * <li>{@code auto} (or empty): every GPU, else the CPU;</li>
	 * <li>{@code cpu}: the CPU;</li>
	 * <li>{@code gpu}: every GPU; {@code gpu:N}: GPU N only;</li>
	 * <li>a comma-separated list of those, e.g. {@code gpu:0,gpu:2}, one batch share per entry. The
	 * same device may appear twice ({@code cpu,cpu}), which runs the multi-device code on one
	 * device: that is how the batch splitting is tested on machines without GPUs.</li>
	 * </ul>
	 *
	 * @throws IllegalArgumentException for a value that is none of these
	 * @throws IllegalStateException when it asks for a GPU that DJL does not see
	 */
	public static List<Device> resolve(String choice, int gpuCount) {
		String c = choice == null ? "" : choice.trim().toLowerCase(Locale.ROOT);
		if (c.isEmpty() || c.equals("auto")) return gpuCount > 0 ? allGpus(gpuCount) : List.of(Device.cpu());
		List<Device> out = new ArrayList<>();
		for (String part : c.split(",", -1)) {
			String d = part.trim();
			if (d.equals("cpu")) out.add(Device.cpu());
			else if (d.equals("gpu")) {
				if (gpuCount == 0) throw noGpu(choice, gpuCount);
				out.addAll(allGpus(gpuCount));
			} else if (d.matches("gpu:\\d{1,4}")) {
				int id = Integer.parseInt(d.substring(4));
				if (id >= gpuCount) throw noGpu(choice, gpuCount);
				out.add(Device.gpu(id));
			} else {
				throw new IllegalArgumentException("device must be auto, cpu, gpu, gpu:N or a comma-separated list of them, not '" +
					choice + "'");
			}
		}
		return List.copyOf(out);
	}

	/**
	 * The one device inference runs on, as seen by the running engine: {@link #resolve}'s first (with
	 * {@code auto} or {@code gpu} and several GPUs, GPU 0). A list is refused: the networks of an
	 * analysis live on one device.
	 */
	public static Device choose(String choice) {
		if (choice != null && choice.contains(","))
			throw new IllegalArgumentException("device=" + choice + ": inference runs on one device; name one (e.g. gpu:1)");
		return resolve(choice, engine().getGpuCount()).get(0);
	}

	private static List<Device> allGpus(int count) {
		List<Device> gpus = new ArrayList<>();
		for (int i = 0; i < count; i++) gpus.add(Device.gpu(i));
		return gpus;
	}

	private static IllegalStateException noGpu(String choice, int gpuCount) {
		return new IllegalStateException("device=" + choice + " was requested, but DJL's PyTorch engine sees " +
			(gpuCount == 0 ? "no GPU (CPU-only native library, or no CUDA driver)" : gpuCount + " GPU(s)") +
			". Build with -Pcuda on a machine with CUDA 12.4 drivers, or use device=cpu or auto.");
	}

	/** DJL's PyTorch engine, started once after {@link EngineEnvironment#prepare()}: use this, not {@code Engine.getEngine}. */
	public static Engine engine() {
		return EngineEnvironment.startEngine();
	}

	public static String describe() {
		try {
			Engine e = engine();
			int gpus = e.getGpuCount();
			return (gpus > 0 ? gpus + " GPU(s), default gpu(0)" : "CPU only (no GPU visible to DJL)") + ", PyTorch " + e.getVersion();
		}
		catch (Throwable t) {
			return "PyTorch engine unavailable: " + t.getMessage();
		}
	}

	/** System property that overrides {@code LUNG_NODULES_HOME} (a JVM cannot change its own environment, tests can set this). */
	public static final String HOME_PROPERTY = "lung.nodules.home";

	/**
	 * Where fetched and trained models go by default: the {@value #HOME_PROPERTY} system property, else
	 * $LUNG_NODULES_HOME, else ~/.lung-nodules; models are in its {@code models} subfolder.
	 */
	public static Path modelsFolder() {
		String home = System.getProperty(HOME_PROPERTY);
		if (home == null || home.isEmpty()) home = System.getenv("LUNG_NODULES_HOME");
		Path base = home != null && !home.isEmpty() ? Paths.get(home) : Paths.get(System.getProperty("user.home"), ".lung-nodules");
		return base.resolve("models");
	}

	/** DJL extracts libtorch here once; never into the working directory. */
	public static Path nativeCacheFolder() {
		String p = System.getProperty("DJL_CACHE_DIR", System.getenv("DJL_CACHE_DIR"));
		return p != null && !p.isEmpty() ? Paths.get(p) : Paths.get(System.getProperty("user.home"), ".djl.ai");
	}
}
