package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our plugins.config entries and key checking, in real ImageJ 1.54p batch mode. */
class ImageJMacroIT {

	@TempDir
	static Path temp;
	static ImageJBatch imagej;

	@BeforeAll
	static void install() throws Exception {
		imagej = new ImageJBatch(temp);
	}

	/** Menu commands need ImageJ's menus, which need a display: a virtual one here. */
	static void requireDisplay() {
		if (ImageJBatch.hasVirtualDisplay()) return;
		String msg = "xvfb-run is not installed (apt-get install xvfb); menu-command macro tests need it";
		if ("true".equalsIgnoreCase(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail(msg);
		org.junit.jupiter.api.Assumptions.assumeTrue(false, msg);
	}

	@Test
	void menuCommandRunsFromMacro() throws Exception {
		Path macro = temp.resolve("about.ijm");
		Files.writeString(macro, "run(\"About Lung Nodules\");\nprint(\"macro finished\");\n");
		requireDisplay();
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);
		assertTrue(run.output().contains("Lung Nodules for Fiji"), run.output());
		assertTrue(run.output().contains("macro finished"), run.output());
	}

	@Test
	void misspeltKeyIsNamed() throws Exception {
		Path macro = temp.resolve("typo.ijm");
		Files.writeString(macro, "err = call(\"org.lungnodules.fiji.LunaPlugIn.tryRun\", \"about\", \"colour=red\");\nprint(\"ERROR=\" + err);\n");
		ImageJBatch.Run run = imagej.runHeadless(macro, null);
		assertTrue(run.output().contains("ERROR=") && run.output().contains("'colour'"), run.output());
	}
}
