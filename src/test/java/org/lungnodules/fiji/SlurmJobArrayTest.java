package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.analysis.CohortRun;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.DemoModels;
import org.lungnodules.nn.Devices;
import org.lungnodules.nn.Networks;

/**
 * {@code scripts/slurm/submit.sh} on a real SLURM: this test starts munged, slurmctld and slurmd on
 * localhost (one node, 2 CPUs, no cgroups) in a temporary folder, submits the job array over three
 * synthetic CTs plus a truncated one, waits for the dependent merge-and-evaluate job, checks the
 * merged candidates, failures.csv and FROC summary, submits again to see every task resume, and
 * stops the daemons it started by their PIDs.
 * <p>
 * It needs Debian's slurm-wlm and munge (installed here when missing and we are root with apt-get,
 * as {@code .ci/run} does). It skips only outside CI when they cannot be had; under CI=true it fails.
 */
class SlurmJobArrayTest {

	@RegisterExtension
	final TemporaryHome home = new TemporaryHome();

	@TempDir
	Path temp;

	private static final String[] DAEMONS = { "/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd" };
	private static final long WAIT_MINUTES = 15;

	private final List<Path> pidFiles = new ArrayList<>();
	private final Map<String, String> env = new LinkedHashMap<>();

	@Test
	void jobArrayAnalysesShardsCarriesOnPastABrokenScanMergesEvaluatesAndResumes() throws Exception {
		requireSlurm();
		Path scans = temp.resolve("scans");
		List<String> uids = PhantomDataset.write(scans, 41, 3, PhantomDataset.Options.defaults().withSize(40, 96, 96).withNodules(1, 2)
			.withDiameterRange(8, 16)).seriesUids();
		Path broken = scans.resolve("0-broken.mhd");
		MetaImage.writeVolume(broken, ChestPhantom.generate(42, 0, ChestPhantom.Options.defaults().withSize(40, 96, 96)).volume(), false);
		try (RandomAccessFile f = new RandomAccessFile(scans.resolve("0-broken.raw").toFile(), "rw")) {
			f.setLength(f.length() / 2);
		}
		Path annotations = scans.resolve(PhantomDataset.ANNOTATIONS);
		Path out = temp.resolve("out");
		try {
			startCluster();
			String[] jobs = submit(scans, out, annotations);
			String merge = waitFor(jobs[1]);
			assertEquals("COMPLETED", merge, "merge job; logs:\n" + logs(out));

			// failures.csv, merged from the shards: the truncated scan, at reading.
			List<String> failures = Files.readAllLines(out.resolve(CohortRun.FAILURES));
			assertEquals(CohortRun.FAILURES_HEADER, failures.get(0));
			assertEquals(2, failures.size(), failures.toString());
			assertTrue(failures.get(1).startsWith(broken + ",read,"), failures.toString());

			// The merged candidates: one header, then exactly the shards' rows, of the three good scans.
			List<String> merged = Files.readAllLines(out.resolve("candidates.csv"));
			assertEquals(CandidatesCsv.HEADER, merged.get(0));
			List<String> shardRows = new ArrayList<>();
			try (Stream<Path> files = Files.walk(out.resolve("shards"))) {
				for (Path p : (Iterable<Path>) files.sorted()::iterator)
					if (p.getFileName().toString().endsWith("_candidates.csv")) shardRows.addAll(Files.readAllLines(p).subList(1, Files.readAllLines(p).size()));
			}
			assertEquals(shardRows, merged.subList(1, merged.size()));
			Set<String> series = new HashSet<>();
			for (String row : merged.subList(1, merged.size())) series.add(row.substring(0, row.indexOf(',')));
			assertEquals(new HashSet<>(uids), series);
			// Task 1 of 2 had the broken scan and the second good one; task 2 the first and third.
			assertTrue(Files.exists(out.resolve("shards/1/" + uids.get(1) + "_candidates.csv")));
			assertTrue(Files.exists(out.resolve("shards/2/" + uids.get(0) + "_candidates.csv")));
			assertTrue(Files.exists(out.resolve("shards/2/" + uids.get(2) + "_candidates.csv")));

			// The FROC summary of ./luna evaluate: the three scans, every annotated nodule, every candidate.
			String summary = Files.readString(out.resolve("evaluation/summary.json"));
			int nodules = Files.readAllLines(annotations).size() - 1;
			assertEquals(3, jsonInt(summary, "scans"), summary);
			assertEquals(nodules, jsonInt(summary, "nodules"), summary);
			assertEquals(nodules, jsonInt(summary, "tp") + jsonInt(summary, "fn"), summary);
			assertEquals(merged.size() - 1, jsonInt(summary, "candidates"), summary);
			assertEquals(new HashSet<>(uids), new HashSet<>(Files.readAllLines(out.resolve("seriesuids.csv"))), "the analysed scans");

			// Submitted again (as a requeue runs a task again): every task skips its finished scans.
			String[] again = submit(scans, out, annotations);
			assertEquals("COMPLETED", waitFor(again[1]), "second merge job; logs:\n" + logs(out));
			String log1 = Files.readString(out.resolve("logs/analyze-" + again[0] + "_1.log"));
			String log2 = Files.readString(out.resolve("logs/analyze-" + again[0] + "_2.log"));
			assertTrue(log1.contains("2 scan(s): 0 analysed, 1 skipped (done before), 1 failed"), log1);
			assertTrue(log2.contains("2 scan(s): 0 analysed, 2 skipped (done before), 0 failed"), log2);
			assertEquals(merged, Files.readAllLines(out.resolve("candidates.csv")));
		}
		finally {
			stopCluster();
		}
	}

	/** The cluster's tools, installed when missing if we may; else a skip (or, under CI, a failure) with the reason. */
	private static void requireSlurm() throws Exception {
		boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
		boolean root = "root".equals(System.getProperty("user.name"));
		String missing = missing();
		if (missing != null && root && Files.isExecutable(Paths.get("/usr/bin/apt-get"))) {
			run(List.of("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge"), Map.of(), 20);
			missing = missing();
		}
		String reason = missing == null ? !root ? "the test runs slurmd, which needs root" : null
			: missing + " is not installed (apt-get install slurm-wlm munge; needs root and apt-get)";
		if (reason == null) return;
		if (ci) fail(reason);
		Assumptions.assumeTrue(false, reason);
	}

	private static String missing() {
		for (String d : DAEMONS)
			if (!Files.isExecutable(Paths.get(d))) return d;
		if (!Files.isExecutable(Paths.get("/usr/bin/sbatch"))) return "/usr/bin/sbatch";
		return null;
	}

	private void startCluster() throws Exception {
		Path dir = temp.resolve("slurm");
		Files.createDirectories(dir.resolve("state"));
		Files.createDirectories(dir.resolve("spool"));
		byte[] key = new byte[1024];
		new java.security.SecureRandom().nextBytes(key);
		Path keyFile = dir.resolve("munge.key");
		Files.write(keyFile, key);
		Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("r--------"));
		Path socket = dir.resolve("munge.socket");
		pidFiles.add(dir.resolve("munged.pid"));
		run(List.of(DAEMONS[0], "--key-file=" + keyFile, "--socket=" + socket, "--pid-file=" + dir.resolve("munged.pid"),
			"--log-file=" + dir.resolve("munged.log"), "--seed-file=" + dir.resolve("munge.seed"), "--force"), Map.of(), 1);

		String host = run(List.of("hostname", "-s"), Map.of(), 1).trim();
		int ctldPort = freePort(), slurmdPort = freePort();
		String conf = String.join("\n",
			"ClusterName=lunatest",
			"SlurmctldHost=" + host + "(127.0.0.1)",
			"SlurmUser=root",
			"SlurmdUser=root",
			"SlurmctldPort=" + ctldPort,
			"SlurmdPort=" + slurmdPort,
			"AuthType=auth/munge",
			"CredType=cred/munge",
			"AuthInfo=socket=" + socket,
			"StateSaveLocation=" + dir.resolve("state"),
			"SlurmdSpoolDir=" + dir.resolve("spool"),
			"SlurmctldPidFile=" + dir.resolve("slurmctld.pid"),
			"SlurmdPidFile=" + dir.resolve("slurmd.pid"),
			"SlurmctldLogFile=" + dir.resolve("slurmctld.log"),
			"SlurmdLogFile=" + dir.resolve("slurmd.log"),
			// No cgroups: process tracking by /proc, no task binding.
			"ProctrackType=proctrack/linuxproc",
			"TaskPlugin=task/none",
			"JobAcctGatherType=jobacct_gather/none",
			"AccountingStorageType=accounting_storage/none",
			"SchedulerType=sched/builtin",
			"SelectType=select/cons_tres",
			"SelectTypeParameters=CR_CPU",
			"MpiDefault=none",
			"ReturnToService=2",
			"NodeName=" + host + " NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN",
			"PartitionName=test Nodes=" + host + " Default=YES MaxTime=INFINITE State=UP", "");
		Path confFile = dir.resolve("slurm.conf");
		Files.writeString(confFile, conf);
		env.put("SLURM_CONF", confFile.toString());
		pidFiles.add(dir.resolve("slurmctld.pid"));
		run(List.of(DAEMONS[1], "-i"), env, 1);
		pidFiles.add(dir.resolve("slurmd.pid"));
		run(List.of(DAEMONS[2], "-N", host), env, 1);
		// Ready when the node is idle; both daemons log why they could not start.
		for (int i = 0; i < 120; i++) {
			String state = run(List.of("sinfo", "-h", "-o", "%t"), env, 1).trim();
			if (state.equals("idle")) return;
			Thread.sleep(500);
		}
		fail("the node never became idle:\n" + tail(dir.resolve("slurmctld.log")) + "\n" + tail(dir.resolve("slurmd.log")));
	}

	/** Stops the daemons this test started, by the PIDs they wrote, slurmd first. */
	private void stopCluster() throws Exception {
		for (int i = pidFiles.size() - 1; i >= 0; i--) {
			Path pidFile = pidFiles.get(i);
			if (!Files.isRegularFile(pidFile)) continue;
			long pid = Long.parseLong(Files.readString(pidFile).trim());
			ProcessHandle.of(pid).ifPresent(p -> {
				p.destroy(); // SIGTERM: each daemon shuts down cleanly
				try {
					p.onExit().get(30, TimeUnit.SECONDS);
				}
				catch (Exception e) {
					p.destroyForcibly();
				}
			});
		}
	}

	private String[] submit(Path scans, Path out, Path annotations) throws Exception {
		// The tasks run ./luna; during the build the jar is not made yet, so a wrapper runs the same entry point on our classpath.
		Path luna = temp.resolve("luna");
		if (!Files.exists(luna)) {
			Files.writeString(luna, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' -Xmx1g " +
				"-Djava.awt.headless=true -Dai.djl.offline=true '-D" + Devices.HOME_PROPERTY + "=" + home.folder() + "' " +
				"-cp '" + System.getProperty("java.class.path") + "' " + LunaCli.class.getName() + " \"$@\"\n");
			Files.setPosixFilePermissions(luna, PosixFilePermissions.fromString("rwxr-xr-x"));
		}
		Map<String, String> e = new LinkedHashMap<>(env);
		e.put("LUNA", luna.toString());
		e.put("LUNA_ARGS", "device=cpu seg_model=" + DemoModels.path(Networks.Kind.SEG) + " cls_model=" + DemoModels.path(Networks.Kind.CLS));
		e.put("LUNA_ANNOTATIONS", annotations.toString());
		e.put("LUNA_EVALUATE_ARGS", "bootstrap=0");
		e.put("OMP_NUM_THREADS", "1");
		String ids = run(List.of(Paths.get("scripts/slurm/submit.sh").toAbsolutePath().toString(), scans.toString(), out.toString(), "2",
			"--cpus-per-task=1"), e, 1).trim();
		String[] jobs = ids.split("\\s+");
		assertEquals(2, jobs.length, "submit.sh prints the array's and the merge job's IDs: " + ids);
		return jobs;
	}

	/** Waits (bounded) until the job has ended, or can never start; returns its state. */
	private String waitFor(String job) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(WAIT_MINUTES);
		String line = "";
		while (System.nanoTime() < deadline) {
			line = run(List.of("scontrol", "-o", "show", "job", job), env, 1);
			Matcher state = Pattern.compile("JobState=(\\S+)").matcher(line);
			if (!state.find()) fail("no state for job " + job + ": " + line);
			String s = state.group(1);
			if (!s.equals("PENDING") && !s.equals("RUNNING") && !s.equals("CONFIGURING") && !s.equals("COMPLETING")) return s;
			if (line.contains("Reason=DependencyNeverSatisfied")) return "NEVER STARTED (an array task failed)";
			Thread.sleep(1000);
		}
		run(List.of("scancel", job), env, 1);
		fail("job " + job + " did not end within " + WAIT_MINUTES + " minutes: " + line);
		return null;
	}

	private static int jsonInt(String json, String key) {
		Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*(\\d+)").matcher(json);
		if (!m.find()) fail("no \"" + key + "\" in " + json);
		return Integer.parseInt(m.group(1));
	}

	private static String logs(Path out) throws IOException {
		StringBuilder sb = new StringBuilder();
		Path dir = out.resolve("logs");
		if (!Files.isDirectory(dir)) return "(no logs)";
		try (Stream<Path> files = Files.list(dir)) {
			for (Path p : (Iterable<Path>) files.sorted()::iterator) sb.append("== ").append(p.getFileName()).append('\n').append(tail(p));
		}
		return sb.toString();
	}

	private static String tail(Path file) throws IOException {
		if (!Files.exists(file)) return "(no " + file + ")\n";
		List<String> lines = Files.readAllLines(file);
		return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())) + "\n";
	}

	private static int freePort() throws IOException {
		try (ServerSocket s = new ServerSocket(0)) {
			return s.getLocalPort();
		}
	}

	/** Runs a command to its end (bounded), failing with its output when it fails. */
	private static String run(List<String> command, Map<String, String> env, int minutes) throws Exception {
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
		pb.environment().putAll(env);
		Path log = Files.createTempFile("slurm-test", ".log");
		try {
			pb.redirectOutput(log.toFile());
			Process p = pb.start();
			if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
				p.destroyForcibly();
				fail(String.join(" ", command) + " did not finish within " + minutes + " minute(s)");
			}
			String output = Files.readString(log, StandardCharsets.UTF_8);
			if (p.exitValue() != 0) fail(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + output);
			return output;
		}
		finally {
			Files.deleteIfExists(log);
		}
	}
}
