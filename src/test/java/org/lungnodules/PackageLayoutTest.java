package org.lungnodules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The package layout of issue #20, read from the sources: the engine imports only packages below it in the data
 * flow, no engine package imports the benchmarks, and the update-site builder is not compiled into the plugin.
 */
class PackageLayoutTest {

	private static final Path MAIN = Paths.get("src", "main", "java", "org", "lungnodules");

	/** What each engine package may import of ours (besides itself). */
	private static final Map<String, Set<String>> ALLOWED = Map.of(
		"ct", Set.of(),
		"io", Set.of("ct"),
		"nn", Set.of("ct", "io"),
		"analysis", Set.of("ct", "io", "nn"),
		"training", Set.of("ct", "io", "nn", "analysis"));

	private static final Pattern OUR_IMPORT = Pattern.compile("^import (?:static )?org\\.lungnodules\\.(\\w+)\\.", Pattern.MULTILINE);

	@Test
	void enginePackagesImportOnlyWhatLiesBelowThem() throws IOException {
		List<String> violations = new ArrayList<>();
		for (Map.Entry<String, Set<String>> e : ALLOWED.entrySet()) {
			Path dir = MAIN.resolve(e.getKey());
			assertTrue(Files.isDirectory(dir), dir + " missing: run the tests from the project folder");
			try (Stream<Path> files = Files.walk(dir)) {
				for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
					Matcher m = OUR_IMPORT.matcher(Files.readString(f));
					while (m.find()) {
						String pkg = m.group(1);
						if (!pkg.equals(e.getKey()) && !e.getValue().contains(pkg)) violations.add(MAIN.relativize(f) + " imports " + pkg);
					}
				}
			}
		}
		assertEquals(List.of(), violations);
	}

	@Test
	void benchmarksAndChecksLiveOnlyInTheBenchPackage() throws IOException {
		List<String> misplaced = new ArrayList<>();
		try (Stream<Path> files = Files.walk(MAIN)) {
			files.filter(p -> p.getFileName().toString().matches(".*(Benchmark|Check)\\.java"))
				.filter(p -> !p.getParent().getFileName().toString().equals("bench"))
				.forEach(p -> misplaced.add(MAIN.relativize(p).toString()));
		}
		assertEquals(List.of(), misplaced);
	}

	@Test
	void updateSiteBuilderIsBuildToolingNotPluginCode() {
		assertFalse(Files.exists(MAIN.resolve("fiji").resolve("UpdateSiteBuilder.java")));
		assertTrue(Files.isRegularFile(Paths.get("src", "build", "java", "org", "lungnodules", "updatesite", "UpdateSiteBuilder.java")));
		// What the plugin jar is made of: the main classes folder this test JVM runs with.
		Path classes = Paths.get("target", "classes", "org", "lungnodules");
		assertTrue(Files.isDirectory(classes), classes + " missing");
		assertFalse(Files.exists(classes.resolve("updatesite")), "update-site builder classes in " + classes);
	}
}
