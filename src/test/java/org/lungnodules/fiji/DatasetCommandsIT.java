package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.io.CtReader;
import org.lungnodules.phantom.PhantomDataset;

/**
 * Issue #22 §3 in real ImageJ 1.54p under Xvfb, from the menus as a macro records them: a synthetic
 * CT opened with File › Import (as a MetaImage, and as a pydicom DICOM series stored with rows and
 * columns reversed), an oval drawn on its largest nodule, Add Scan to Dataset. Each annotations.csv
 * row is within 1 mm of the phantom's truth centre and diameter (the oval placed at the truth's voxel,
 * mapped onto the reversed grid by hand); the DICOM series' oval goes through the RoiManager. Show Annotations then draws the nodules back on the image.
 */
class DatasetCommandsIT {

	@TempDir
	static Path temp;

	@Test
	void ovalAndAddScanToDatasetFromTheMenus() throws Exception {
		ImageJMacroIT.requireDisplay();
		ImageJBatch imagej = new ImageJBatch(temp);
		Path src = temp.resolve("phantom");
		PhantomDataset.Result r = PhantomDataset.write(src, 31, 1, PhantomDataset.Options.defaults().withSize(40, 112, 112)
			.withSpacing(0.9, 0.9, 1.25).withNodules(2, 3).withDiameterRange(8, 16).withCompression(false));
		Path mhd = src.resolve(r.seriesUids().get(0) + ".mhd");
		List<String> rows = Files.readAllLines(src.resolve(PhantomDataset.ANNOTATIONS));
		double[] nodule = rows.subList(1, rows.size()).stream().map(l -> l.split(","))
			.map(f -> new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]) })
			.max(Comparator.comparingDouble(n -> n[3])).orElseThrow();
		Map<String, String> h = new HashMap<>();
		for (String line : Files.readAllLines(mhd))
			if (line.contains(" = ")) h.put(line.substring(0, line.indexOf(" = ")), line.substring(line.indexOf(" = ") + 3));
		String[] o = h.get("Offset").split(" "), s = h.get("ElementSpacing").split(" "), d = h.get("DimSize").split(" ");
		// The truth's voxel by hand from the header (identity direction), and on the reversed grid.
		double col = (nodule[0] - Double.parseDouble(o[0])) / Double.parseDouble(s[0]);
		double row = (nodule[1] - Double.parseDouble(o[1])) / Double.parseDouble(s[1]);
		int slice = (int) Math.round((nodule[2] - Double.parseDouble(o[2])) / Double.parseDouble(s[2]));
		double colRev = Integer.parseInt(d[0]) - 1 - col, rowRev = Integer.parseInt(d[1]) - 1 - row;
		double w = nodule[3] / Double.parseDouble(s[0]);

		Path dicom = temp.resolve("dicom-reversed");
		String dicomUid = PydicomSeries.write(ExternalTools.python("numpy", "pydicom"), mhd, dicom, true);
		Path dataset = temp.resolve("dataset");
		Path macro = temp.resolve("add-scan.ijm");
		Files.writeString(macro, String.format(Locale.ROOT, "setBatchMode(true);\n" +
			"run(\"MetaImage (.mhd/.mha) with geometry\", \"input=[%s]\");\n" +
			"setSlice(%d);\nmakeOval(%f, %f, %f, %f);\n" +
			"run(\"Add Scan to Dataset\", \"dataset=[%s]\");\n" +
			"run(\"DICOM series with geometry\", \"input=[%s]\");\n" +
			"setSlice(%d);\nmakeOval(%f, %f, %f, %f);\n" +
			// this one through the RoiManager, the selection removed
			"roiManager(\"reset\");\nroiManager(\"Add\");\nrun(\"Select None\");\nsetSlice(1);\n" +
			"print(\"ROIS=\" + roiManager(\"count\"));\n" +
			"run(\"Add Scan to Dataset\", \"dataset=[%s]\");\n" +
			"run(\"Select None\");\n" +
			"run(\"Show Annotations\", \"dataset=[%s]\");\n" +
			"print(\"OVERLAY=\" + Overlay.size);\n",
			mhd, slice + 1, col + 0.5 - w / 2, row + 0.5 - w / 2, w, w, dataset,
			dicom, slice + 1, colRev + 0.5 - w / 2, rowRev + 0.5 - w / 2, w, w, dataset, dataset));
		ImageJBatch.Run run = imagej.runWithDisplay(macro, null);
		assertTrue(run.output().contains("OVERLAY="), run.output());
		assertTrue(Integer.parseInt(run.output().replaceAll("(?s).*OVERLAY=(\\d+).*", "$1")) > 1, run.output());

		List<String> lines = Files.readAllLines(dataset.resolve("annotations.csv"));
		assertEquals(3, lines.size(), String.join("\n", lines) + "\n" + run.output());
		Map<String, double[]> bySeries = new HashMap<>();
		for (String l : lines.subList(1, lines.size())) {
			String[] f = l.split(",");
			bySeries.put(f[0], new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]) });
		}
		for (String uid : new String[] { CtReader.nameOf(mhd), dicomUid }) {
			double[] a = bySeries.get(uid);
			assertTrue(a != null, uid + " in " + lines);
			double dist = Math.sqrt(Math.pow(a[0] - nodule[0], 2) + Math.pow(a[1] - nodule[1], 2) + Math.pow(a[2] - nodule[2], 2));
			assertTrue(dist < 1.0, uid + ": " + dist + " mm from the truth centre");
			assertEquals(nodule[3], a[3], 1.0, uid + ": diameter");
		}
	}
}
