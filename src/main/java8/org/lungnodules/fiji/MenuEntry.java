package org.lungnodules.fiji;

import ij.IJ;
import ij.plugin.PlugIn;

/**
 * The class every ImageJ 1 menu entry of ours names in {@code plugins.config}. It is compiled for Java 8
 * (from {@code src/main/java8}), unlike the rest of the plugin, which needs Java 17: a Fiji still on the
 * Java 8 update track can load this class and say what is wrong, where loading {@link LunaPlugIn} itself
 * would end in an {@code UnsupportedClassVersionError} window. On Java 17 or newer it hands the menu
 * entry's argument (the command name) to {@code LunaPlugIn}, found by name so that loading this class
 * never loads that one.
 */
public class MenuEntry implements PlugIn {

	/** The first Java release the plugin runs on. */
	static final int REQUIRED_JAVA = 17;

	@Override
	public void run(String command) {
		String version = System.getProperty("java.specification.version", "");
		if (featureVersion(version) < REQUIRED_JAVA) {
			IJ.error("Lung Nodules", message(version));
			return;
		}
		PlugIn plugin;
		try {
			plugin = (PlugIn) Class.forName("org.lungnodules.fiji.LunaPlugIn", true, MenuEntry.class.getClassLoader())
				.getDeclaredConstructor().newInstance();
		}
		catch (ReflectiveOperationException | LinkageError e) {
			IJ.error("Lung Nodules", "The Lung Nodules plugin could not be loaded: " + e);
			return;
		}
		plugin.run(command);
	}

	/** "1.8" → 8, "17" → 17, "21.0.2" → 21; 0 when unreadable. */
	static int featureVersion(String specification) {
		String s = specification.startsWith("1.") ? specification.substring(2) : specification;
		int end = 0;
		while (end < s.length() && Character.isDigit(s.charAt(end))) end++;
		return end == 0 ? 0 : Integer.parseInt(s.substring(0, end));
	}

	static String message(String version) {
		return "Lung Nodules needs Java " + REQUIRED_JAVA + " or newer, but this Fiji runs on Java " + version + ".\n \n" +
			"Install the current Fiji (it runs on Java 21 and starts with the fiji-linux-x64, fiji-windows-x64.exe\n" +
			"or Fiji.app launcher) from https://fiji.sc and add the Lung Nodules update site there.\n" +
			"The Java 8 Fiji and its ImageJ-linux64 launcher are no longer updated.";
	}
}
