package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandInfo;

/** The ImageJ 1 menu and the SciJava commands agree: every entry runs a command, with its label. */
class PluginsConfigTest {

	@Test
	void everyMenuEntryRunsACommandWithTheSameLabel() throws Exception {
		String config;
		try (InputStream in = getClass().getResourceAsStream("/plugins.config")) {
			config = new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		Matcher m = Pattern.compile("^[^#\\n]*?, \"([^\"]+)\", org\\.lungnodules\\.fiji\\.MenuEntry\\(\"([^\"]+)\"\\)", Pattern.MULTILINE).matcher(config);
		Map<String, String> entries = new LinkedHashMap<>();
		while (m.find()) entries.put(m.group(2), m.group(1));
		try (Context context = new Context()) {
			CommandRunner runner = new CommandRunner(context);
			Set<String> withoutMenu = new TreeSet<>();
			for (CommandInfo info : runner.commands()) {
				String label = entries.remove(info.getName());
				if (label == null) withoutMenu.add(info.getName());
				else assertEquals(info.getLabel(), label, "menu label of " + info.getName() + " (macros use it in run(\"...\"))");
			}
			assertTrue(entries.isEmpty(), "menu entries without a command: " + entries);
			assertEquals(Set.of("bench"), withoutMenu, "commands missing from plugins.config");
		}
	}
}
