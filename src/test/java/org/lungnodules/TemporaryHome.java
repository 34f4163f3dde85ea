package org.lungnodules;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.lungnodules.nn.Devices;

/**
 * Points {@value Devices#HOME_PROPERTY} at a new temporary folder holding an empty {@code models}
 * folder, and afterwards puts the old value back and deletes the folder. Tests that reach the
 * models folder (the demo weights are copied there) must never touch the user's own.
 * <p>
 * Registered on a static field ({@code @RegisterExtension static TemporaryHome home = ...}) one
 * folder serves the whole class; on an instance field each test gets its own.
 */
public final class TemporaryHome implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

	private Path folder;
	private String previous;
	private boolean wholeClass;

	/** The temporary home; valid while the class or test runs. */
	public Path folder() {
		if (folder == null) throw new IllegalStateException("TemporaryHome is used outside the test it was registered for");
		return folder;
	}

	@Override
	public void beforeAll(ExtensionContext context) throws IOException {
		wholeClass = true;
		enter();
	}

	@Override
	public void afterAll(ExtensionContext context) throws IOException {
		leave();
	}

	@Override
	public void beforeEach(ExtensionContext context) throws IOException {
		if (!wholeClass) enter();
	}

	@Override
	public void afterEach(ExtensionContext context) throws IOException {
		if (!wholeClass) leave();
	}

	private void enter() throws IOException {
		folder = Files.createTempDirectory("lung-nodules-home");
		Files.createDirectories(folder.resolve("models"));
		previous = System.getProperty(Devices.HOME_PROPERTY);
		System.setProperty(Devices.HOME_PROPERTY, folder.toString());
	}

	private void leave() throws IOException {
		if (previous == null) System.clearProperty(Devices.HOME_PROPERTY);
		else System.setProperty(Devices.HOME_PROPERTY, previous);
		try (Stream<Path> all = Files.walk(folder)) {
			all.sorted(Comparator.reverseOrder()).forEach(p -> {
				try {
					Files.delete(p);
				} catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			});
		}
		folder = null;
	}
}
