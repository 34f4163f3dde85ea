package org.lungnodules.analysis;

import java.io.IOException;

/**
 * The inputs of an evaluation do not fit together (a series the annotations do not know, a series
 * list naming a scan twice, nothing to evaluate). The message names the file or series at fault.
 */
public class EvaluationException extends IOException {
	private static final long serialVersionUID = 1L;

	public EvaluationException(String message) {
		super(message);
	}
}
