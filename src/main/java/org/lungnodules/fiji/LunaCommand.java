package org.lungnodules.fiji;

import java.util.function.BooleanSupplier;

import org.lungnodules.Progress;
import org.scijava.app.StatusService;
import org.scijava.command.Command;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;

/**
 * Base of our SciJava commands. Each command is a thin front door over the engine: it turns its
 * {@code @Parameter}s into engine calls, and routes engine progress to the StatusService (which
 * Fiji shows in its status bar, and {@code ./luna} prints to stderr).
 * <p>
 * The parameter names are the public interface: the same keys are used by the Fiji dialog, by
 * {@code run("...", "key=value")} in macros, by {@code ImageJ --headless --run} and by
 * {@code ./luna COMMAND key=value}. Rename one and every user's macros break.
 */
public abstract class LunaCommand implements Command {

	@Parameter
	protected StatusService status;

	@Parameter
	protected LogService log;

	/** Set by a front door that has its own cancel button (ImageJ's Esc key, for one). */
	private volatile BooleanSupplier cancelRequested = () -> false;
	private volatile boolean canceled;
	private volatile String incomplete;

	/** The work itself; checked exceptions become clean one-line errors at the front doors. */
	protected abstract void execute() throws Exception;

	@Override
	public final void run() {
		incomplete = null;
		try {
			execute();
		}
		catch (RuntimeException e) {
			throw e;
		}
		catch (Exception e) {
			throw new CommandFailure(e.getMessage() == null ? e.toString() : e.getMessage(), e);
		}
		finally {
			if (status != null) status.clearStatus();
		}
	}

	/**
	 * Called by a command that finished its run but not all of its work (some scans of a cohort
	 * failed): the front doors report the message, and {@code ./luna} exits with 3.
	 */
	protected void setIncomplete(String message) {
		incomplete = message;
	}

	/** Why the finished run is incomplete, or null when it did all its work. */
	public String incomplete() {
		return incomplete;
	}

	public void setCancelRequested(BooleanSupplier s) {
		cancelRequested = s == null ? () -> false : s;
	}

	public void cancel() {
		canceled = true;
	}

	/** Engine progress that goes to the StatusService and honours cancel requests and interrupts. */
	protected Progress progress() {
		return new Progress() {
			private long lastReport;
			private String lastStage;

			@Override
			public void report(String stage, double fraction) {
				long now = System.nanoTime();
				// The status bar needs no more than ~10 updates a second; more only costs time.
				if (stage.equals(lastStage) && fraction < 1 && now - lastReport < 100_000_000L) return;
				lastReport = now;
				lastStage = stage;
				if (status != null) status.showStatus((int) Math.round(fraction * 1000), 1000, stage);
			}

			@Override
			public boolean isCanceled() {
				return canceled || cancelRequested.getAsBoolean() || Thread.currentThread().isInterrupted();
			}
		};
	}

	/**
	 * Reads a CT through the product's one entry point, whatever its format, and logs what the reader
	 * noted (left-out scout images, skipped stray files) where the user looks.
	 */
	protected org.lungnodules.ct.CtVolume readCt(java.io.File input, String series) throws java.io.IOException {
		if (input == null) throw new BadValue("input=... is needed: a .mhd/.mha or .nii/.nii.gz file, or a DICOM series folder");
		org.lungnodules.io.CtReader.ReadCt ct = org.lungnodules.io.CtReader.read(input.toPath(), series, acceptsLossy());
		lastRead = ct;
		for (String note : ct.notes()) if (log != null) log.info(input.getName() + ": " + note);
		if (ct.lossy() && log != null) log.warn(input.getName() + ": " + LOSSY_WARNING);
		// The analysis reorients the CT itself; checked here too so that an oblique scan is refused
		// before any network loads, with the file's name.
		org.lungnodules.ct.Reorientation.of(ct.volume(), input.toString());
		return ct.volume();
	}

	/** What every output of a CT read from lossy-compressed data says (with {@code lossy=accept}). */
	public static final String LOSSY_WARNING = org.lungnodules.analysis.AnalysisResult.LOSSY_WARNING;

	/** The last CT {@link #readCt} read, with its notes and lossy flag; null before. */
	protected org.lungnodules.io.CtReader.ReadCt lastRead;

	/** Whether this command reads lossy-compressed DICOM ({@code lossy=accept}); commands with a lossy parameter override it. */
	protected boolean acceptsLossy() {
		return false;
	}

	/** The lossy parameter's value: "refuse" (or empty, the default) or "accept". */
	protected static boolean lossyAccepted(String value) {
		if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("refuse")) return false;
		if (value.trim().equalsIgnoreCase("accept")) return true;
		throw new BadValue("lossy must be refuse (the default) or accept, not '" + value + "'");
	}

	/** A parameter value that cannot be used: exit code 2 on the command line, like an unknown key. */
	public static final class BadValue extends IllegalArgumentException {
		private static final long serialVersionUID = 1L;

		public BadValue(String message) {
			super(message);
		}
	}

	/** A command's failure, carrying a message fit to show a user as is. */
	public static final class CommandFailure extends RuntimeException {
		private static final long serialVersionUID = 1L;

		public CommandFailure(String message, Throwable cause) {
			super(message, cause);
		}
	}
}
