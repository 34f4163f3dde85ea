package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A DICOM file or series that cannot be read. The message always starts with the file (or the
 * folder, for problems of a whole series) and then names the element, byte offset or slices that
 * are wrong, so a user can find and fix the file.
 */
public class DicomException extends IOException {

	private static final long serialVersionUID = 1L;

	private final transient Path file;

	public DicomException(Path file, String problem) {
		super(file + ": " + problem);
		this.file = file;
	}

	public DicomException(Path file, String problem, Throwable cause) {
		super(file + ": " + problem, cause);
		this.file = file;
	}

	/** The file or series folder that has the problem. */
	public Path file() {
		return file;
	}
}
