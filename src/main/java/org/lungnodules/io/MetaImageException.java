package org.lungnodules.io;

import java.nio.file.Path;

/** A MetaImage (.mhd/.mha) file that cannot be read or written. See {@link CtFileException} for what the message holds. */
public class MetaImageException extends CtFileException {

	private static final long serialVersionUID = 1L;

	public MetaImageException(Path file, String problem) {
		super(file, problem);
	}

	public MetaImageException(Path file, String problem, Throwable cause) {
		super(file, problem, cause);
	}
}
