package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link EngineEnvironment} does before libtorch loads, seen from a fresh JVM started without the
 * variables (as Fiji's launcher starts one). libgomp itself reports its settings: with
 * {@code OMP_DISPLAY_ENV=VERBOSE} it prints {@code GOMP_SPINCOUNT}, 0 under the PASSIVE policy and
 * 300000 under the default one (its {@code OMP_WAIT_POLICY} line says PASSIVE in both cases, so the
 * spin count is the telling line). Each check has a control run through DJL's plain
 * {@code Engine.getEngine}, which shows that the assertion would fail without our preparation.
 */
@EnabledOnOs(OS.LINUX)
class EngineEnvironmentTest {

	record Run(String stdout, String stderr) {}

	private static Run probe(Path tmp, String mode, Map<String, String> env) throws IOException, InterruptedException {
		List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
			"-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true"));
		String cache = System.getProperty("DJL_CACHE_DIR");
		if (cache != null) cmd.add("-DDJL_CACHE_DIR=" + cache);
		cmd.add(EngineEnvironmentProbe.class.getName());
		cmd.add(mode);
		ProcessBuilder pb = new ProcessBuilder(cmd);
		Map<String, String> e = pb.environment();
		for (String name : List.of("OMP_WAIT_POLICY", "TORCH_CPP_LOG_LEVEL", "GLIBC_TUNABLES", "GOMP_SPINCOUNT", "OMP_DISPLAY_ENV"))
			e.remove(name);
		e.put("OMP_DISPLAY_ENV", "VERBOSE");
		e.putAll(env);
		Path out = tmp.resolve(mode + env.hashCode() + ".out"), err = tmp.resolve(mode + env.hashCode() + ".err");
		pb.redirectOutput(out.toFile()).redirectError(err.toFile());
		int rc = pb.start().waitFor();
		Run r = new Run(Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
		assertEquals(0, rc, "probe JVM failed: " + r.stderr);
		assertTrue(r.stdout.contains("sum=3.0"), r.stdout);
		return r;
	}

	@Test
	void passiveWaitPolicyReachesLibgompInAJvmStartedWithoutIt(@TempDir Path tmp) throws Exception {
		Run ours = probe(tmp, "ours", Map.of());
		assertTrue(ours.stderr.contains("GOMP_SPINCOUNT = '0'"), ours.stderr);
		Run plain = probe(tmp, "plain", Map.of());
		assertTrue(plain.stderr.contains("GOMP_SPINCOUNT = '300000'"), "control: libgomp's default spins\n" + plain.stderr);
	}

	@Test
	void aWaitPolicyTheUserSetIsKept(@TempDir Path tmp) throws Exception {
		Run active = probe(tmp, "ours", Map.of("OMP_WAIT_POLICY", "ACTIVE"));
		assertTrue(active.stderr.contains("OMP_WAIT_POLICY = 'ACTIVE'"), active.stderr);
		assertFalse(active.stderr.contains("GOMP_SPINCOUNT = '0'"), active.stderr);
	}

	@Test
	void deprecationWarningIsGoneAndWarningsStillShow(@TempDir Path tmp) throws Exception {
		Run ours = probe(tmp, "ours", Map.of());
		assertFalse(ours.stderr.contains("AutoNonVariableTypeMode"), ours.stderr);
		// c10's default level, WARNING (1): later warnings are not hidden
		assertTrue(ours.stdout.contains("c10_log_level=1"), ours.stdout);
		Run plain = probe(tmp, "plain", Map.of());
		assertTrue(plain.stderr.contains("AutoNonVariableTypeMode"), "control: DJL's plain start prints it\n" + plain.stderr);
	}

	@Test
	void torchCppLogLevelIsApplied(@TempDir Path tmp) throws Exception {
		Run error = probe(tmp, "ours", Map.of("TORCH_CPP_LOG_LEVEL", "ERROR"));
		assertTrue(error.stdout.contains("c10_log_level=2"), error.stdout);
	}

	@Test
	void allocatorIsTunedUnlessTheUserTunedIt(@TempDir Path tmp) throws Exception {
		assertTrue(probe(tmp, "ours", Map.of()).stdout.contains("malloc=kept in glibc heaps"));
		assertTrue(probe(tmp, "ours", Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")).stdout
			.contains("malloc=GLIBC_TUNABLES from the environment"));
	}

	@Test
	void freedMemoryStaysInTheHeapsUntilReleased(@TempDir Path tmp) throws Exception {
		Map<String, Long> kb = kilobytes(probe(tmp, "trim", Map.of()).stdout);
		// 128 MB were written and freed: kept (no page churn) until the end of a piece of work ...
		assertTrue(kb.get("rss_freed_kb") > kb.get("rss_held_kb") - 16 * 1024, kb.toString());
		// ... then handed back, as between the scans of a cohort
		assertTrue(kb.get("rss_trimmed_kb") < kb.get("rss_freed_kb") - 96 * 1024, kb.toString());
	}

	private static Map<String, Long> kilobytes(String stdout) {
		Map<String, Long> kb = new java.util.TreeMap<>();
		for (String line : stdout.split("\\R"))
			if (line.startsWith("rss_")) kb.put(line.substring(0, line.indexOf('=')), Long.parseLong(line.substring(line.indexOf('=') + 1).trim()));
		assertEquals(3, kb.size(), stdout);
		return kb;
	}
}
