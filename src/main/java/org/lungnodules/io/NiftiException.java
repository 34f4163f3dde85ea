package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A NIfTI-1 file that cannot be read or written. The message starts with the file and then names
 * the header field (or byte offset) that is wrong, as {@link MetaImageException} does for MetaImage.
 */
public class NiftiException extends IOException {

	private static final long serialVersionUID = 1L;

	private final transient Path file;

	public NiftiException(Path file, String problem) {
		super(file + ": " + problem);
		this.file = file;
	}

	public NiftiException(Path file, String problem, Throwable cause) {
		super(file + ": " + problem, cause);
		this.file = file;
	}

	/** The file that has the problem. */
	public Path file() {
		return file;
	}
}
