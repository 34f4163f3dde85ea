package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.PointRoi;
import ij.gui.Roi;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.training.LunaData;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.module.Module;

/**
 * Issue #22 §3, headless through a real SciJava Context: an oval ROI drawn on a synthetic nodule of
 * a CT as File › Import shows it, and Add Scan to Dataset, give an annotations.csv row within 1 mm of
 * the phantom's truth centre and diameter; also on the same CT written by pydicom as a DICOM series
 * with rows and columns reversed, where the oval is placed at the truth's voxel flipped by hand. A
 * rerun replaces the scan's rows; a point ROI takes diameter=; the folder is a dataset LunaData reads
 * (scans.csv); Show Annotations draws the nodule back where it was marked.
 */
class DatasetCommandsTest {

	@TempDir
	static Path temp;
	static Path mhd;
	/** Truth of the largest nodule: world x, y, z and diameter, from the phantom's annotations.csv. */
	static double[] nodule;
	static Map<String, String> header = new HashMap<>();

	@BeforeAll
	static void phantom() throws Exception {
		Path src = temp.resolve("phantom");
		PhantomDataset.Result r = PhantomDataset.write(src, 31, 1, PhantomDataset.Options.defaults().withSize(40, 112, 112)
			.withSpacing(0.9, 0.9, 1.25).withNodules(2, 3).withDiameterRange(8, 16).withCompression(false));
		mhd = src.resolve(r.seriesUids().get(0) + ".mhd");
		List<String> rows = Files.readAllLines(src.resolve(PhantomDataset.ANNOTATIONS));
		nodule = rows.subList(1, rows.size()).stream().map(l -> l.split(","))
			.map(f -> new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]) })
			.max(Comparator.comparingDouble(n -> n[3])).orElseThrow();
		for (String line : Files.readAllLines(mhd))
			if (line.contains(" = ")) header.put(line.substring(0, line.indexOf(" = ")), line.substring(line.indexOf(" = ") + 3));
	}

	/** The truth's voxel (index, row, col) on the MetaImage's grid, by hand from its header (identity direction). */
	static double[] truthVoxel() {
		String[] o = header.get("Offset").split(" "), s = header.get("ElementSpacing").split(" ");
		return new double[] { (nodule[2] - Double.parseDouble(o[2])) / Double.parseDouble(s[2]),
			(nodule[1] - Double.parseDouble(o[1])) / Double.parseDouble(s[1]), (nodule[0] - Double.parseDouble(o[0])) / Double.parseDouble(s[0]) };
	}

	static int[] dims() {
		String[] d = header.get("DimSize").split(" ");
		return new int[] { Integer.parseInt(d[2]), Integer.parseInt(d[1]), Integer.parseInt(d[0]) };
	}

	/** An oval of the truth's diameter around voxel (row, col) on stack slice {@code index + 1}. */
	static OvalRoi oval(int index, double row, double col) {
		double w = nodule[3] / 0.9;
		OvalRoi oval = new OvalRoi(col + 0.5 - w / 2, row + 0.5 - w / 2, w, w);
		oval.setPosition(index + 1);
		return oval;
	}

	static Module run(Context context, String command, Map<String, String> params, ImagePlus imp) throws Exception {
		return new CommandRunner(context).run(command, params, cmd -> ((UsesCurrentImage) cmd).useImage(imp));
	}

	/** The rows of annotations.csv, by series, as numbers. */
	static Map<String, List<double[]>> annotations(Path dataset) throws Exception {
		Map<String, List<double[]>> out = new HashMap<>();
		List<String> lines = Files.readAllLines(dataset.resolve("annotations.csv"));
		assertEquals("seriesuid,coordX,coordY,coordZ,diameter_mm", lines.get(0));
		for (String l : lines.subList(1, lines.size())) {
			String[] f = l.split(",");
			out.computeIfAbsent(f[0], k -> new java.util.ArrayList<>()).add(new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]),
				Double.parseDouble(f[3]), Double.parseDouble(f[4]) });
		}
		return out;
	}

	static void assertNearTruth(double[] row, double diameter) {
		double dist = Math.sqrt(Math.pow(row[0] - nodule[0], 2) + Math.pow(row[1] - nodule[1], 2) + Math.pow(row[2] - nodule[2], 2));
		assertTrue(dist < 1.0, "centre " + java.util.Arrays.toString(row) + " is " + dist + " mm from the truth " + java.util.Arrays.toString(nodule));
		assertEquals(diameter, row[3], 1.0, "diameter");
	}

	@Test
	void ovalsOnAMetaImageAndOnAReversedDicomSeriesBecomeAnnotations() throws Exception {
		String python = ExternalTools.python("numpy", "pydicom");
		Path dicom = temp.resolve("dicom-reversed");
		String dicomUid = PydicomSeries.write(python, mhd, dicom, true);
		Path dataset = temp.resolve("dataset");
		double[] v = truthVoxel();
		int[] dims = dims();
		int index = (int) Math.round(v[0]);
		try (Context context = new Context()) {
			// The MetaImage as File > Import opens it (the path recorded on the image).
			ImagePlus imp = ImagePlusAdapter.toImagePlus(MetaImage.readVolume(mhd));
			imp.setProperty(ImageJDisplay.SOURCE_PROPERTY, mhd.toString());
			imp.setRoi(oval(index, v[1], v[2]));
			run(context, "add-scan-to-dataset", Map.of("dataset", dataset.toString()), imp);
			String mhdUid = CtReader.nameOf(mhd);
			assertNearTruth(annotations(dataset).get(mhdUid).get(0), nodule[3]);

			// The reversed DICOM series as stored: the truth's row and column flipped by hand.
			ImagePlus rev = ImagePlusAdapter.toImagePlus(CtReader.read(dicom).volume());
			rev.setProperty(ImageJDisplay.SOURCE_PROPERTY, dicom.toString());
			double row = dims[1] - 1 - v[1], col = dims[2] - 1 - v[2];
			rev.setRoi(oval(index, row, col));
			run(context, "add-scan-to-dataset", Map.of("dataset", dataset.toString()), rev);
			rev.setRoi(oval(index, row, col));
			Module again = run(context, "add-scan-to-dataset", Map.of("dataset", dataset.toString()), rev);
			assertTrue(((String) again.getOutput("report")).contains("replacing its 1 earlier row(s)"), (String) again.getOutput("report"));
			Map<String, List<double[]>> a = annotations(dataset);
			assertEquals(1, a.get(dicomUid).size(), "a rerun replaces the scan's rows");
			assertNearTruth(a.get(dicomUid).get(0), nodule[3]);
			assertEquals(1, a.get(mhdUid).size());

			// The folder is a dataset: both scans through scans.csv, keyed by stem and SeriesInstanceUID.
			LunaData d = LunaData.open(dataset);
			assertEquals(java.util.Set.of(mhdUid, dicomUid), d.ctPaths().keySet());
			assertEquals(1, d.nodules(dicomUid).size());

			// Show Annotations draws it back where it was marked.
			ImagePlus shown = ImagePlusAdapter.toImagePlus(CtReader.read(dicom).volume());
			shown.setProperty(ImageJDisplay.SOURCE_PROPERTY, dicom.toString());
			Module s = run(context, "show-annotations", Map.of("dataset", dataset.toString()), shown);
			ShowAnnotationsCommand show = (ShowAnnotationsCommand) ((CommandModule) s).getCommand();
			assertEquals(1, show.middles().size());
			Roi middle = show.middles().get(0);
			assertEquals(index + 1, middle.getPosition());
			java.awt.geom.Rectangle2D.Double b = middle.getFloatBounds();
			assertEquals(col, b.x + b.width / 2 - 0.5, 1.0 / 0.9);
			assertEquals(row, b.y + b.height / 2 - 0.5, 1.0 / 0.9);
			assertTrue(shown.getOverlay().size() > 1, "circles on the slices the nodule spans");

			// A point ROI with diameter=, replacing the oval.
			PointRoi point = new PointRoi(col + 0.5, row + 0.5);
			point.setPosition(index + 1);
			rev.setRoi(point);
			run(context, "add-scan-to-dataset", Map.of("dataset", dataset.toString(), "diameter", "7"), rev);
			assertNearTruth(annotations(dataset).get(dicomUid).get(0), 7);
			// Without diameter= a macro or headless run must say so.
			rev.setRoi(point);
			Exception e = assertThrows(Exception.class, () -> run(context, "add-scan-to-dataset", Map.of("dataset", dataset.toString()), rev));
			assertTrue(String.valueOf(e.getMessage()).contains("diameter=") || String.valueOf(e.getCause()).contains("diameter="), e.toString());
		}
	}
}
