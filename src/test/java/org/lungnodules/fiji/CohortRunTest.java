package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CohortRun;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.fiji.LunaCliTest.Outcome;
import org.lungnodules.io.MetaImage;
import org.lungnodules.nn.DemoModels;
import org.lungnodules.nn.Networks;

/**
 * A folder of three small synthetic CTs plus one truncated scan, through {@code ./luna analyze}:
 * the broken scan is recorded and the others analysed (exit 3), a rerun skips what is done,
 * {@code overwrite=true} redoes it, and a run killed with SIGKILL resumes to the files of a run that
 * was never interrupted.
 */
class CohortRunTest {

	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();

	@TempDir
	static Path temp;

	static Path scans, seg, cls;
	static List<String> uids;
	static final String BROKEN = "0-broken"; // sorts first: every good scan comes after the failure

	@BeforeAll
	static void cohort() throws Exception {
		scans = temp.resolve("scans");
		uids = PhantomDataset.write(scans, 31, 3, PhantomDataset.Options.defaults().withSize(40, 96, 96).withNodules(1, 2)
			.withDiameterRange(8, 16)).seriesUids();
		// A real scan cut short, as an interrupted copy leaves it: the header promises more voxels than the data holds.
		Path broken = scans.resolve(BROKEN + ".mhd");
		MetaImage.writeVolume(broken, ChestPhantom.generate(32, 0, ChestPhantom.Options.defaults().withSize(40, 96, 96)).volume(), false);
		Path raw = scans.resolve(BROKEN + ".raw");
		try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
			f.setLength(f.length() / 2);
		}
		seg = DemoModels.path(Networks.Kind.SEG);
		cls = DemoModels.path(Networks.Kind.CLS);
	}

	private static String[] analyze(Path out, String... more) {
		List<String> a = new ArrayList<>(List.of("analyze", "input=" + scans, "output=" + out, "seg_model=" + seg, "cls_model=" + cls,
			"device=cpu"));
		a.addAll(List.of(more));
		return a.toArray(String[]::new);
	}

	@Test
	void brokenScanIsRecordedResumeSkipsAndOverwriteRedoes() throws Exception {
		Path out = temp.resolve("cohort");
		Outcome first = LunaCliTest.luna(analyze(out));
		assertEquals(LunaCli.SOME_FAILED, first.code(), first.err());
		assertTrue(first.err().contains("1 of 4 scan(s) failed"), first.err());
		assertTrue(first.out().contains("4 scan(s): 3 analysed, 0 skipped (done before), 1 failed"), first.out());
		for (int k = 1; k <= 4; k++) assertTrue(first.err().contains("Scan " + k + " of 4 "), "a line per scan:\n" + first.err());
		assertTrue(first.err().contains("Scan 1 of 4 FAILED to read: " + BROKEN + ".mhd: "), "the log names the broken file:\n" + first.err());

		List<String> failures = Files.readAllLines(out.resolve(CohortRun.FAILURES));
		assertEquals(CohortRun.FAILURES_HEADER, failures.get(0));
		assertEquals(2, failures.size(), failures.toString());
		assertTrue(failures.get(1).startsWith(scans.resolve(BROKEN + ".mhd") + ",read,"), failures.toString());
		assertTrue(failures.get(1).contains(BROKEN + ".raw"), "the error names the short data file: " + failures);

		// A scan's candidates are those of analysing it alone, the single-file route.
		Path alone = temp.resolve("alone");
		String uid1 = uids.get(1);
		Outcome one = LunaCliTest.luna("analyze", "input=" + scans.resolve(uid1 + ".mhd"), "output=" + alone, "seg_model=" + seg,
			"cls_model=" + cls, "device=cpu");
		assertEquals(0, one.code(), one.err());
		assertEquals(Files.readString(alone.resolve(uid1 + "_candidates.csv")), Files.readString(out.resolve(uid1 + "_candidates.csv")));
		List<Map<String, String>> summary = readCsv(out.resolve(CohortRun.SUMMARY));
		assertEquals(4, summary.size(), summary.toString());
		assertEquals(BROKEN, summary.get(0).get("series"));
		assertTrue(summary.get(0).get("status").startsWith("failed (read)"), summary.toString());
		for (int i = 0; i < 3; i++) {
			Map<String, String> row = summary.get(i + 1);
			assertEquals(uids.get(i), row.get("series"));
			assertEquals("ok", row.get("status"));
			assertEquals(Files.readAllLines(out.resolve(uids.get(i) + "_candidates.csv")).size() - 1, Integer.parseInt(row.get("candidates")));
			assertEquals(64 + 1 + 64, row.get("models_sha256").length(), "two SHA-256 digests: " + row);
			assertTrue(row.get("device").startsWith("cpu"), row.toString());
		}

		// Resume: nothing done is touched, the broken scan is tried again.
		FileTime old = FileTime.fromMillis(1_000_000_000_000L);
		for (String uid : uids) Files.setLastModifiedTime(out.resolve(uid + "_candidates.csv"), old);
		Outcome again = LunaCliTest.luna(analyze(out));
		assertEquals(LunaCli.SOME_FAILED, again.code(), again.err());
		assertTrue(again.out().contains("4 scan(s): 0 analysed, 3 skipped (done before), 1 failed"), again.out());
		for (String uid : uids) assertEquals(old, Files.getLastModifiedTime(out.resolve(uid + "_candidates.csv")), uid + " was rewritten");
		List<Map<String, String>> summary2 = readCsv(out.resolve(CohortRun.SUMMARY));
		assertEquals(8, summary2.size(), "each run appends its rows: " + summary2);
		for (int i = 5; i < 8; i++) assertEquals("skipped (done before)", summary2.get(i).get("status"));
		assertEquals(summary.get(1).get("candidates"), summary2.get(5).get("candidates"), "a skipped scan's counts come from its marker");

		// A done marker whose candidates file was deleted is not done.
		Files.delete(out.resolve(uids.get(1) + "_candidates.csv"));
		Outcome repair = LunaCliTest.luna(analyze(out));
		assertTrue(repair.out().contains("4 scan(s): 1 analysed, 2 skipped (done before), 1 failed"), repair.out());
		assertTrue(Files.exists(out.resolve(uids.get(1) + "_candidates.csv")));

		// overwrite=true redoes every scan.
		Outcome redo = LunaCliTest.luna(analyze(out, "overwrite=true"));
		assertEquals(LunaCli.SOME_FAILED, redo.code(), redo.err());
		assertTrue(redo.out().contains("4 scan(s): 3 analysed, 0 skipped (done before), 1 failed"), redo.out());
		for (String uid : uids) assertNotEquals(old, Files.getLastModifiedTime(out.resolve(uid + "_candidates.csv")), uid + " was not redone");

		// Without the broken scan (the good one is done, so skipped) the run exits 0, and failures.csv is emptied.
		Path good = temp.resolve("good");
		Files.createDirectories(good);
		for (String ext : new String[] { ".mhd", ".raw" }) Files.copy(scans.resolve(uid1 + ext), good.resolve(uid1 + ext));
		Outcome clean = LunaCliTest.luna("analyze", "input=" + good, "output=" + out, "seg_model=" + seg, "cls_model=" + cls, "device=cpu");
		assertEquals(0, clean.code(), clean.err());
		assertEquals(List.of(CohortRun.FAILURES_HEADER), Files.readAllLines(out.resolve(CohortRun.FAILURES)));
	}

	private Process start(Path out, Path log) throws IOException {
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
			"-Xmx1g", "-Djava.awt.headless=true", "-Dai.djl.offline=true", "-D" + org.lungnodules.nn.Devices.HOME_PROPERTY + "=" + home.folder(),
			"-cp", System.getProperty("java.class.path"), LunaCli.class.getName()));
		command.addAll(List.of(analyze(out)));
		ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(log.toFile());
		pb.environment().put("OMP_NUM_THREADS", "1");
		return pb.start();
	}

	private static void finish(Process p) throws Exception {
		String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!p.waitFor(10, TimeUnit.MINUTES)) {
			p.destroyForcibly();
			fail("analysis did not finish:\n" + err);
		}
		assertEquals(LunaCli.SOME_FAILED, p.exitValue(), err);
	}

	@Test
	void aKilledRunResumesToTheFilesOfAnUninterruptedRun() throws Exception {
		Path straight = temp.resolve("straight"), killed = temp.resolve("killed");
		finish(start(straight, temp.resolve("straight.log")));

		Process victim = start(killed, temp.resolve("killed.log"));
		StringBuilder seen = new StringBuilder();
		boolean done = false;
		try (BufferedReader err = new BufferedReader(new InputStreamReader(victim.getErrorStream(), StandardCharsets.UTF_8))) {
			for (String line; (line = err.readLine()) != null; ) {
				seen.append(line).append('\n');
				// The first good scan is done; the second is being read or analysed.
				if (line.startsWith("Scan 2 of 4 analysed")) {
					victim.destroyForcibly(); // SIGKILL
					done = true;
					break;
				}
			}
		}
		assertTrue(victim.waitFor(1, TimeUnit.MINUTES), "killed process still running");
		assertTrue(done, "never saw the second scan finish:\n" + seen);
		assertNotEquals(LunaCli.SOME_FAILED, victim.exitValue(), "the process ended on its own");
		assertTrue(Files.exists(killed.resolve(uids.get(0) + "_candidates.csv")));
		assertFalse(Files.exists(killed.resolve(CohortRun.DONE_FOLDER).resolve(uids.get(2) + ".done")), "the kill came too late to test resuming");

		finish(start(killed, temp.resolve("resumed.log")));
		assertEquals(results(straight), results(killed));
		try (Stream<Path> files = Files.walk(killed)) {
			assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "a temp file was left in " + killed);
		}
	}

	/** The candidates files and failures.csv by name, and the names of the done markers. */
	private static Map<String, String> results(Path out) throws IOException {
		Map<String, String> all = new TreeMap<>();
		try (Stream<Path> files = Files.list(out)) {
			for (Path p : (Iterable<Path>) files::iterator) {
				String name = p.getFileName().toString();
				if (name.endsWith("_candidates.csv") || name.equals(CohortRun.FAILURES)) all.put(name, Files.readString(p));
			}
		}
		try (Stream<Path> markers = Files.list(out.resolve(CohortRun.DONE_FOLDER))) {
			for (Path p : (Iterable<Path>) markers::iterator) all.put("done/" + p.getFileName(), "");
		}
		assertEquals(3 + 1 + 3, all.size(), all.keySet().toString());
		return all;
	}

	static List<Map<String, String>> readCsv(Path file) throws IOException {
		List<Map<String, String>> rows = new ArrayList<>();
		try (var parser = org.apache.commons.csv.CSVParser.builder().setPath(file).setCharset(StandardCharsets.UTF_8)
			.setFormat(org.apache.commons.csv.CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()).get()) {
			for (var rec : parser) rows.add(rec.toMap());
		}
		return rows;
	}
}
