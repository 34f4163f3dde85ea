package org.lungnodules.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes that never leave a half-written file: content goes to a temporary file in the target's
 * folder, which is then renamed over the target. A crash or an exception leaves either the old file
 * or the new one, and the temporary file is removed.
 */
public final class AtomicFiles {

	private AtomicFiles() {}

	/** Writes the content to an output stream. */
	@FunctionalInterface
	public interface Content {
		void writeTo(OutputStream out) throws IOException;
	}

	/** Writes the content to a UTF-8 text writer. */
	@FunctionalInterface
	public interface Text {
		void writeTo(Writer out) throws IOException;
	}

	public static void write(Path target, Content content) throws IOException {
		Path file = target.toAbsolutePath();
		Path dir = file.getParent();
		Files.createDirectories(dir);
		// Not Files.createTempFile: its files are owner-only (0600), and results are meant to be shared.
		Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
		try {
			try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
				content.writeTo(out);
			}
			try {
				Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
			}
			catch (AtomicMoveNotSupportedException e) {
				Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
			}
		}
		finally {
			Files.deleteIfExists(tmp);
		}
	}

	public static void writeText(Path target, Text text) throws IOException {
		write(target, out -> {
			Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
			text.writeTo(w);
			w.flush();
		});
	}

	public static void write(Path target, byte[] bytes) throws IOException {
		write(target, out -> out.write(bytes));
	}

	public static void writeString(Path target, String text) throws IOException {
		write(target, text.getBytes(StandardCharsets.UTF_8));
	}
}
