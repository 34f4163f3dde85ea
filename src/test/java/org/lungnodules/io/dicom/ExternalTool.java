package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian's test tools (gdcmconv, dcmcjpls, /usr/bin/python3 with pydicom and GDCM) for codec
 * tests. A missing tool skips the test visibly, and fails it under CI (CI=true), as SharedData does.
 */
final class ExternalTool {

	private ExternalTool() {}

	static final String PYTHON = "/usr/bin/python3";

	/** Skips (or fails under CI) unless the executable is on the PATH or at that absolute path. */
	static void require(String executable) {
		boolean found = executable.startsWith("/") ? Files.isExecutable(Path.of(executable))
			: List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
				.anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, executable)));
		if (!found) absent(executable + " is not installed");
	}

	/** Skips (or fails under CI) unless /usr/bin/python3 imports pydicom, numpy and gdcm. */
	static void requirePydicomWithGdcm() throws Exception {
		require(PYTHON);
		Process p = new ProcessBuilder(PYTHON, "-c", "import pydicom, numpy, gdcm").redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) absent("python3 with pydicom, numpy and gdcm: " + out.strip());
	}

	private static void absent(String what) {
		if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(what + " (CI must have it: see .ci/run)");
		assumeTrue(false, what + "; test skipped");
	}

	/** Runs a command, failing the test with its output unless it exits 0 within the time. */
	static String run(List<String> command) throws IOException, InterruptedException {
		Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
		byte[] out = p.getInputStream().readAllBytes();
		if (!p.waitFor(300, TimeUnit.SECONDS)) {
			p.destroyForcibly();
			fail(command + " did not finish");
		}
		String text = new String(out, StandardCharsets.UTF_8);
		assertEquals(0, p.exitValue(), command + " failed: " + text);
		return text;
	}
}
