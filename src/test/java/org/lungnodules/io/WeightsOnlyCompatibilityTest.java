package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;

/**
 * Checks our files against an independent reader: tools/check_weights_only.py, which loads a zip
 * checkpoint with Python's own pickle machinery restricted the way torch.load(weights_only=True)
 * is (same opcodes, same globals), and compares every node with a manifest we write from Java.
 * PyTorch itself cannot be installed here; the script is first shown to read PyTorch-written
 * files the same way our reader does, which makes it a credible stand-in.
 */
class WeightsOnlyCompatibilityTest {

	static final Path SCRIPT = Paths.get("tools", "check_weights_only.py").toAbsolutePath();

	@TempDir
	Path tmp;

	@BeforeAll
	static void needPythonWithNumpy() {
		boolean ok;
		try {
			Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
			ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
		} catch (IOException | InterruptedException e) {
			ok = false;
		}
		assumeTrue(ok, "python3 with numpy is not available: skipping the independent weights_only check");
	}

	/** Runs the checker; returns its exit code and output. */
	private static String[] check(Path checkpoint, Path manifest) throws IOException, InterruptedException {
		Process p = new ProcessBuilder("python3", SCRIPT.toString(), checkpoint.toString(), manifest.toString())
			.redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(120, TimeUnit.SECONDS), "checker did not finish");
		return new String[] { Integer.toString(p.exitValue()), out };
	}

	@Test
	void ourWriterSatisfiesTheWeightsOnlyRules() throws Exception {
		Map<String, Object> root = TorchCheckpointTest.sampleRoot();
		Path file = tmp.resolve("ours.pt");
		TorchCheckpoint.write(file, root);
		// The manifest comes from the objects we wrote, not from reading the file back in Java.
		Path manifest = CheckpointTestSupport.writeManifest(root, Files.createDirectory(tmp.resolve("ref")));
		String[] result = check(file, manifest);
		assertEquals("0", result[0], result[1]);
		assertTrue(result[1].contains("10 tensors bit-identical"), result[1]);
	}

	@Test
	void realWeightsSurviveOurWriter() throws Exception {
		TorchCheckpoint book = TorchCheckpoint.read(SharedData.require(TorchCheckpointTest.CLS_LEGACY));
		Map<String, Object> root = new LinkedHashMap<>();
		root.put("model_state", book.stateDict());
		root.put("epoch", 90L);
		Path file = tmp.resolve("cls.pt");
		TorchCheckpoint.write(file, root);
		String[] result = check(file, CheckpointTestSupport.writeManifest(root, Files.createDirectory(tmp.resolve("ref"))));
		assertEquals("0", result[0], result[1]);
	}

	@Test
	void checkerAgreesWithOurReaderOnPyTorchWrittenFiles() throws Exception {
		for (String name : List.of(TorchCheckpointTest.CLS_ZIP, TorchCheckpointTest.SEG_ZIP)) {
			Path file = SharedData.require(name);
			Object root = TorchCheckpoint.read(file).root();
			Path dir = Files.createDirectory(tmp.resolve(file.getFileName().toString() + ".ref"));
			String[] result = check(file, CheckpointTestSupport.writeManifest(root, dir));
			assertEquals("0", result[0], result[1]);
		}
	}

	@Test
	void checkerCanFail() throws Exception {
		// A manifest whose tensor bytes differ by one bit must be reported, or the checks above prove nothing.
		Map<String, Object> root = new LinkedHashMap<>();
		root.put("model_state", Map.of("w", Tensor.ofFloats(new long[] { 2 }, new float[] { 1f, 2f })));
		Path file = tmp.resolve("one.pt");
		TorchCheckpoint.write(file, root);
		Map<String, Object> other = new LinkedHashMap<>();
		other.put("model_state", Map.of("w", Tensor.ofFloats(new long[] { 2 }, new float[] { 1f, Math.nextUp(2f) })));
		String[] result = check(file, CheckpointTestSupport.writeManifest(other, Files.createDirectory(tmp.resolve("ref"))));
		assertEquals("1", result[0], result[1]);
		assertTrue(result[1].contains("MISMATCH") && result[1].contains("differs"), result[1]);
	}
}
