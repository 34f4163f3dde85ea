package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.io.Tensor;
import org.lungnodules.io.TorchCheckpoint;

/**
 * {@code resume=true} after a real kill: {@code ./luna train-cls} runs in its own JVM, gets SIGKILL in
 * the middle of its second epoch (no shutdown hook, no chance to tidy up), and a resumed run must end
 * with exactly the weights of a run that was never interrupted. This is what a GPU server's job
 * scheduler does to long runs; the in-process cancel case is in TrainingLoopTest.
 */
class TrainingKillTest {

	@TempDir
	Path temp;

	/** A line of progress of the second epoch's training with at least one batch done, not the last. */
	private static final Pattern SECOND_EPOCH = Pattern.compile("E2 Training (\\d+)/(\\d+)");

	private Process start(Path log, String... args) throws Exception {
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
			"-Xmx1g", "-Djava.awt.headless=true", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
			LunaCli.class.getName()));
		command.addAll(List.of(args));
		ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(log.toFile());
		pb.environment().put("OMP_NUM_THREADS", "1");
		return pb.start();
	}

	private String[] args(Path data, Path runs, String name, String... more) {
		List<String> a = new ArrayList<>(List.of("train-cls", "data=" + data, "output=" + runs, "name=" + name, "epochs=2", "epoch_size=256",
			"batch_size=8", "val_stride=3", "val_samples=16", "val_every=1", "device=cpu", "threads=1", "workers=1", "seed=5"));
		a.addAll(List.of(more));
		return a.toArray(String[]::new);
	}

	private static String finish(Process p) throws Exception {
		String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!p.waitFor(10, TimeUnit.MINUTES)) {
			p.destroyForcibly();
			fail("training process did not finish:\n" + err);
		}
		assertEquals(0, p.exitValue(), err);
		return err;
	}

	@Test
	void aRunKilledMidEpochResumesToTheWeightsOfAnUninterruptedRun() throws Exception {
		Path data = temp.resolve("data"), runs = temp.resolve("runs");
		PhantomDataset.write(data, 24, 4, PhantomDataset.Options.defaults().withSize(40, 128, 128).withSpacing(1.4, 1.4, 2.0).withNodules(3, 5)
			.withDiameterRange(6, 24));

		finish(start(temp.resolve("straight.log"), args(data, runs, "straight")));

		Process victim = start(temp.resolve("killed.log"), args(data, runs, "killed"));
		StringBuilder seen = new StringBuilder();
		boolean killed = false;
		try (BufferedReader err = new BufferedReader(new InputStreamReader(victim.getErrorStream(), StandardCharsets.UTF_8))) {
			for (String line; (line = err.readLine()) != null; ) {
				seen.append(line).append('\n');
				Matcher m = SECOND_EPOCH.matcher(line);
				if (m.find() && Integer.parseInt(m.group(1)) >= 1 && Integer.parseInt(m.group(1)) < Integer.parseInt(m.group(2))) {
					victim.destroyForcibly(); // SIGKILL
					killed = true;
					break;
				}
			}
		}
		assertTrue(victim.waitFor(1, TimeUnit.MINUTES), "killed process still running");
		assertTrue(killed, "never saw the second epoch's progress:\n" + seen);
		assertTrue(victim.exitValue() != 0, "the process ended on its own");

		Path killedRun = runs.resolve("killed");
		// The checkpoint on disk is the whole first epoch's, readable, with no temp file left to confuse a resume.
		Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(killedRun.resolve("last.pt")).root();
		assertEquals(1L, ((Number) root.get("epoch")).longValue());

		finish(start(temp.resolve("resumed.log"), args(data, runs, "killed", "resume=true")));

		Map<String, Tensor> straight = TorchCheckpoint.read(runs.resolve("straight/last.pt")).stateDict();
		Map<String, Tensor> resumed = TorchCheckpoint.read(killedRun.resolve("last.pt")).stateDict();
		assertEquals(straight.keySet(), resumed.keySet());
		for (String key : straight.keySet())
			assertEquals(straight.get(key).data(), resumed.get(key).data(), key + " differs from the uninterrupted run's");
		assertEquals(2L, ((Number) ((Map<?, ?>) TorchCheckpoint.read(killedRun.resolve("last.pt")).root()).get("epoch")).longValue());
		assertEquals(Files.readAllLines(runs.resolve("straight/metrics.csv")).size(), Files.readAllLines(killedRun.resolve("metrics.csv")).size(),
			"metrics.csv: one row per epoch and split, none repeated");
		try (var files = Files.list(killedRun)) {
			assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "a temp file was left in " + killedRun);
		}
	}
}
