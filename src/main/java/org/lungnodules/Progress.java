package org.lungnodules;

/**
 * How long-running engine work reports progress and learns that the user wants it to stop.
 * <p>
 * The engine knows nothing about Fiji: the commands adapt this to SciJava's StatusService (and the
 * ImageJ progress bar and Esc key), the command line prints it to stderr, tests pass {@link #NONE}.
 */
public interface Progress {

	/** @param fraction in [0, 1] for the current stage */
	void report(String stage, double fraction);

	/** Polled between units of work; when true the engine throws {@link Canceled}. */
	default boolean isCanceled() {
		return Thread.currentThread().isInterrupted();
	}

	/** Throws {@link Canceled} if the user asked to stop. */
	default void checkCanceled() {
		if (isCanceled()) throw new Canceled();
	}

	Progress NONE = (stage, fraction) -> {};

	/** Thrown when the user cancels; nothing partial is left behind by well-behaved writers. */
	final class Canceled extends RuntimeException {
		private static final long serialVersionUID = 1L;

		public Canceled() {
			super("Canceled by the user");
		}
	}
}
