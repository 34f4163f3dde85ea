package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real ImageJ 1.54p installation in a temporary folder, with our jar in {@code plugins/} and its
 * runtime dependencies in {@code plugins/jars/}, run as {@code java -jar ij.jar -ijpath DIR -batch
 * MACRO ARGS}: exactly how a user runs our macros headless.
 */
final class ImageJBatch {

	final Path home;

	ImageJBatch(Path tempDir) throws IOException {
		home = tempDir.resolve("ImageJ");
		Path plugins = Files.createDirectories(home.resolve("plugins"));
		Path jars = Files.createDirectories(plugins.resolve("jars"));
		Path pluginJar = Paths.get(property("imagej.plugin.jar"));
		// ImageJ 1 wants an underscore in a plugin jar's name, as ours has.
		Files.copy(pluginJar, plugins.resolve("Lung_Nodules.jar"), StandardCopyOption.REPLACE_EXISTING);
		try (Stream<Path> deps = Files.list(Paths.get(property("imagej.jars.dir")))) {
			for (Path dep : (Iterable<Path>) deps::iterator)
				Files.createSymbolicLink(jars.resolve(dep.getFileName()), dep.toAbsolutePath());
		}
	}

	static String property(String key) {
		String v = System.getProperty(key);
		assertTrue(v != null && !v.isEmpty() && !v.contains("${"), "System property " + key + " is not set (run as a failsafe *IT)");
		return v;
	}

	/** Result of one ImageJ run. */
	record Run(int exitCode, String output) {}

	/**
	 * Runs a macro with no display at all. ImageJ 1 then builds no menus, so only {@code call(...)}
	 * reaches our code; {@code -Dplugins.dir} is what lets it find our jar.
	 */
	Run runHeadless(Path macro, String argument) throws Exception {
		return run(macro, argument, false, true);
	}

	/** Headless with only {@code -ijpath}, as users write it; the macro must find its plugins itself. */
	Run runHeadlessWithIjPath(Path macro, String argument) throws Exception {
		return run(macro, argument, false, false);
	}

	/**
	 * Runs a macro under a virtual X display (xvfb-run), as on a desktop: ImageJ 1 builds its menus
	 * from plugins.config, so {@code run("Analyze CT", ...)} works.
	 */
	Run runWithDisplay(Path macro, String argument) throws Exception {
		return run(macro, argument, true, true);
	}

	/** Whether xvfb-run is installed; under CI it must be (.ci/run installs it). */
	static boolean hasVirtualDisplay() {
		for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
			if (Files.isExecutable(Paths.get(dir, "xvfb-run"))) return true;
		return false;
	}

	private Run run(Path macro, String argument, boolean display, boolean pluginsDirProperty) throws Exception {
		List<String> cmd = new ArrayList<>();
		if (display) {
			cmd.add("xvfb-run");
			cmd.add("-a");
		}
		cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
		cmd.add("-Xmx2g");
		if (!display) cmd.add("-Djava.awt.headless=true");
		if (pluginsDirProperty) cmd.add("-Dplugins.dir=" + home);
		cmd.add("-Dai.djl.offline=true");
		String cache = System.getProperty("DJL_CACHE_DIR");
		if (cache != null) cmd.add("-DDJL_CACHE_DIR=" + cache);
		cmd.add("-jar");
		cmd.add(property("imagej.jar"));
		cmd.add("-ijpath");
		cmd.add(home.toString());
		cmd.add("-batch");
		cmd.add(macro.toString());
		if (argument != null) cmd.add(argument);
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
		p.getOutputStream().close();
		byte[] out;
		try (var in = p.getInputStream()) {
			out = in.readAllBytes();
		}
		if (!p.waitFor(10, TimeUnit.MINUTES)) {
			p.destroyForcibly();
			throw new AssertionError("ImageJ did not finish");
		}
		return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
	}
}
