package org.lungnodules;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates {@code ../shared} (weights, LUNA16 tables, PyTorch references). On a fresh clone without
 * it, tests that need it are skipped with a visible reason; under CI (CI=true) its absence fails.
 */
public final class SharedData {

	private SharedData() {}

	public static Path root() {
		String prop = System.getProperty("lung.shared.dir");
		Path p = prop != null ? Paths.get(prop) : Paths.get("..", "shared");
		return p.toAbsolutePath().normalize();
	}

	/** Returns the shared file, skipping the test (or failing under CI) if it is absent. */
	public static Path require(String relative) {
		Path p = root().resolve(relative);
		if (!Files.exists(p)) {
			String msg = "Shared test data missing: " + p;
			if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(msg + " (CI must have ../shared)");
			assumeTrue(false, msg);
		}
		return p;
	}
}
