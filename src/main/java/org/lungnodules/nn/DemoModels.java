package org.lungnodules.nn;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.lungnodules.io.AtomicFiles;

/**
 * The small demo models shipped inside the jar, so that {@code ./luna demo} works offline on a fresh
 * machine. They were trained on synthetic CTs only (see the README) and are not for real scans.
 * <p>
 * A network needs a file path, so each is copied once out of the jar into the models folder.
 */
public final class DemoModels {

	private DemoModels() {}

	static String resource(Networks.Kind kind) {
		return "/org/lungnodules/models/demo-" + kind.name().toLowerCase(java.util.Locale.ROOT) + ".pt";
	}

	public static boolean available(Networks.Kind kind) {
		return DemoModels.class.getResource(resource(kind)) != null;
	}

	/** The demo model as a file, or null if this build ships none for {@code kind}. */
	public static Path path(Networks.Kind kind) {
		if (!available(kind)) return null;
		Path folder = Devices.modelsFolder().resolve("demo");
		Path file = folder.resolve("demo-" + kind.name().toLowerCase(java.util.Locale.ROOT) + ".pt");
		try (InputStream in = DemoModels.class.getResourceAsStream(resource(kind))) {
			byte[] bytes = in.readAllBytes();
			// Rewrite when the jar's copy differs (a newer build), never leave a half-written file.
			if (Files.isRegularFile(file) && Files.size(file) == bytes.length && java.util.Arrays.equals(Files.readAllBytes(file), bytes))
				return file;
			AtomicFiles.write(file, bytes);
			return file;
		}
		catch (IOException e) {
			throw new UncheckedIOException("Could not copy the demo model to " + file + ": " + e.getMessage(), e);
		}
	}
}
