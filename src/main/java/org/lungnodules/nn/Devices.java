package org.lungnodules.nn;

import java.nio.file.Path;
import java.nio.file.Paths;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Which device the networks run on, and where models and DJL's native libraries live.
 * <p>
 * {@code device=auto} means the GPU when DJL sees one; {@code gpu} insists on one and fails with a
 * clear message when there is none (unless the caller allows a fallback); {@code cpu} never uses
 * one.
 */
public final class Devices {

	private Devices() {}

	/**
	 * @param choice auto, cpu or gpu (or gpu:N)
	 * @param allowFallback with gpu and no GPU: fall back to the CPU instead of failing
	 */
	public static Device choose(String choice, boolean allowFallback) {
		String c = choice == null ? "auto" : choice.trim().toLowerCase(java.util.Locale.ROOT);
		int gpus = engine().getGpuCount();
		switch (c) {
			case "auto": case "":
				return gpus > 0 ? Device.gpu() : Device.cpu();
			case "cpu":
				return Device.cpu();
			default:
				if (!c.startsWith("gpu")) throw new IllegalArgumentException("device must be auto, cpu or gpu, not '" + choice + "'");
				int id = c.equals("gpu") ? 0 : Integer.parseInt(c.substring(c.indexOf(':') + 1));
				if (id < gpus) return Device.gpu(id);
				if (allowFallback) return Device.cpu();
				throw new IllegalArgumentException("device=" + choice + " was requested, but DJL sees " + gpus +
					" GPU(s). Build with -Pcuda on a machine with CUDA 12.4 drivers, or use device=cpu.");
		}
	}

	public static Engine engine() {
		return Engine.getEngine("PyTorch");
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
