package org.lungnodules.fiji;

import java.io.File;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.scijava.Context;
import org.scijava.ItemVisibility;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;
import org.scijava.module.ModuleService;
import org.scijava.service.Service;

/**
 * Runs our commands from {@code key=value} text, the one form that the command line, ImageJ
 * macros and scripts all share. It checks every key against the command's {@code @Parameter}
 * names, so that a misspelt key is named in the error instead of being silently ignored, converts
 * values with clear messages, and runs the command in the calling thread.
 * <p>
 * We set inputs ourselves rather than through SciJava's pre-processors: those would fill unset
 * inputs with values remembered from earlier interactive runs, and a headless batch job must do
 * the same thing every time.
 */
public final class CommandRunner {

	private final Context context;

	public CommandRunner(Context context) {
		this.context = context;
	}

	public Context context() { return context; }

	/** Our commands, by name. */
	public List<CommandInfo> commands() {
		List<CommandInfo> list = new ArrayList<>();
		for (CommandInfo info : context.service(CommandService.class).getCommands()) {
			// Check the name first so that other plugins' classes are not loaded needlessly.
			if (!info.getClassName().startsWith("org.lungnodules.")) continue;
			try {
				if (LunaCommand.class.isAssignableFrom(info.loadClass())) list.add(info);
			}
			catch (org.scijava.InstantiableException e) {
				// not loadable: not ours to list
			}
		}
		list.sort(Comparator.comparing(CommandInfo::getName));
		return list;
	}

	public CommandInfo find(String name) throws BadArguments {
		for (CommandInfo info : commands())
			if (info.getName().equals(name)) return info;
		List<String> names = new ArrayList<>();
		for (CommandInfo info : commands()) names.add(info.getName());
		throw new BadArguments("Unknown command '" + name + "'" + suggestion(name, names) + ". Commands: " + String.join(", ", names));
	}

	/** The user-settable parameters of a command: inputs that are not services or messages. */
	public static List<ModuleItem<?>> parameters(CommandInfo info) {
		List<ModuleItem<?>> items = new ArrayList<>();
		for (ModuleItem<?> item : info.inputs()) {
			if (Service.class.isAssignableFrom(item.getType()) || Context.class.isAssignableFrom(item.getType())) continue;
			if (item.getVisibility() == ItemVisibility.MESSAGE) continue;
			items.add(item);
		}
		return items;
	}

	/** Creates the command with the given arguments set and checked, ready to run. */
	public CommandModule prepare(String name, Map<String, String> args) throws BadArguments {
		CommandInfo info = find(name);
		List<ModuleItem<?>> params = parameters(info);
		Map<String, ModuleItem<?>> byName = new LinkedHashMap<>();
		for (ModuleItem<?> item : params) byName.put(item.getName(), item);
		for (String key : args.keySet())
			if (!byName.containsKey(key))
				throw new BadArguments("Command '" + name + "' has no parameter '" + key + "'" + suggestion(key, byName.keySet()) +
					". Its parameters: " + String.join(", ", byName.keySet()));

		CommandModule module = (CommandModule) context.service(ModuleService.class).createModule(info);
		for (ModuleItem<?> item : params) {
			String key = item.getName();
			if (args.containsKey(key)) module.setInput(key, checkRange(name, item, convert(name, item, args.get(key)), args.get(key)));
			module.resolveInput(key);
		}
		for (ModuleItem<?> item : params)
			if (item.isRequired() && module.getInput(item.getName()) == null)
				throw new BadArguments("Command '" + name + "' needs " + item.getName() + "=... (" + describe(item) + ")");
		// Services are not set by us; make sure the context injected them.
		for (ModuleItem<?> item : info.inputs())
			if (Service.class.isAssignableFrom(item.getType()) && module.getInput(item.getName()) == null) {
				Object service = context.service(item.getType().asSubclass(Service.class));
				module.setInput(item.getName(), service);
				module.resolveInput(item.getName());
			}
		return module;
	}

	/** Prepares and runs a command in this thread; the configurer may attach cancel hooks. */
	public Module run(String name, Map<String, String> args, Consumer<LunaCommand> configure) throws BadArguments {
		CommandModule module = prepare(name, args);
		if (configure != null) configure.accept((LunaCommand) module.getCommand());
		module.run();
		return module;
	}

	private static Object convert(String command, ModuleItem<?> item, String text) throws BadArguments {
		Class<?> type = item.getType();
		String key = item.getName();
		String v = text.trim();
		try {
			if (type == String.class) return text;
			if (type == File.class) return v.isEmpty() ? null : new File(v);
			if (type == Path.class) return v.isEmpty() ? null : Paths.get(v);
			if (type == int.class || type == Integer.class) return Integer.valueOf(v);
			if (type == long.class || type == Long.class) return Long.valueOf(v);
			if (type == double.class || type == Double.class) return finite(Double.valueOf(v));
			if (type == float.class || type == Float.class) return (float) finite(Double.valueOf(v));
			if (type == boolean.class || type == Boolean.class) {
				String b = v.toLowerCase(Locale.ROOT);
				if (b.equals("true") || b.equals("yes") || b.equals("1") || b.isEmpty()) return Boolean.TRUE;
				if (b.equals("false") || b.equals("no") || b.equals("0")) return Boolean.FALSE;
				throw new IllegalArgumentException();
			}
			if (type.isEnum()) {
				for (Object c : type.getEnumConstants())
					if (((Enum<?>) c).name().equalsIgnoreCase(v)) return c;
				throw new IllegalArgumentException();
			}
		}
		catch (IllegalArgumentException e) {
			throw new BadArguments(command + ": " + key + "='" + text + "' is not " + describe(item));
		}
		throw new BadArguments(command + ": parameter " + key + " of type " + type.getSimpleName() + " cannot be given as text");
	}

	/**
	 * The declared choices and min/max hold for typed values too, not only in the dialog (which
	 * enforces them itself): a macro's {@code ratio=0} or {@code device=tpu} must stop with the reason.
	 */
	private static Object checkRange(String command, ModuleItem<?> item, Object value, String text) throws BadArguments {
		if (value == null) return null;
		List<?> choices = item.getChoices();
		if (value instanceof String v && choices != null && !choices.isEmpty() && !(v.isEmpty() && !item.isRequired())) {
			for (Object c : choices)
				if (String.valueOf(c).equals(v.trim())) return v.trim();
			throw new BadArguments(command + ": " + item.getName() + "='" + text + "' is not one of " + choices);
		}
		if (value instanceof Number n) {
			Double min = number(item.getMinimumValue()), max = number(item.getMaximumValue());
			if ((min != null && n.doubleValue() < min) || (max != null && n.doubleValue() > max))
				throw new BadArguments(command + ": " + item.getName() + "=" + text.trim() + " is out of range (" +
					(min == null ? "" : "at least " + plain(min)) + (min != null && max != null ? ", " : "") +
					(max == null ? "" : "at most " + plain(max)) + ")");
		}
		return value;
	}

	private static Double number(Object o) {
		if (o instanceof Number n) return n.doubleValue();
		if (o instanceof String s && !s.isBlank()) {
			try {
				return Double.valueOf(s.trim());
			} catch (NumberFormatException e) {
				return null;
			}
		}
		return null;
	}

	private static String plain(double d) {
		return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
	}

	private static double finite(double d) {
		if (!Double.isFinite(d)) throw new IllegalArgumentException();
		return d;
	}

	/** What kind of value a parameter takes, in words. */
	public static String describe(ModuleItem<?> item) {
		Class<?> t = item.getType();
		List<?> choices = item.getChoices();
		if (choices != null && !choices.isEmpty()) return "one of " + choices;
		if (t == File.class || t == Path.class) return "a file or folder path";
		if (t == int.class || t == Integer.class || t == long.class || t == Long.class) return "a whole number";
		if (t == double.class || t == Double.class || t == float.class || t == Float.class) return "a number";
		if (t == boolean.class || t == Boolean.class) return "true or false";
		if (t.isEnum()) {
			List<String> names = new ArrayList<>();
			for (Object c : t.getEnumConstants()) names.add(((Enum<?>) c).name().toLowerCase(Locale.ROOT));
			return "one of " + names;
		}
		return "text";
	}

	/** The default of a parameter, read from a fresh instance's field initialiser. */
	public static Object defaultValue(CommandInfo info, ModuleItem<?> item) {
		try {
			Object cmd = info.loadClass().getDeclaredConstructor().newInstance();
			for (Class<?> c = cmd.getClass(); c != null; c = c.getSuperclass())
				for (Field f : c.getDeclaredFields())
					if (f.getName().equals(item.getName())) {
						f.setAccessible(true);
						return f.get(cmd);
					}
		}
		catch (ReflectiveOperationException | org.scijava.InstantiableException | RuntimeException e) {
			// no default to show
		}
		return null;
	}

	public String help() {
		StringBuilder sb = new StringBuilder("Commands (run ./luna help COMMAND for its parameters):\n");
		for (CommandInfo info : commands())
			sb.append(String.format("  %-18s %s%n", info.getName(), info.getDescription() == null ? info.getLabel() : info.getDescription()));
		return sb.toString();
	}

	public String help(String name) throws BadArguments {
		CommandInfo info = find(name);
		StringBuilder sb = new StringBuilder();
		sb.append(name).append(": ").append(info.getDescription() == null ? info.getLabel() : info.getDescription()).append('\n');
		sb.append("In Fiji: Plugins > Lung Nodules > ").append(info.getLabel()).append("\n\nParameters (key=value):\n");
		for (ModuleItem<?> item : parameters(info)) {
			Object def = defaultValue(info, item);
			sb.append(String.format("  %-14s %s%s%n", item.getName(), describe(item),
				def != null && !"".equals(def) ? " (default: " + def + ")" : item.isRequired() ? " (required)" : ""));
			if (item.getDescription() != null && !item.getDescription().isEmpty())
				sb.append(String.format("  %-14s   %s%n", "", item.getDescription()));
		}
		return sb.toString();
	}

	private static String suggestion(String given, Iterable<String> options) {
		String best = null;
		int bestDistance = Integer.MAX_VALUE;
		for (String o : options) {
			int d = editDistance(given.toLowerCase(Locale.ROOT), o.toLowerCase(Locale.ROOT));
			if (d < bestDistance) { bestDistance = d; best = o; }
		}
		return best != null && bestDistance <= Math.max(2, given.length() / 3) ? " (did you mean '" + best + "'?)" : "";
	}

	private static int editDistance(String a, String b) {
		int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
		for (int j = 0; j <= b.length(); j++) prev[j] = j;
		for (int i = 1; i <= a.length(); i++) {
			cur[0] = i;
			for (int j = 1; j <= b.length(); j++)
				cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
			int[] t = prev; prev = cur; cur = t;
		}
		return prev[b.length()];
	}

	/** Arguments that do not fit the command: exit code 2 on the command line. */
	public static final class BadArguments extends Exception {
		private static final long serialVersionUID = 1L;

		public BadArguments(String message) {
			super(message);
		}
	}
}
