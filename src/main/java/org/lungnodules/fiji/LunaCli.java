package org.lungnodules.fiji;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.scijava.Context;
import org.scijava.app.event.StatusEvent;
import org.scijava.event.EventHandler;
import org.scijava.event.EventService;

/**
 * {@code ./luna COMMAND key=value ...}: runs one of our SciJava commands headless, inside a real
 * SciJava context, with the same parameter names as the Fiji dialogs and macros.
 * <p>
 * Exit codes: 0 success, 1 the command failed, 2 the arguments were wrong, 3 the command finished
 * but some of its work failed (scans of a cohort; they are listed in the output folder's
 * failures.csv). Errors are one line on stderr; {@code --debug} adds the stack trace.
 */
public final class LunaCli {

	public static final int OK = 0, FAILED = 1, BAD_ARGUMENTS = 2, SOME_FAILED = 3;

	private LunaCli() {}

	public static void main(String[] args) {
		// The process exit code is the command line's contract; only this entry point exits.
		System.exit(run(args, System.out, System.err));
	}

	/** Runs the command line and returns the exit code (tests call this directly). */
	public static int run(String[] args, PrintStream out, PrintStream err) {
		boolean debug = false;
		List<String> words = new ArrayList<>();
		for (String a : args) {
			if (a.equals("--debug")) debug = true;
			else if (a.equals("--help") || a.equals("-h")) words.add(0, "help");
			else words.add(a);
		}
		if (words.isEmpty()) words.add("help");
		System.setProperty("java.awt.headless", "true");
		try (Context context = new Context()) {
			CommandRunner runner = new CommandRunner(context);
			String command = words.get(0);
			if (command.equals("help")) {
				out.print(words.size() > 1 ? runner.help(words.get(1)) : usage() + runner.help());
				return OK;
			}
			Map<String, String> params = new LinkedHashMap<>();
			for (String w : words.subList(1, words.size())) {
				int eq = w.indexOf('=');
				if (eq <= 0) throw new CommandRunner.BadArguments("Expected key=value, got '" + w + "' (see ./luna help " + command + ")");
				String key = w.substring(0, eq);
				if (params.put(key, w.substring(eq + 1)) != null)
					throw new CommandRunner.BadArguments("Key '" + key + "' is given twice");
			}
			StatusPrinter printer = new StatusPrinter(err);
			context.service(EventService.class).subscribe(printer);
			org.scijava.module.Module module = runner.run(command, params, null);
			printer.finish();
			// Text outputs (reports, tables of found nodules) go to stdout, so they can be piped.
			for (org.scijava.module.ModuleItem<?> item : module.getInfo().outputs()) {
				Object value = module.getOutput(item.getName());
				if (value instanceof String && !((String) value).isEmpty()) out.println(value);
			}
			String incomplete = module instanceof org.scijava.command.CommandModule cm && cm.getCommand() instanceof LunaCommand lc ?
				lc.incomplete() : null;
			if (incomplete != null) {
				err.println("luna: " + incomplete);
				return SOME_FAILED;
			}
			return OK;
		}
		catch (CommandRunner.BadArguments e) {
			err.println("luna: " + e.getMessage());
			if (debug) e.printStackTrace(err);
			return BAD_ARGUMENTS;
		}
		catch (Throwable e) {
			err.println("luna: " + message(e));
			for (Throwable t = e; t != null; t = t.getCause())
				if (t instanceof LunaCommand.BadValue) {
					if (debug) e.printStackTrace(err);
					return BAD_ARGUMENTS;
				}
			if (debug) e.printStackTrace(err);
			else err.println("(run again with --debug for details)");
			return FAILED;
		}
	}

	static String usage() {
		return "Usage: ./luna COMMAND key=value ... [--debug]\n       ./luna help [COMMAND]\n\n";
	}

	/** The most helpful one-line message of an exception chain. */
	static String message(Throwable e) {
		Throwable t = e;
		while (t.getCause() != null && (t.getMessage() == null || t instanceof LunaCommand.CommandFailure && t.getCause().getMessage() != null &&
			t.getMessage().equals(t.getCause().getMessage())))
			t = t.getCause();
		if (t instanceof OutOfMemoryError) return "out of memory: " + t.getMessage() + " (give Java more heap with JAVA_OPTS=-Xmx...)";
		String m = t.getMessage();
		return m == null || m.isEmpty() ? t.getClass().getSimpleName() : m.replace('\n', ' ');
	}

	/** Prints status events on stderr: at most one line every two seconds, plus the finishing one. */
	public static final class StatusPrinter {
		private final PrintStream err;
		private String lastStage;
		private long lastTime;

		StatusPrinter(PrintStream err) {
			this.err = err;
		}

		@EventHandler
		public synchronized void onStatus(StatusEvent e) {
			String msg = e.getStatusMessage();
			if (msg == null || msg.isEmpty()) return;
			long now = System.nanoTime();
			int max = e.getProgressMaximum(), value = e.getProgressValue();
			boolean done = max > 0 && value >= max;
			// Stage texts may carry counters ("E1 Training 132/1250"), so compare time, not text: a line
			// every two seconds at most, plus the first and the finishing one.
			if (lastStage != null && !done && now - lastTime < 2_000_000_000L) return;
			if (done && msg.equals(lastStage)) return;
			lastStage = msg;
			lastTime = now;
			err.println(max > 0 && value >= 0 ? String.format("%s ... %d%%", msg, Math.round(100.0 * value / max)) : msg);
		}

		void finish() {
			err.flush();
		}
	}
}
