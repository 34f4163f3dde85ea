package org.lungnodules.io.dicom;

import java.nio.file.Path;

import org.lungnodules.io.CtFileException;

/** A DICOM file or series that cannot be read (the file, or the folder for problems of a whole series). See {@link CtFileException} for what the message holds. */
public class DicomException extends CtFileException {

	private static final long serialVersionUID = 1L;

	public DicomException(Path file, String problem) {
		super(file, problem);
	}

	public DicomException(Path file, String problem, Throwable cause) {
		super(file, problem, cause);
	}
}
