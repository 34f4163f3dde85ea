package org.lungnodules.io;

import java.nio.file.Path;

/** A NIfTI-1 file that cannot be read or written. See {@link CtFileException} for what the message holds. */
public class NiftiException extends CtFileException {

	private static final long serialVersionUID = 1L;

	public NiftiException(Path file, String problem) {
		super(file, problem);
	}

	public NiftiException(Path file, String problem, Throwable cause) {
		super(file, problem, cause);
	}
}
