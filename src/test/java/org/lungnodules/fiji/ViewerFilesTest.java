package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import net.imglib2.RandomAccess;
import net.imglib2.type.numeric.RealType;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.TemporaryHome;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.Nifti;
import org.lungnodules.phantom.ChestPhantom;

/**
 * Issue #23 §2: {@code analyze output=OUT} writes, per scan, a NIfTI label map and 3D Slicer markups. A
 * synthetic CT is analysed once as stored in LPS order (one scan) and once with its x and z axes reversed
 * and the direction adjusted (a cohort folder). nibabel, at test time, reads the CT and the label map: same
 * grid and affine, and each nodule's world centre from the candidates file lands in a voxel holding its
 * number k (the k-th row at or above the threshold). The markups validate against Slicer's published
 * schema v1.0.3 (copied with Slicer's licence into the test resources), with one LPS control point per
 * nodule at the candidates file's centre.
 */
class ViewerFilesTest {

	@TempDir
	static Path temp;
	@RegisterExtension
	static final TemporaryHome home = new TemporaryHome();

	static ChestPhantom phantom;
	static Path lpsOut, flippedOut;
	static final String LPS = "lps", FLIPPED = "flipped";

	@BeforeAll
	static void analyse() throws Exception {
		phantom = ChestPhantom.generate(31, 0, ChestPhantom.Options.defaults().withSize(48, 128, 128).withNodules(2, 3)
			.withDiameterRange(10, 16).withSolidOnly(true));
		CtVolume ct = phantom.volume();
		Path scans = Files.createDirectories(temp.resolve("cohort"));
		Nifti.write(temp.resolve(LPS + ".nii.gz"), ct);
		Nifti.write(scans.resolve(FLIPPED + ".nii.gz"), flipXZ(ct));
		lpsOut = temp.resolve("out-lps");
		flippedOut = temp.resolve("out-cohort");
		LunaCliTest.Outcome one = LunaCliTest.luna("analyze", "input=" + temp.resolve(LPS + ".nii.gz"), "models=demo", "output=" + lpsOut,
			"device=cpu", "fast=true");
		assertEquals(0, one.code(), one.err());
		LunaCliTest.Outcome cohort = LunaCliTest.luna("analyze", "input=" + scans, "models=demo", "output=" + flippedOut, "device=cpu", "fast=true");
		assertEquals(0, cohort.code(), cohort.err());
	}

	/** The same voxels stored with x and z reversed: origin at the old last column of the last slice, those axes' directions negated. */
	static CtVolume flipXZ(CtVolume ct) {
		int w = ct.width(), h = ct.height(), d = ct.depth();
		short[] v = new short[w * h * d];
		RandomAccess<? extends RealType<?>> ra = ct.image().randomAccess();
		for (int z = 0; z < d; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					ra.setPosition(new long[] { w - 1 - x, y, d - 1 - z });
					v[(z * h + y) * w + x] = (short) Math.round(ra.get().getRealDouble());
				}
		Geometry g = ct.geometry();
		double[] dir = g.direction();
		for (int r = 0; r < 3; r++) {
			dir[3 * r] = -dir[3 * r];
			dir[3 * r + 2] = -dir[3 * r + 2];
		}
		double[] origin = g.voxelToWorld(d - 1, 0, w - 1);
		return CtVolume.ofShorts(v, w, h, d, new Geometry(origin, g.spacing(), dir), FLIPPED);
	}

	/** The candidates file's rows at or above 0.5, in file order: nodule k is element k - 1. */
	static List<Map<String, String>> nodules(Path out, String uid) throws Exception {
		List<Map<String, String>> rows = AnalysisCommandsTest.csv(out.resolve(uid + "_candidates.csv"));
		List<Map<String, String>> nodules = new ArrayList<>();
		for (Map<String, String> r : rows)
			if (AnalysisCommandsTest.d(r, "probability") >= 0.5) nodules.add(r);
		return nodules;
	}

	@Test
	void labelMapLinesUpWithTheCtInNibabel() throws Exception {
		checkLabelMap(temp.resolve(LPS + ".nii.gz"), lpsOut, LPS);
	}

	@Test
	void labelMapOfACtStoredInAnotherOrderIsOnThatCtsGrid() throws Exception {
		checkLabelMap(temp.resolve("cohort").resolve(FLIPPED + ".nii.gz"), flippedOut, FLIPPED);
		// The same nodules as in LPS order (the analysis reorients exactly), in voxels mirrored along x and z.
		List<Map<String, String>> a = nodules(lpsOut, LPS), b = nodules(flippedOut, FLIPPED);
		assertEquals(a.size(), b.size(), "the same nodules either way");
		for (int k = 0; k < a.size(); k++) {
			assertEquals(phantom.volume().width() - 1 - AnalysisCommandsTest.d(a.get(k), "col"), AnalysisCommandsTest.d(b.get(k), "col"), 1e-3);
			assertEquals(phantom.volume().depth() - 1 - AnalysisCommandsTest.d(a.get(k), "index"), AnalysisCommandsTest.d(b.get(k), "index"), 1e-3);
		}
	}

	private void checkLabelMap(Path ctFile, Path out, String uid) throws Exception {
		List<Map<String, String>> nodules = nodules(out, uid);
		int truthHits = 0;
		for (Map<String, String> n : nodules) if (inTrueNodule(n)) truthHits++;
		assertTrue(truthHits >= 1, "the analysis found a true nodule of the phantom (else nothing is tested): " + nodules);
		Path labels = out.resolve(uid + "_nodules.nii.gz");
		assertTrue(Files.isRegularFile(labels), "label map written: " + labels);
		Path py = temp.resolve("check_labels.py");
		Files.writeString(py, String.join("\n",
			"import sys, numpy as np, nibabel as nib",
			"lab, ct = nib.load(sys.argv[1]), nib.load(sys.argv[2])",
			"L, C = np.asanyarray(lab.dataobj), ct.get_fdata()",
			"print('shape', L.shape == C.shape, L.shape)",
			"print('affine', np.allclose(lab.affine, ct.affine, atol=1e-4), np.allclose(lab.get_qform(), lab.get_sform(), atol=1e-4),",
			"      int(lab.header['qform_code']) > 0, int(lab.header['sform_code']) > 0)",
			"print('max', int(L.max()))",
			"inv = np.linalg.inv(lab.affine)",
			"for k, xyz in enumerate(sys.argv[3:], 1):",
			"    x, y, z = (float(v) for v in xyz.split(','))",
			"    ijk = inv @ np.array([-x, -y, z, 1.0])",  // LPS (the candidates file) to RAS (NIfTI)
			"    i, j, l = (int(round(v)) for v in ijk[:3])",
			"    print('nodule', k, int(L[i, j, l]), float(C[i, j, l]), (L == k).sum())",
			""));
		List<String> cmd = new ArrayList<>(List.of(ExternalTools.python("numpy", "nibabel"), py.toString(), labels.toString(), ctFile.toString()));
		for (Map<String, String> n : nodules) cmd.add(n.get("coordX") + "," + n.get("coordY") + "," + n.get("coordZ"));
		String said = ExternalTools.run(2, cmd.toArray(new String[0]));
		assertTrue(said.contains("shape True"), said);
		assertTrue(said.contains("affine True True True True"), "the CT's affine in qform and sform: " + said);
		assertTrue(said.contains("max " + nodules.size()), said);
		int k = 0;
		for (String line : said.split("\n")) {
			if (!line.startsWith("nodule ")) continue;
			String[] f = line.trim().split(" ");
			k++;
			assertEquals(k, Integer.parseInt(f[1]));
			assertEquals(k, Integer.parseInt(f[2]), "nodule " + k + "'s world centre lands in a voxel labelled " + k + ": " + said);
			assertTrue(Long.parseLong(f[4]) > 0, said);
			if (inTrueNodule(nodules.get(k - 1)))
				assertTrue(Double.parseDouble(f[3]) > -500, "the CT's voxel there is nodule tissue: " + line);
		}
		assertEquals(nodules.size(), k, said);
	}

	private static boolean inTrueNodule(Map<String, String> row) {
		for (ChestPhantom.Nodule n : phantom.nodules()) {
			double[] c = n.centerXyz();
			double d = Math.sqrt(Math.pow(AnalysisCommandsTest.d(row, "coordX") - c[0], 2) + Math.pow(AnalysisCommandsTest.d(row, "coordY") - c[1], 2) +
				Math.pow(AnalysisCommandsTest.d(row, "coordZ") - c[2], 2));
			if (d < n.diameterMm() / 2) return true;
		}
		return false;
	}

	static JsonSchema slicerSchema() throws Exception {
		try (InputStream in = ViewerFilesTest.class.getResourceAsStream("/org/lungnodules/analysis/slicer/markups-schema-v1.0.3.json")) {
			return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(in);
		}
	}

	@Test
	void markupsValidateAgainstSlicersSchemaWithOnePointPerNodule() throws Exception {
		JsonSchema schema = slicerSchema();
		ObjectMapper json = new ObjectMapper();
		Map<String, Path> outs = new HashMap<>(Map.of(LPS, lpsOut, FLIPPED, flippedOut));
		for (Map.Entry<String, Path> e : outs.entrySet()) {
			Path file = e.getValue().resolve(e.getKey() + "_nodules.mrk.json");
			JsonNode doc = json.readTree(file.toFile());
			Set<ValidationMessage> errors = schema.validate(doc);
			assertTrue(errors.isEmpty(), file + " against Slicer's schema: " + errors);
			assertEquals("https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#",
				doc.get("@schema").asText());
			JsonNode markup = doc.get("markups").get(0);
			assertEquals("Fiducial", markup.get("type").asText());
			assertEquals("LPS", markup.get("coordinateSystem").asText());
			List<Map<String, String>> nodules = nodules(e.getValue(), e.getKey());
			JsonNode points = markup.get("controlPoints");
			assertEquals(nodules.size(), points.size(), "one control point per nodule");
			for (int k = 1; k <= nodules.size(); k++) {
				JsonNode p = points.get(k - 1);
				Map<String, String> n = nodules.get(k - 1);
				assertTrue(p.get("label").asText().startsWith("#" + k + " p="), p.toString());
				String prob = String.format(java.util.Locale.ROOT, "p=%.2f", AnalysisCommandsTest.d(n, "probability"));
				assertTrue(p.get("label").asText().contains(prob), p.toString());
				if (!n.get("p_malignant").isEmpty())
					assertTrue(p.get("label").asText().contains(String.format(java.util.Locale.ROOT, "mal=%.2f", AnalysisCommandsTest.d(n, "p_malignant"))),
						p.toString());
				String[] xyz = { "coordX", "coordY", "coordZ" };
				for (int a = 0; a < 3; a++)
					assertEquals(AnalysisCommandsTest.d(n, xyz[a]), p.get("position").get(a).asDouble(), 1e-9, "LPS position, as the candidates file");
			}
		}
	}

	/** The schema check can fail: documents that break the schema are refused. */
	@Test
	void slicersSchemaRefusesBrokenMarkups() throws Exception {
		JsonSchema schema = slicerSchema();
		ObjectMapper json = new ObjectMapper();
		String good = Files.readString(lpsOut.resolve(LPS + "_nodules.mrk.json"));
		assertTrue(schema.validate(json.readTree(good)).isEmpty());
		for (String bad : List.of(good.replace("\"coordinateSystem\": \"LPS\"", "\"coordinateSystem\": \"XYZ\""),
			good.replace("\"type\": \"Fiducial\"", "\"type\": \"Pin\""),
			good.replace("\"@schema\"", "\"schema\""),
			good.replace("\"positionStatus\": \"defined\"", "\"positionStatus\": \"somewhere\"").replace("\"controlPoints\": []",
				"\"controlPoints\": [{\"positionStatus\": \"somewhere\"}]"))) {
			assertFalse(bad.equals(good), "the replacement applies");
			assertFalse(schema.validate(json.readTree(bad)).isEmpty(), "refused: " + bad);
		}
	}
}
