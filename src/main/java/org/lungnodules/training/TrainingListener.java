package org.lungnodules.training;

/**
 * Hears what a {@link TrainingLoop} reports: the book-style log lines and each epoch's metrics.
 * Called on the training thread; a UI listener hands the work to its own thread.
 */
public interface TrainingListener {

	/** A log line (progress estimates, metrics, checkpoints). */
	default void message(String text) {}

	/** The metrics of one split after an epoch (training every epoch, validation when it ran). */
	default void epochMetrics(Metrics.Result result) {}

	TrainingListener NONE = new TrainingListener() {};
}
