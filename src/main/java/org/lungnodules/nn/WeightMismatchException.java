package org.lungnodules.nn;

import java.io.IOException;
import java.util.List;

/**
 * A state dict does not fit a network. The message lists every problem (missing, unexpected and
 * mis-shaped keys), so one attempt shows everything that is wrong with a checkpoint. It is an
 * {@link IOException} because the usual cause is a wrong or damaged weights file.
 */
public final class WeightMismatchException extends IOException {

	private static final long serialVersionUID = 1L;
	private final List<String> problems;

	public WeightMismatchException(String source, List<String> problems) {
		super(source + " does not fit the network (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") +
			"):\n  " + String.join("\n  ", problems));
		this.problems = List.copyOf(problems);
	}

	/** One line per problem, e.g. {@code missing key block1.conv1.weight [8, 1, 3, 3, 3]}. */
	public List<String> problems() { return problems; }
}
