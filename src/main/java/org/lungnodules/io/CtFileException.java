package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A CT file (or DICOM series folder) that cannot be read or written. The message always starts with
 * the file and then names the header key, element, field or byte offset that is wrong, so a user can
 * find and fix the file; the subclasses say which format's reader refused it.
 */
public class CtFileException extends IOException {

	private static final long serialVersionUID = 1L;

	private final transient Path file;

	public CtFileException(Path file, String problem) {
		super(file + ": " + problem);
		this.file = file;
	}

	public CtFileException(Path file, String problem, Throwable cause) {
		super(file + ": " + problem, cause);
		this.file = file;
	}

	/** The file (or series folder) that has the problem. */
	public Path file() {
		return file;
	}
}
