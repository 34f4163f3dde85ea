package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;

/**
 * Issue #23 §3 in real ImageJ 1.54p under a virtual display: a CT opened through File › Import and analysed
 * from the menu, then opened again and given the run's candidates file with {@code run("Open Results", ...)},
 * as the Macro Recorder writes it, shows the same Results rows, overlay and RoiManager entries.
 */
class OpenResultsIT {

	@TempDir
	static Path temp;
	static ImageJBatch imagej;

	@BeforeAll
	static void install() throws Exception {
		imagej = new ImageJBatch(temp);
	}

	@Test
	void openResultsRestoresTheTableOverlayAndRoiManagerOfARun() throws Exception {
		ImageJMacroIT.requireDisplay();
		Path phantom = SharedData.require("reference/phantom-a/phantom-a.mhd");
		Path out = temp.resolve("run");
		String dump = "print(tag + \" RESULTS \" + nResults + \" ROIMANAGER \" + roiManager(\"count\") + \" OVERLAY \" + Overlay.size);\n" +
			"for (i = 0; i < nResults; i++) print(tag + \" ROW \" + getResult(\"rank\", i) + \" \" + d2s(getResult(\"probability\", i), 6) + \" \" +\n" +
			"  d2s(getResult(\"coordX\", i), 4) + \" \" + d2s(getResult(\"index\", i), 4) + \" \" + d2s(getResult(\"row\", i), 4) + \" \" + d2s(getResult(\"col\", i), 4));\n" +
			"for (i = 0; i < Overlay.size; i++) {\n" +
			"  Overlay.activateSelection(i);\n" +
			"  getSelectionBounds(x, y, w, h);\n" +
			"  print(tag + \" ROI \" + selectionType() + \" \" + getSliceNumber() + \" \" + d2s(x, 3) + \" \" + d2s(y, 3) + \" \" + d2s(w, 3) + \" \" + d2s(h, 3) + \" \" + Roi.getName);\n" +
			"}\n" +
			"for (i = 0; i < roiManager(\"count\"); i++) { roiManager(\"select\", i); print(tag + \" RM \" + Roi.getName + \" \" + getSliceNumber()); }\n";
		String open = "run(\"MetaImage (.mhd/.mha) with geometry\", \"input=[" + phantom + "]\");\n";
		Path macro = temp.resolve("open-results.ijm");
		// Not in batch mode: images in windows and the RoiManager window, as a user sees them.
		Files.writeString(macro, open +
			"run(\"Analyze CT\", \"" + ImageJMacroIT.models() + " output=[" + out + "]\");\n" +
			"tag = \"ANALYZED\";\n" + dump +
			"run(\"Close All\");\nroiManager(\"reset\");\nrun(\"Clear Results\");\nprint(\"CLEARED \" + nImages + \" \" + nResults + \" \" + roiManager(\"count\"));\n" +
			open +
			"run(\"Open Results\", \"candidates=[" + out.resolve("phantom-a_candidates.csv") + "]\");\n" +
			"tag = \"OPENED\";\n" + dump);
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);
		String said = run.output();
		assertTrue(said.contains("CLEARED 0 0 0"), "nothing left of the first run before Open Results: " + said);
		List<String> analysed = tagged(said, "ANALYZED"), opened = tagged(said, "OPENED");
		assertTrue(analysed.size() > 0 && analysed.get(0).startsWith("RESULTS 8 ROIMANAGER 8 "), "phantom-a's 8 nodules after Analyze CT: " + said);
		assertEquals(analysed, opened, "Open Results shows what Analyze CT showed:\n" + said);
	}

	/** The lines printed with a tag, without it. */
	static List<String> tagged(String output, String tag) {
		List<String> l = new ArrayList<>();
		for (String line : output.split("\n"))
			if (line.startsWith(tag + " ")) l.add(line.substring(tag.length() + 1).trim());
		return l;
	}
}
