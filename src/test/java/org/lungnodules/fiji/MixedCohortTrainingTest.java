package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Nifti;
import org.lungnodules.phantom.PhantomDataset;

/**
 * Issue #22's acceptance, a mixed cohort: 8 small synthetic CTs, 4 written as NIfTI by our writer
 * and 4 as DICOM series by pydicom (one of them with rows and columns reversed), with an
 * annotations.csv keyed by file stem and SeriesInstanceUID (with the optional mal_bool column) and
 * no candidates.csv. prepare-cache generates the classifier's candidates with the published U-Net
 * and caches them; a second run reuses them; a rewritten DICOM file makes its series stale. Then
 * train-cls from the published classifier and train-seg from the published U-Net run one short
 * epoch on the cache, print the initial and fine-tuned scores, and write checkpoints that real
 * PyTorch's {@code torch.load(..., weights_only=True)} reads.
 * <p>
 * Truths: the phantom's own annotation table (its nodules' world centres and diameters), from which
 * the test labels each generated candidate itself, and PyTorch for the checkpoints.
 * Tools: python3 with numpy and pydicom (fixtures), python3 with torch (checkpoints).
 */
class MixedCohortTrainingTest {

	static final String CLS = "models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state";
	static final String SEG = "models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";

	@TempDir
	static Path temp;
	static Path cohort, cache;
	/** The truth: series key in the cohort → its nodules {x, y, z, diameter}. */
	static final Map<String, List<double[]>> truth = new HashMap<>();

	@BeforeAll
	static void mixedCohort() throws Exception {
		String python = ExternalTools.python("numpy", "pydicom");
		Path src = temp.resolve("phantoms");
		PhantomDataset.Result made = PhantomDataset.write(src, 2207, 8, PhantomDataset.Options.defaults().withSize(36, 112, 112)
			.withSpacing(1.5, 1.5, 2.0).withNodules(1, 3).withDiameterRange(6, 18).withCompression(false));
		cohort = Files.createDirectories(temp.resolve("cohort"));
		cache = temp.resolve("cache");
		Map<String, String> key = new HashMap<>();
		for (int i = 0; i < made.seriesUids().size(); i++) {
			String uid = made.seriesUids().get(i);
			Path mhd = src.resolve(uid + ".mhd");
			if (i % 2 == 0) {
				String stem = "scan-" + i;
				Nifti.write(cohort.resolve(stem + ".nii.gz"), MetaImage.readVolume(mhd));
				key.put(uid, stem);
			}
			else {
				String series = PydicomSeries.write(python, mhd, cohort.resolve("patient-" + i), i == 3);
				key.put(uid, series);
			}
		}
		// annotations.csv keyed by stem / SeriesInstanceUID, with the book's optional mal_bool column
		StringBuilder annotations = new StringBuilder("seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool\n");
		List<String> rows = Files.readAllLines(src.resolve(PhantomDataset.MALIGNANCY));
		for (String row : rows.subList(1, rows.size())) {
			String[] f = row.split(",");
			String k = key.get(f[0]);
			annotations.append(String.join(",", k, f[1], f[2], f[3], f[4], f[5])).append('\n');
			truth.computeIfAbsent(k, x -> new ArrayList<>()).add(new double[] { Double.parseDouble(f[1]), Double.parseDouble(f[2]),
				Double.parseDouble(f[3]), Double.parseDouble(f[4]) });
		}
		Files.writeString(cohort.resolve("annotations.csv"), annotations);
		assertTrue(!Files.exists(cohort.resolve("candidates.csv")));
	}

	static LunaCliTest.Outcome luna(String... args) {
		return LunaCliTest.luna(args);
	}

	@Test
	void candidatesAreGeneratedCachedAndTrainedOnFromThePublishedWeights() throws Exception {
		Path seg = SharedData.require(SEG), cls = SharedData.require(CLS);
		LunaCliTest.Outcome prepared = luna("prepare-cache", "data=" + cohort, "cache=" + cache, "kind=all", "seg_model=" + seg,
			"random_points=20", "val_stride=3", "device=cpu");
		assertEquals(0, prepared.code(), prepared.err());
		String log = prepared.out() + prepared.err();
		assertTrue(log.contains("8 scan(s) segmented, 0 reused"), log);
		assertTrue(log.contains("Split by series: training 5 scans"), log);
		assertTrue(log.contains("validation 3 scans"), log);

		// The generated candidates.csv: LUNA16's columns, every scan, labels by the truth's radii.
		Path generated = cache.resolve("candidates").resolve("candidates.csv");
		List<String> lines = Files.readAllLines(generated);
		assertEquals("seriesuid,coordX,coordY,coordZ,class", lines.get(0));
		Map<String, Integer> perScan = new HashMap<>();
		int positives = 0;
		for (String line : lines.subList(1, lines.size())) {
			String[] f = line.split(",");
			double x = Double.parseDouble(f[1]), y = Double.parseDouble(f[2]), z = Double.parseDouble(f[3]);
			boolean inside = false;
			for (double[] n : truth.getOrDefault(f[0], List.of()))
				inside |= Math.pow(x - n[0], 2) + Math.pow(y - n[1], 2) + Math.pow(z - n[2], 2) < n[3] * n[3] / 4;
			assertEquals(inside ? "1" : "0", f[4], line);
			perScan.merge(f[0], 1, Integer::sum);
			if (inside) positives++;
		}
		assertEquals(truth.keySet(), perScan.keySet(), "every scan has candidates, keyed by stem or SeriesInstanceUID");
		for (int n : perScan.values()) assertTrue(n >= 20, "20 random lung points per scan at least: " + perScan);
		// Some of the published U-Net's components fall inside the phantoms' nodules: class 1.
		System.out.println(positives + " generated candidates inside the " + truth.values().stream().mapToInt(List::size).sum() + " nodules");
		assertTrue(positives > 0, "no generated candidate inside a nodule");
		try (Stream<Path> s = Files.list(cache)) {
			assertEquals(8, s.filter(p -> p.toString().endsWith(".chunks")).count(), "a chunk cache file per scan");
		}

		// Resumable: nothing is segmented again; a rewritten DICOM file makes only its series stale.
		LunaCliTest.Outcome again = luna("prepare-cache", "data=" + cohort, "cache=" + cache, "kind=all", "seg_model=" + seg,
			"random_points=20", "val_stride=3", "device=cpu");
		assertEquals(0, again.code(), again.err());
		String log2 = again.out() + again.err();
		assertTrue(log2.contains("0 scan(s) segmented, 8 reused"), log2);
		assertTrue(log2.contains("0 CT(s) written"), log2);
		Path slice = cohort.resolve("patient-1").resolve("IM0001");
		Files.setLastModifiedTime(slice, FileTime.fromMillis(Files.getLastModifiedTime(slice).toMillis() + 5000));
		LunaCliTest.Outcome stale = luna("prepare-cache", "data=" + cohort, "cache=" + cache, "kind=all", "seg_model=" + seg,
			"random_points=20", "val_stride=3", "device=cpu");
		assertEquals(0, stale.code(), stale.err());
		String log3 = stale.out() + stale.err();
		assertTrue(log3.contains("1 scan(s) segmented, 7 reused"), log3);
		assertTrue(log3.contains("1 CT(s) written"), log3);

		Path runs = temp.resolve("runs");
		LunaCliTest.Outcome trainCls = luna("train-cls", "data=" + cohort, "cache=" + cache, "output=" + runs, "name=cls", "init=" + cls,
			"seg_model=" + seg, "random_points=20", "epochs=1", "epoch_size=16", "batch_size=8", "val_stride=3", "val_samples=24",
			"device=cpu");
		assertEquals(0, trainCls.code(), trainCls.err());
		String clsLog = trainCls.out() + trainCls.err();
		assertTrue(clsLog.contains("0 scan(s) segmented, 8 reused"), clsLog);
		assertTrue(clsLog.contains("initial weights") && clsLog.contains("fine-tuned"), clsLog);

		LunaCliTest.Outcome trainSeg = luna("train-seg", "data=" + cohort, "cache=" + cache, "output=" + runs, "name=seg", "init=" + seg, "cls_model=" + cls,
			"epochs=1", "epoch_size=8", "batch_size=4", "val_stride=3", "device=cpu");
		assertEquals(0, trainSeg.code(), trainSeg.err());
		String segLog = trainSeg.out() + trainSeg.err();
		assertTrue(segLog.contains("initial weights") && segLog.contains("fine-tuned"), segLog);
		System.out.println(clsLog.lines().filter(l -> l.contains("initial weights")).findFirst().orElse(""));
		System.out.println(segLog.lines().filter(l -> l.contains("initial weights")).findFirst().orElse(""));

		// Both runs end with the validation scans analysed end to end with both weights: the count of nodules >= 6 mm
		// comes from the phantoms' truth for the validation scans (every 3rd series by UID).
		int big = 0;
		for (String uid : org.lungnodules.training.LunaData.open(cohort, org.lungnodules.training.LunaData.Options.defaults().withValStride(3))
			.validationSeries())
			for (double[] n : truth.get(uid)) if (n[3] >= 6) big++;
		String header = "Validation scans end to end (3 scans, " + big + " annotated nodule(s) >= 6 mm)";
		assertTrue(big > 0, "the validation phantoms hold nodules of 6 mm or more");
		for (String said : List.of(clsLog, segLog)) {
			assertTrue(said.contains(header), said);
			java.util.regex.Matcher froc = java.util.regex.Pattern.compile("FROC CPM: ([0-9.]+) vs ([0-9.]+)").matcher(said);
			assertTrue(froc.find(), said);
			for (int g = 1; g <= 2; g++) assertTrue(Double.parseDouble(froc.group(g)) <= 1, froc.group());
		}
		assertTrue(clsLog.matches("(?s).*U-Net recall of nodules >= 6 mm: \\d+/" + big + " \\([0-9.]+\\) \\(same U-Net on both sides\\).*"), clsLog);
		assertTrue(segLog.matches("(?s).*U-Net recall of nodules >= 6 mm: \\d+/" + big + " \\([0-9.]+\\) vs \\d+/" + big + " .*"), segLog);
		System.out.println(clsLog.substring(clsLog.indexOf(header)).lines().limit(3).collect(java.util.stream.Collectors.joining("\n")));
		System.out.println(segLog.substring(segLog.indexOf(header)).lines().limit(3).collect(java.util.stream.Collectors.joining("\n")));

		// Real PyTorch reads the checkpoints with weights_only=True.
		String torch = ExternalTools.python("torch");
		Path check = temp.resolve("load.py");
		Files.writeString(check, String.join("\n", "import sys, zipfile, pickletools, torch",
			// PyTorch 2.x's weights-only unpickler takes the BINFLOAT opcode of our checkpoints' floats (lr, metrics);
			// Debian's PyTorch 1.13 predates it. There the same rules are checked on the pickle (opcodes of 2.x's
			// restricted unpickler, torch's allowed globals), and PyTorch itself then loads the file.
			"OPS = {'APPEND','APPENDS','BINFLOAT','BINGET','BININT','BININT1','BININT2','BINPERSID','BINPUT','BINUNICODE','BUILD',",
			"       'EMPTY_DICT','EMPTY_LIST','EMPTY_SET','EMPTY_TUPLE','GLOBAL','LONG1','LONG_BINGET','LONG_BINPUT','MARK','NEWFALSE',",
			"       'NEWOBJ','NEWTRUE','NONE','PROTO','REDUCE','SETITEM','SETITEMS','SHORT_BINSTRING','STOP','TUPLE','TUPLE1','TUPLE2','TUPLE3'}",
			"GLOBALS = {'collections OrderedDict', 'torch._utils _rebuild_tensor_v2', 'torch._utils _rebuild_parameter'}",
			"new = int(torch.__version__.split('.')[0]) >= 2",
			"for f in sys.argv[1:]:",
			"    if new:",
			"        c = torch.load(f, map_location='cpu', weights_only=True)",
			"    else:",
			"        z = zipfile.ZipFile(f)",
			"        data = z.read([n for n in z.namelist() if n.endswith('/data.pkl')][0])",
			"        for op, arg, pos in pickletools.genops(data):",
			"            assert op.name in OPS, (f, op.name)",
			"            if op.name == 'GLOBAL':",
			"                assert arg in GLOBALS or (arg.startswith('torch ') and arg.endswith('Storage')), (f, arg)",
			"        c = torch.load(f, map_location='cpu', weights_only=False)",
			"    s = c['model_state']",
			"    print(('weights_only=True ' if new else 'weights-only rules checked, torch 1.x load ') + f, len(s),",
			"          sum(v.numel() for v in s.values() if v.is_floating_point()))", ""));
		String loaded = ExternalTools.run(5, torch, check.toString(), runs.resolve("cls/best.pt").toString(), runs.resolve("cls/last.pt").toString(),
			runs.resolve("seg/best.pt").toString(), runs.resolve("seg/last.pt").toString());
		System.out.print(loaded);
		// The book's classifier has 222,220 parameters and its U-Net 118,271 (../shared/README.md); BatchNorm buffers add floats.
		for (String line : loaded.strip().split("\n")) {
			long floats = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
			assertTrue(line.contains("/cls/") ? floats >= 222_220 && floats < 223_000 : floats >= 118_271 && floats < 119_500, line);
		}
	}
}
