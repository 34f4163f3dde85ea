package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.PhantomDataset;
import org.scijava.Context;
import org.scijava.module.Module;

/** prepare-cache through the same key=value front door as ./luna and macros. */
class PrepareCacheCommandTest {

	@Test
	void preparesThenSkips(@TempDir Path tmp) throws Exception {
		Path data = tmp.resolve("data"), cache = tmp.resolve("cache");
		PhantomDataset.write(data, 7, 2, PhantomDataset.Options.defaults().withPhantom(ChestPhantom.Options.defaults()
			.withSize(36, 96, 96).withSpacing(2, 2, 2.5).withNodules(1, 1).withDiameterRange(8, 12).withSolidOnly(true)
			.withCandidatesPerCt(10)));
		try (Context context = new Context()) {
			CommandRunner runner = new CommandRunner(context);
			Map<String, String> args = Map.of("data", data.toString(), "cache", cache.toString(), "kind", "mal");
			Module first = runner.run("prepare-cache", args, null);
			String result = (String) first.getOutput("result");
			assertTrue(result.contains("2 CT(s) written"), result);
			try (var files = Files.list(cache)) {
				assertEquals(2, files.filter(p -> p.toString().endsWith(".chunks")).count());
			}
			String again = (String) runner.run("prepare-cache", args, null).getOutput("result");
			assertTrue(again.contains("0 CT(s) written") && again.contains("2 already complete"), again);
		}
	}
}
