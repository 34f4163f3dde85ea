package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lungnodules.io.CheckpointTestSupport.floatTensor;
import static org.lungnodules.io.CheckpointTestSupport.legacy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.io.CheckpointTestSupport.PickleBytes;

/** Malicious, truncated and garbage inputs must end in a CheckpointException naming file and problem. */
class TorchCheckpointHostileTest {

	@TempDir
	Path tmp;

	private Path zipWith(String name, byte[] pickle, Map<String, byte[]> more) throws IOException {
		Map<String, byte[]> entries = new LinkedHashMap<>();
		entries.put("archive/data.pkl", pickle);
		entries.putAll(more);
		Path file = tmp.resolve(name);
		CheckpointTestSupport.writeZip(file, entries);
		return file;
	}

	private Path fileWith(String name, byte[] bytes) throws IOException {
		Path file = tmp.resolve(name);
		Files.write(file, bytes);
		return file;
	}

	private static CheckpointException refused(Path file, String... expectedInMessage) {
		CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(file));
		assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
		for (String s : expectedInMessage) assertTrue(e.getMessage().contains(s), "'" + s + "' missing in: " + e.getMessage());
		return e;
	}

	@Test
	void codeExecutionGlobalsAreRefusedAndNothingRuns() throws IOException {
		Path marker = tmp.resolve("pwned");
		// os.system("touch <marker>"): what a malicious pickle does with a real unpickler
		byte[] osSystem = new PickleBytes().proto2().global("os", "system").str("touch " + marker).op(0x85).op('R').op('.').bytes();
		refused(zipWith("os.pt", osSystem, Map.of()), "refused global os.system");
		refused(fileWith("os.state", legacy(osSystem, new byte[0])), "refused global os.system");

		byte[] eval = new PickleBytes().proto2().global("__builtin__", "eval").str("__import__('os').system('touch " + marker + "')")
			.op(0x85).op('R').op('.').bytes();
		refused(zipWith("eval.pt", eval, Map.of()), "refused global __builtin__.eval");

		// protocol 4 spelling: STACK_GLOBAL of posix.system
		byte[] stackGlobal = new PickleBytes().op(0x80, 4).str("posix").str("system").op(0x93).str("id").op(0x85).op('R').op('.').bytes();
		refused(zipWith("posix.pt", stackGlobal, Map.of()), "refused global posix.system");
		assertFalse(Files.exists(marker), "nothing was executed");
	}

	@Test
	void objectCreatingOpcodesAndMisuseOfAllowedGlobalsAreRefused() throws IOException {
		// INST, OBJ and NEWOBJ build arbitrary objects
		refused(zipWith("inst.pt", new PickleBytes().proto2().op('(').op('i').op("os\nsystem\n".chars().toArray()).op('.').bytes()),
			"INST");
		refused(zipWith("obj.pt", new PickleBytes().proto2().op('(').global("collections", "OrderedDict").op('o').op('.').bytes()), "OBJ");
		refused(zipWith("newobj.pt", new PickleBytes().proto2().global("collections", "OrderedDict").op(')').op(0x81).op('.').bytes()),
			"NEWOBJ");
		// BUILD on a plain dict (would set attributes / call __setstate__ in Python)
		refused(zipWith("build.pt", new PickleBytes().proto2().op('}').op('}').op('b').op('.').bytes()), "BUILD");
		// REDUCE of something that is not an allowed global
		refused(zipWith("reduce.pt", new PickleBytes().proto2().str("x").op(')').op('R').op('.').bytes()), "REDUCE");
		// Storage type called directly
		refused(zipWith("storage.pt", new PickleBytes().proto2().global("torch", "FloatStorage").op(')').op('R').op('.').bytes()),
			"REDUCE of torch.FloatStorage");
		// persistent id that is not a storage
		refused(zipWith("pid.pt", new PickleBytes().proto2().str("module").op(0x85).op('Q').op('.').bytes()), "'storage'");
	}

	private Path zipWith(String name, byte[] pickle) throws IOException {
		return zipWith(name, pickle, Map.of());
	}

	@Test
	void truncatedRealFilesFailCleanly() throws IOException {
		for (String name : new String[] { TorchCheckpointTest.CLS_LEGACY, TorchCheckpointTest.CLS_ZIP, TorchCheckpointTest.SEG_ZIP }) {
			byte[] all = Files.readAllBytes(SharedData.require(name));
			for (int cut : new int[] { 1, 3, 10, 20, 100, 140, 1000, 3000, 3959, 5000, all.length / 2, all.length - 100, all.length - 1 }) {
				Path file = fileWith("cut-" + cut + "-" + Path.of(name).getFileName(), Arrays.copyOf(all, cut));
				refused(file);
			}
		}
	}

	@Test
	void hugeDeclaredSizesFailBeforeAllocating() throws IOException {
		// BINUNICODE claiming 4 GB
		refused(zipWith("str.pt", new PickleBytes().proto2().op('X', 0xff, 0xff, 0xff, 0xff).op('.').bytes()), "exceeds");
		// BINBYTES8 claiming 2^62 bytes
		refused(zipWith("bytes8.pt", new PickleBytes().op(0x80, 4).op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40).op('.').bytes()), "exceeds");
		// a storage of 2^40 floats whose entry is 8 bytes
		byte[] pkl = floatTensor(new PickleBytes().proto2(), "0", 1L << 40, 2).op('.').bytes();
		refused(zipWith("numel.pt", pkl, Map.of("archive/data/0", new byte[8])), "archive/data/0");
		// a storage count of 2^60 in a legacy file
		ByteArrayOutputStream tail = new ByteArrayOutputStream();
		tail.writeBytes(new PickleBytes().proto2().op(']').op('(').str("0").op('e').op('.').bytes());
		tail.writeBytes(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x10 });
		refused(fileWith("count.state", legacy(floatTensor(new PickleBytes().proto2(), "0", 1L << 60, 2).op('.').bytes(), tail.toByteArray())),
			"storage '0'");
		// a tensor view larger than its storage
		byte[] view = floatTensor(new PickleBytes().proto2(), "0", 2, 3).op('.').bytes();
		refused(zipWith("view.pt", view, Map.of("archive/data/0", new byte[8])), "does not fit its storage");
	}

	@Test
	void shortDataEntryAndZipBombAreRefused() throws IOException {
		byte[] pkl = floatTensor(new PickleBytes().proto2(), "0", 100, 100).op('.').bytes();
		refused(zipWith("short.pt", pkl, Map.of("archive/data/0", new byte[40])), "holds 40 bytes", "need 400");
		// 64 MB of zeros deflate to ~64 KB; the pickle claims 10 floats
		byte[] tiny = floatTensor(new PickleBytes().proto2(), "0", 10, 10).op('.').bytes();
		refused(zipWith("bomb.pt", tiny, Map.of("archive/data/0", new byte[64 << 20])), "archive/data/0");
		// and a missing storage entry
		refused(zipWith("missing.pt", tiny, Map.of()), "missing");
	}

	@Test
	void garbageFailsCleanly() throws IOException {
		Random random = new Random(42);
		for (int size : new int[] { 0, 1, 5, 100, 10_000, 1 << 20 }) {
			byte[] junk = new byte[size];
			random.nextBytes(junk);
			refused(fileWith("junk-" + size, junk));
			if (size >= 4) {
				junk[0] = 'P'; junk[1] = 'K'; junk[2] = 3; junk[3] = 4; // pretends to be a zip
				refused(fileWith("junk-zip-" + size, junk));
			}
			// a valid legacy header followed by random opcodes
			refused(fileWith("junk-legacy-" + size, legacy(junk, new byte[0])));
			// random bytes as data.pkl
			refused(zipWith("junk-pkl-" + size + ".pt", junk));
		}
		refused(fileWith("text.pt", "hello, I am not a checkpoint\n".getBytes()), "not a PyTorch checkpoint");
	}
}
