package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint file that cannot be read or written safely; the message names the file and the problem. */
public class CheckpointException extends IOException {

	private static final long serialVersionUID = 1L;

	private final transient Path file;

	public CheckpointException(Path file, String problem) {
		super(file + ": " + problem);
		this.file = file;
	}

	public CheckpointException(Path file, String problem, Throwable cause) {
		super(file + ": " + problem, cause);
		this.file = file;
	}

	public Path file() { return file; }
}
