package org.lungnodules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Other people's tools that tests use as independent truths (Debian's dcm2niix, Python with
 * nibabel or pydicom). Like {@link SharedData}: a tool that is missing skips the test with a
 * visible reason, except under CI (CI=true), where it fails, because CI must have them.
 */
public final class ExternalTools {

	private ExternalTools() {}

	/** Skips (or fails under CI) with {@code why}. */
	private static void missing(String why) {
		if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(why + " (CI must have it)");
		assumeTrue(false, why);
	}

	/** Whether {@code command} starts and exits with 0 within a minute. */
	private static boolean runs(List<String> command) {
		try {
			Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
			if (!p.waitFor(60, TimeUnit.SECONDS)) {
				p.destroyForcibly();
				return false;
			}
			return p.exitValue() == 0;
		} catch (IOException e) {
			return false;
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/** The path or name of {@code tool} after checking that {@code tool probe...} runs; else skip (fail under CI). */
	public static String require(String tool, String... probe) {
		List<String> cmd = new ArrayList<>(List.of(tool));
		cmd.addAll(List.of(probe));
		if (!runs(cmd)) missing(tool + " is not installed (Debian package " + tool + "): skipping this check against it");
		return tool;
	}

	/**
	 * A Python 3 interpreter that imports all of {@code modules}: {@code python3} on the PATH, else
	 * Debian's {@code /usr/bin/python3} (a PATH python of another distribution may lack Debian's
	 * python3-nibabel and python3-pydicom); else skip (fail under CI).
	 */
	public static String python(String... modules) {
		String imports = "import " + String.join(", ", modules);
		for (String python : new String[] { "python3", "/usr/bin/python3" })
			if (runs(List.of(python, "-c", imports))) return python;
		missing("no python3 here imports " + String.join(", ", modules) + " (Debian: python3-nibabel, python3-pydicom)");
		return null;
	}

	/** Runs {@code command}, asserting exit code 0 within {@code minutes}; returns its output (stdout and stderr). */
	public static String run(int minutes, String... command) throws IOException, InterruptedException {
		Path log = Files.createTempFile("tool", ".log");
		try {
			Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
			boolean done = p.waitFor(minutes, TimeUnit.MINUTES);
			if (!done) p.destroyForcibly();
			String out = Files.readString(log, StandardCharsets.UTF_8);
			assertTrue(done, String.join(" ", command) + " did not finish in " + minutes + " min:\n" + out);
			assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
			return out;
		} finally {
			Files.deleteIfExists(log);
		}
	}
}
