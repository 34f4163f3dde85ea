package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * External tools the DICOM writer tests are judged by: dciodvfy (dicom3tools), dsrdump (dcmtk) and
 * Debian's python3 with pydicom. Absent, a test skips with the reason; under CI (CI=true) it fails.
 */
public final class DicomTools {

	/** Debian's interpreter: it has pydicom (a pyenv python3 on the PATH may not). */
	static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

	private DicomTools() {}

	public record Run(int exit, String out) {
		public List<String[]> rows(String kind) {
			List<String[]> r = new ArrayList<>();
			for (String line : out.split("\n"))
				if (line.startsWith(kind + "\t")) r.add(line.split("\t", -1));
			return r;
		}
	}

	public static void require(boolean available, String what) {
		if (available) return;
		String msg = what + " is not available";
		if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(msg + " (CI must have it)");
		assumeTrue(false, msg + ": skipping");
	}

	static boolean works(String... command) {
		try {
			Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
			p.getInputStream().readAllBytes();
			return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
		}
		catch (IOException | InterruptedException e) {
			return false;
		}
	}

	public static void requirePydicom() {
		require(works(PYTHON, "-c", "import pydicom, numpy"), "python3 with pydicom and numpy");
	}

	public static void requireDciodvfy() {
		require(works("sh", "-c", "command -v dciodvfy"), "dciodvfy (Debian dicom3tools)");
	}

	public static void requireDsrdump() {
		require(works("dsrdump", "--version"), "dsrdump (Debian dcmtk)");
	}

	public static Run run(String... command) throws IOException, InterruptedException {
		Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(300, TimeUnit.SECONDS), "did not finish: " + String.join(" ", command));
		return new Run(p.exitValue(), out);
	}

	static Path script(String name) {
		try {
			return Path.of(DicomTools.class.getResource(name).toURI());
		}
		catch (URISyntaxException e) {
			throw new IllegalStateException(e);
		}
	}

	public static Run python(String script, String... args) throws IOException, InterruptedException {
		List<String> cmd = new ArrayList<>(List.of(PYTHON, script(script).toString()));
		cmd.addAll(List.of(args));
		Run r = run(cmd.toArray(String[]::new));
		assertTrue(r.exit() == 0, script + " failed:\n" + r.out());
		return r;
	}

	/** The source series as pydicom reads it, and each slice's ImagePositionPatient. */
	record Source(SourceImages images, List<double[]> positions) {}

	static Source sourceOf(Path folder) throws IOException, InterruptedException {
		Run r = python("source_images.py", folder.toString());
		Map<String, String> attrs = new LinkedHashMap<>();
		for (String[] a : r.rows("attr")) attrs.put(a[1], a[2]);
		List<SourceImages.Image> images = new ArrayList<>();
		List<double[]> positions = new ArrayList<>();
		for (String[] a : r.rows("image")) {
			images.add(new SourceImages.Image(a[1], a[2], Integer.parseInt(a[3])));
			positions.add(new double[] { Double.parseDouble(a[4]), Double.parseDouble(a[5]), Double.parseDouble(a[6]) });
		}
		SourceImages s = new SourceImages(r.rows("study").get(0)[1], r.rows("series").get(0)[1], r.rows("for").get(0)[1], attrs, images);
		return new Source(s, positions);
	}

	/** dciodvfy's output; its error lines start with "Error". */
	public static Run dciodvfy(Path file) throws IOException, InterruptedException {
		return run("dciodvfy", file.toString());
	}

	public static List<String> lines(String out, String prefix) {
		List<String> r = new ArrayList<>();
		for (String line : out.split("\n"))
			if (line.startsWith(prefix)) r.add(line);
		return r;
	}
}
