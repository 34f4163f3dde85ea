package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A MetaImage (.mhd/.mha) file that cannot be read or written. The message always starts with
 * the file and then names the header key or byte offset that is wrong, so a user can fix the file.
 */
public class MetaImageException extends IOException {

	private static final long serialVersionUID = 1L;

	private final transient Path file;

	public MetaImageException(Path file, String problem) {
		super(file + ": " + problem);
		this.file = file;
	}

	public MetaImageException(Path file, String problem, Throwable cause) {
		super(file + ": " + problem, cause);
		this.file = file;
	}

	/** The header or data file that has the problem. */
	public Path file() {
		return file;
	}
}
