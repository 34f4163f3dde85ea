package org.lungnodules.fiji;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;

import org.scijava.Context;
import org.scijava.app.event.StatusEvent;
import org.scijava.command.CommandInfo;
import org.scijava.event.EventHandler;
import org.scijava.event.EventService;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;

/**
 * The ImageJ 1 face of our commands, listed in {@code plugins.config} so that
 * {@code run("Analyze CT", "input=... seg_model=...")} works in plain ImageJ 1 (batch mode
 * included) as well as in Fiji, with exactly the parameter names of the SciJava commands.
 * <p>
 * With macro options it runs without a dialog and refuses unknown keys by name; without them it
 * shows a dialog whose field labels are the keys, so the Macro Recorder writes the same keys.
 * Status events become ImageJ's status bar and progress bar; Esc cancels.
 */
public class LunaPlugIn implements PlugIn {

	private static Context ownContext;

	@Override
	public void run(String command) {
		String options = Macro.getOptions();
		try {
			CommandRunner runner = new CommandRunner(context());
			Map<String, String> params;
			if (options != null) params = parseMacroOptions(options);
			else if (ij.macro.Interpreter.isBatchMode() || java.awt.GraphicsEnvironment.isHeadless() ||
				CommandRunner.parameters(runner.find(command)).isEmpty()) {
				// No dialog can be answered here (or none is needed): run with the defaults.
				params = new LinkedHashMap<>();
			}
			else {
				params = showDialog(runner, command);
				if (params == null) return; // dialog canceled
			}
			runCommand(runner, command, params, true);
		}
		catch (Throwable e) {
			String msg = LunaCli.message(e);
			if (options != null || IJ.getInstance() == null) {
				// In a macro the error must stop the macro, with the reason in the log.
				IJ.log("Lung Nodules: " + msg);
				// Stop the calling macro; ImageJ would otherwise carry on with the next line.
				ij.macro.Interpreter interpreter = ij.macro.Interpreter.getInstance();
				if (interpreter != null) interpreter.abortMacro();
				throw new RuntimeException(Macro.MACRO_CANCELED);
			}
			IJ.error("Lung Nodules", msg);
		}
	}

	/**
	 * For macros that must carry on past a failure (batch jobs): {@code call("org.lungnodules.fiji.LunaPlugIn.tryRun",
	 * "analyze", "input=... output=...")} returns "" on success, else the error message.
	 */
	public static String tryRun(String command, String options) {
		try {
			// Opening a CT is what the open commands are for; other commands open no images here (a batch job
			// would pile up one CT per scan).
			boolean opens = command != null && command.startsWith("open");
			runCommand(new CommandRunner(context()), command, parseMacroOptions(options == null ? "" : options), opens);
			return "";
		}
		catch (Throwable e) {
			return LunaCli.message(e);
		}
	}

	/** Outputs of the last command run from ImageJ, for {@link #lastOutput}. */
	private static volatile Module lastModule;

	/**
	 * An output of the last command, as text, for macros:
	 * {@code call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "nodules")}. Empty when absent.
	 */
	public static String lastOutput(String name) {
		Module m = lastModule;
		if (m == null || m.getInfo().getOutput(name) == null) return "";
		Object v = m.getOutput(name);
		return v == null ? "" : String.valueOf(v);
	}

	static Module runCommand(CommandRunner runner, String command, Map<String, String> params, boolean images) throws CommandRunner.BadArguments {
		// ImageJ 1 loads us through its plugin class loader; SciJava and DJL discover plugins and
		// engines through the thread's context class loader, so it must be ours while we run.
		Thread thread = Thread.currentThread();
		ClassLoader previous = thread.getContextClassLoader();
		thread.setContextClassLoader(LunaPlugIn.class.getClassLoader());
		try {
			return runWithStatus(runner, command, params, images);
		}
		finally {
			thread.setContextClassLoader(previous);
		}
	}

	private static Module runWithStatus(CommandRunner runner, String command, Map<String, String> params, boolean images)
		throws CommandRunner.BadArguments {
		ImageJStatus statusBridge = new ImageJStatus();
		EventService events = runner.context().service(EventService.class);
		List<org.scijava.event.EventSubscriber<?>> subscribers = events.subscribe(statusBridge);
		try {
			lastModule = null;
			Module module = runner.run(command, params, cmd -> {
				cmd.setCancelRequested(IJ::escapePressed);
				if (cmd instanceof UsesCurrentImage && !params.containsKey("input")) {
					ij.ImagePlus imp = ij.WindowManager.getCurrentImage();
					if (imp != null) ((UsesCurrentImage) cmd).useImage(imp);
				}
			});
			lastModule = module;
			// A cohort run with failed scans finished its work: say so, but let the macro carry on.
			if (module instanceof org.scijava.command.CommandModule cm && cm.getCommand() instanceof LunaCommand lc && lc.incomplete() != null)
				IJ.log("Lung Nodules: " + lc.incomplete());
			ImageJDisplay.show(module, images);
			return module;
		}
		finally {
			events.unsubscribe(subscribers);
			IJ.showProgress(1.0);
		}
	}

	/** Fiji's own context when running in Fiji (through its legacy bridge), else one of our own. */
	static synchronized Context context() {
		try {
			Class.forName("net.imagej.legacy.LegacyService");
			Object c = IJ.runPlugIn("org.scijava.Context", "");
			if (c instanceof Context) return (Context) c;
		}
		catch (ClassNotFoundException e) {
			// plain ImageJ 1
		}
		if (ownContext == null) {
			Thread thread = Thread.currentThread();
			ClassLoader previous = thread.getContextClassLoader();
			thread.setContextClassLoader(LunaPlugIn.class.getClassLoader());
			try {
				ownContext = new Context();
			}
			finally {
				thread.setContextClassLoader(previous);
			}
		}
		return ownContext;
	}

	/** Parses ImageJ 1 macro options: {@code key=value key=[value with spaces] flag}. */
	public static Map<String, String> parseMacroOptions(String options) throws CommandRunner.BadArguments {
		Map<String, String> map = new LinkedHashMap<>();
		int i = 0, n = options.length();
		while (i < n) {
			while (i < n && Character.isWhitespace(options.charAt(i))) i++;
			if (i >= n) break;
			int start = i;
			while (i < n && options.charAt(i) != '=' && !Character.isWhitespace(options.charAt(i))) i++;
			String key = options.substring(start, i);
			String value = "true"; // a bare word is a checked checkbox, as ImageJ records it
			if (i < n && options.charAt(i) == '=') {
				i++;
				if (i < n && options.charAt(i) == '[') {
					int close = options.indexOf(']', i + 1);
					if (close < 0) throw new CommandRunner.BadArguments("Unclosed [ in the value of '" + key + "'");
					value = options.substring(i + 1, close);
					i = close + 1;
				}
				else {
					int vs = i;
					while (i < n && !Character.isWhitespace(options.charAt(i))) i++;
					value = options.substring(vs, i);
				}
			}
			if (map.put(key, value) != null) throw new CommandRunner.BadArguments("Key '" + key + "' is given twice");
		}
		return map;
	}

	/** A dialog whose labels are the parameter keys, so that the recorder records those keys. */
	private static Map<String, String> showDialog(CommandRunner runner, String command) throws CommandRunner.BadArguments {
		CommandInfo info = runner.find(command);
		List<ModuleItem<?>> params = CommandRunner.parameters(info);
		GenericDialog gd = new GenericDialog(info.getLabel());
		if (info.getDescription() != null) gd.addMessage(info.getDescription());
		for (ModuleItem<?> item : params) {
			Object def = CommandRunner.defaultValue(info, item);
			String text = def == null ? "" : String.valueOf(def);
			Class<?> t = item.getType();
			String style = item.getWidgetStyle() == null ? "" : item.getWidgetStyle();
			if (t == boolean.class || t == Boolean.class) gd.addCheckbox(item.getName(), Boolean.TRUE.equals(def));
			else if (item.getChoices() != null && !item.getChoices().isEmpty()) {
				String[] choices = item.getChoices().stream().map(String::valueOf).toArray(String[]::new);
				gd.addChoice(item.getName(), choices, text.isEmpty() ? choices[0] : text);
			}
			else if (t == File.class && style.contains("directory")) gd.addDirectoryField(item.getName(), text);
			else if (t == File.class) gd.addFileField(item.getName(), text);
			else gd.addStringField(item.getName(), text, 20);
			// Short descriptions fit beside checkboxes and choices; beside text fields they would be cut
			// off, and the Help button leads to the full description anyway.
			boolean compact = t == boolean.class || t == Boolean.class || (item.getChoices() != null && !item.getChoices().isEmpty());
			if (compact && item.getDescription() != null && !item.getDescription().isEmpty()) {
				gd.addToSameRow();
				gd.addMessage(item.getDescription());
			}
		}
		gd.addHelp(HelpLinks.url(command));
		gd.showDialog();
		if (gd.wasCanceled()) return null;
		Map<String, String> values = new LinkedHashMap<>();
		for (ModuleItem<?> item : params) {
			Class<?> t = item.getType();
			if (t == boolean.class || t == Boolean.class) values.put(item.getName(), String.valueOf(gd.getNextBoolean()));
			else if (item.getChoices() != null && !item.getChoices().isEmpty()) values.put(item.getName(), gd.getNextChoice());
			else {
				String v = gd.getNextString();
				if (!v.isEmpty()) values.put(item.getName(), v);
			}
		}
		return values;
	}

	/** Shows SciJava status events in ImageJ's status and progress bars. */
	public static final class ImageJStatus {
		@EventHandler
		public void onStatus(StatusEvent e) {
			if (e.getStatusMessage() != null) IJ.showStatus(e.getStatusMessage());
			if (e.getProgressMaximum() > 0) IJ.showProgress(e.getProgressValue(), e.getProgressMaximum());
		}
	}
}
