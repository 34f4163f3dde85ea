package org.lungnodules.fiji;

/** Every command's help button points at its section of the README. */
public final class HelpLinks {

	public static final String README = "https://github.com/lung-nodules/lung-nodules-fiji#";

	private HelpLinks() {}

	public static String url(String command) {
		return README + "command-" + command;
	}
}
