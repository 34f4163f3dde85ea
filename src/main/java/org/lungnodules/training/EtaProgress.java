package org.lungnodules.training;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.function.Consumer;

import org.lungnodules.Progress;

/**
 * Progress over the batches of an epoch with an estimated finish time, in the manner of the book's
 * {@code enumerateWithEstimate}: the first batches (worker start-up, caches warming) are left out of
 * the rate, and log lines come at growing intervals (×4) so that long epochs do not flood the log.
 * Every batch goes to the {@link Progress}, whose stage text carries the estimate.
 */
final class EtaProgress {

	private static final int BACKOFF = 4;
	private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

	private final Progress progress;
	private final Consumer<String> log;
	private final String stage;
	private final int total, warmup;
	private int nextLog;
	private long warmupEndNanos;
	private String estimate = "";

	EtaProgress(Progress progress, Consumer<String> log, String stage, int total) {
		this.progress = progress;
		this.log = log;
		this.stage = stage;
		this.total = total;
		warmup = Math.min(2, Math.max(0, total - 1));
		nextLog = Math.max(BACKOFF, warmup * BACKOFF);
		if (warmup == 0) warmupEndNanos = System.nanoTime();
		log.accept(stage + " ----/" + total + ", starting");
		progress.report(stage, 0);
	}

	/** After {@code done} of the total batches are finished. */
	void update(int done) {
		long now = System.nanoTime();
		if (done == warmup) warmupEndNanos = now;
		if (done > warmup) {
			double perBatch = (now - warmupEndNanos) / (double) (done - warmup);
			Duration left = Duration.ofNanos((long) (perBatch * (total - done)));
			Duration whole = Duration.ofNanos((long) (perBatch * (total - warmup)));
			estimate = ", done at " + LocalDateTime.now().plus(left).format(CLOCK) + ", " + format(whole);
		}
		if (done >= nextLog && done < total) {
			log.accept(String.format("%s %4d/%d%s", stage, done, total, estimate));
			while (nextLog <= done) nextLog *= BACKOFF;
		}
		progress.report(stage + " " + done + "/" + total + estimate, total == 0 ? 1 : done / (double) total);
	}

	void finish() {
		log.accept(stage + " ----/" + total + ", done at " + LocalDateTime.now().format(CLOCK));
	}

	static String format(Duration d) {
		long s = d.getSeconds();
		return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
	}
}
