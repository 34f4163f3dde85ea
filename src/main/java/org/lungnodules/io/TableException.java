package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A CSV table that cannot be used: missing file header or column, a row with the wrong number of
 * fields, a value that is not what the column needs. The message names the file and, for row
 * problems, the line (the header is line 1), so a user can open the file and fix it.
 */
public class TableException extends IOException {

	private static final long serialVersionUID = 1L;

	private final Path file;
	private final long line;

	/** A problem with the file as a whole (no line number). */
	public TableException(Path file, String problem) {
		this(file, 0, problem, null);
	}

	/** A problem at a given line (1-based, the header being line 1). */
	public TableException(Path file, long line, String problem) {
		this(file, line, problem, null);
	}

	public TableException(Path file, long line, String problem, Throwable cause) {
		super(file + (line > 0 ? ", line " + line : "") + ": " + problem, cause);
		this.file = file;
		this.line = line;
	}

	/** The table file. */
	public Path file() { return file; }

	/** The 1-based line of the problem, or 0 if the problem is not tied to a line. */
	public long line() { return line; }
}
