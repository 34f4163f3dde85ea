package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.Roi;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.analysis.AnalysisResult;
import org.lungnodules.analysis.Candidate;
import org.lungnodules.analysis.CandidatesCsv;
import org.lungnodules.analysis.CtAnalysis;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.ct.Reorientation;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Nifti;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;

/**
 * Issue #21: the analysis is a function of the patient and the scanner geometry, never of the order
 * a file stores the voxels in. LIDC-IDRI-0001 (LIDC-IDRI, TCIA, CC BY 3.0: ../shared/real/ATTRIBUTION.md)
 * written three other ways by other people's tools: Debian's dcm2niix (a NIfTI with rows bottom-up,
 * "LAS"), nibabel (a NIfTI of coronal slices) and pydicom (the DICOM series with rows and columns
 * reversed, ImageOrientationPatient −1,0,0,0,−1,0). Each must give, once read and reoriented, exactly
 * the voxels that summary.json's {@code hu_sha256} describes, at the same world points. One analysis,
 * of a 48-slice slab of the dcm2niix file around the 23 mm nodule, must find what real PyTorch found
 * on the DICOM series, and report it on the file's own grid.
 */
class StorageOrderRealCtTest {

	static final String REAL = "real/LIDC-IDRI-0001/";
	static final int SLAB_FROM = 66, SLAB_TO = 113;

	@TempDir
	static Path temp;
	static Path dicom;
	static CtVolume reference;
	static String huSha256;
	static String summary;

	@BeforeAll
	static void readTheDicomSeries() throws IOException {
		dicom = SharedData.require(REAL + "dicom");
		summary = Files.readString(SharedData.require(REAL + "summary.json"));
		Matcher m = Pattern.compile("\"hu_sha256\"\\s*:\\s*\"([0-9a-f]{64})\"").matcher(summary);
		assertTrue(m.find(), "hu_sha256 in summary.json");
		huSha256 = m.group(1);
		reference = CtReader.read(dicom).volume();
		assertTrue(Reorientation.of(reference).isIdentity(), "the scanner's series is stored in LUNA16's orientation");
	}

	/** SHA-256 of the voxels as int16 little-endian, [z][y][x] (x fastest): summary.json's layout. */
	static String huSha256(CtVolume ct) throws Exception {
		MessageDigest sha = MessageDigest.getInstance("SHA-256");
		ByteBuffer plane = ByteBuffer.allocate(2 * ct.width() * ct.height()).order(ByteOrder.LITTLE_ENDIAN);
		Cursor<? extends RealType<?>> c = Views.flatIterable(ct.image()).cursor();
		while (c.hasNext()) {
			double v = c.next().getRealDouble();
			if (v != Math.rint(v) || v < Short.MIN_VALUE || v > Short.MAX_VALUE) throw new AssertionError("not an int16 HU value: " + v);
			plane.putShort((short) v);
			if (!plane.hasRemaining()) {
				sha.update(plane.array());
				plane.clear();
			}
		}
		return HexFormat.of().formatHex(sha.digest());
	}

	/** The reoriented CT holds exactly the scanner's voxels at the same world points as the DICOM series. */
	static Reorientation assertCanonicalIsTheDicomSeries(CtVolume read, String what) throws Exception {
		Reorientation r = Reorientation.of(read);
		assertFalse(r.isIdentity(), what + " is stored in another order than LUNA16's, or it tests nothing");
		CtVolume c = r.canonical();
		assertArrayEquals(reference.shapeIrc(), c.shapeIrc(), what);
		assertEquals(huSha256, huSha256(c), what + ": the reoriented voxels are summary.json's");
		Geometry want = reference.geometry(), got = c.geometry();
		assertArrayEquals(want.spacing(), got.spacing(), 1e-5, what + " spacing");
		// NIfTI keeps its affine in float32: a few µm at 200 mm
		assertArrayEquals(want.origin(), got.origin(), 1e-3, what + " origin");
		assertArrayEquals(want.direction(), got.direction(), 1e-6, what + " direction");
		// and the file's own grid puts each of its voxels where the reoriented grid does
		int[] shape = read.shapeIrc();
		for (int[] v : new int[][] { { 0, 0, 0 }, { shape[0] - 1, shape[1] - 1, shape[2] - 1 }, { 7, 300, 21 } }) {
			double[] back = r.toCanonicalIrc(v[0], v[1], v[2]);
			assertArrayEquals(read.geometry().voxelToWorld(v[0], v[1], v[2]), got.voxelToWorld(back[0], back[1], back[2]), 1e-3, what);
		}
		return r;
	}

	static Path dcm2niix() throws Exception {
		Path nii = temp.resolve("dcm2niix").resolve("lidc.nii");
		if (Files.exists(nii)) return nii;
		String tool = ExternalTools.require("dcm2niix", "-h");
		Files.createDirectories(nii.getParent());
		ExternalTools.run(5, tool, "-z", "n", "-b", "n", "-f", "lidc", "-o", nii.getParent().toString(), dicom.toString());
		assertTrue(Files.isRegularFile(nii), "dcm2niix wrote " + nii);
		return nii;
	}

	@Test
	void dcm2niixNiftiWithRowsBottomUp() throws Exception {
		CtVolume read = CtReader.read(dcm2niix()).volume();
		Reorientation r = assertCanonicalIsTheDicomSeries(read, "dcm2niix's NIfTI");
		// dcm2niix stores rows toward anterior ("LAS"): only y is reversed
		assertTrue(r.flipped(1) && !r.flipped(0) && !r.flipped(2), r.describe());
	}

	@Test
	void nibabelNiftiOfCoronalSlices() throws Exception {
		// The scanner's voxels as raw int16 [z][y][x], with the series' LPS geometry, for nibabel to store coronally.
		Path raw = temp.resolve("lidc.i16"), nii = temp.resolve("coronal.nii.gz");
		try (var out = Files.newOutputStream(raw)) {
			ByteBuffer b = ByteBuffer.allocate(2 * reference.width()).order(ByteOrder.LITTLE_ENDIAN);
			Cursor<? extends RealType<?>> c = Views.flatIterable(reference.image()).cursor();
			while (c.hasNext()) {
				b.putShort((short) c.next().getRealDouble());
				if (!b.hasRemaining()) {
					out.write(b.array());
					b.clear();
				}
			}
		}
		Geometry g = reference.geometry();
		int[] s = reference.shapeIrc();
		String script = String.join("\n",
			"import sys, numpy as np, nibabel as nib",
			"raw, out = sys.argv[1], sys.argv[2]",
			"nz, ny, nx = " + s[0] + ", " + s[1] + ", " + s[2],
			"sx, sy, sz = " + g.spacing()[0] + ", " + g.spacing()[1] + ", " + g.spacing()[2],
			"ox, oy, oz = " + g.origin()[0] + ", " + g.origin()[1] + ", " + g.origin()[2],
			"v = np.fromfile(raw, dtype='<i2').reshape(nz, ny, nx)",
			// NIfTI voxel (i, j, k): i = column (toward the left), j = rows running down (toward inferior),
			// k = coronal slices from anterior to posterior
			"cor = np.ascontiguousarray(v[::-1, :, :].transpose(2, 0, 1))",  // [x][z reversed][y]
			"lps = np.array([[sx, 0, 0, ox], [0, 0, sy, oy], [0, -sz, 0, oz + (nz - 1) * sz], [0, 0, 0, 1]])",
			"aff = np.diag([-1, -1, 1, 1]) @ lps",  // NIfTI is RAS
			"img = nib.Nifti1Image(cor.astype(np.int16), aff)",
			"img.set_sform(aff, 1)",
			"img.set_qform(aff, 1)",
			"nib.save(img, out)",
			"print(''.join(nib.aff2axcodes(nib.load(out).affine)))", "");
		Path py = temp.resolve("coronal.py");
		Files.writeString(py, script);
		String codes = ExternalTools.run(5, ExternalTools.python("numpy", "nibabel"), py.toString(), raw.toString(), nii.toString()).trim();
		assertEquals("LIP", codes, "nibabel's own reading of the file it wrote: columns left, rows inferior, slices posterior");
		CtVolume read = CtReader.read(nii).volume();
		assertArrayEquals(new int[] { s[1], s[0], s[2] }, read.shapeIrc(), "stored as 512 coronal slices of 133 rows");
		Reorientation r = assertCanonicalIsTheDicomSeries(read, "nibabel's coronal NIfTI");
		assertEquals(2, r.inputAxis(1), "canonical y (posterior) is the file's slice axis");
		assertEquals(1, r.inputAxis(2), "canonical z (superior) is the file's row axis");
		assertTrue(r.flipped(2), "the file's rows run toward inferior");
	}

	@Test
	void dicomWithRowsAndColumnsReversed() throws Exception {
		Path out = temp.resolve("reversed");
		Files.createDirectories(out);
		String script = String.join("\n",
			"import os, sys, numpy as np, pydicom",
			"src, dst = sys.argv[1], sys.argv[2]",
			"n = 0",
			"for name in sorted(os.listdir(src)):",
			"    ds = pydicom.dcmread(os.path.join(src, name))",
			"    a = ds.pixel_array",
			"    rows, cols = a.shape",
			"    iop = [float(v) for v in ds.ImageOrientationPatient]",
			"    X, Y = np.array(iop[:3]), np.array(iop[3:])",
			"    dr, dc = [float(v) for v in ds.PixelSpacing]",
			"    ipp = np.array([float(v) for v in ds.ImagePositionPatient])",
			// the new first pixel is the old last one: row rows-1, column cols-1
			"    new = ipp + (cols - 1) * dc * X + (rows - 1) * dr * Y",
			"    ds.ImagePositionPatient = ['%.6f' % v for v in new]",
			"    ds.ImageOrientationPatient = ['%g' % v for v in np.concatenate([-X, -Y])]",
			"    ds.PixelData = np.ascontiguousarray(a[::-1, ::-1]).astype(a.dtype).tobytes()",
			"    ds.save_as(os.path.join(dst, name))",
			"    n += 1",
			"print(n)", "");
		Path py = temp.resolve("reverse.py");
		Files.writeString(py, script);
		String n = ExternalTools.run(5, ExternalTools.python("numpy", "pydicom"), py.toString(), dicom.toString(), out.toString()).trim();
		assertEquals("133", n, "pydicom rewrote every slice");
		CtVolume read = CtReader.read(out).volume();
		assertArrayEquals(new double[] { -1, 0, 0, 0, -1, 0, 0, 0, 1 }, read.geometry().direction(), 1e-9, "IOP -1,0,0,0,-1,0");
		Reorientation r = assertCanonicalIsTheDicomSeries(read, "the reversed DICOM series");
		assertTrue(r.flipped(0) && r.flipped(1) && !r.flipped(2), r.describe());
	}

	/**
	 * Slices 66–113 of dcm2niix's file (rows bottom-up), written as a NIfTI file that keeps that order,
	 * read and analysed as a user's file would be. The components that the slab cannot have cut
	 * (centre on slices 82–98, fewer voxels than slices to the slab's unreliable ends) are those of
	 * real PyTorch on the whole DICOM series: same world point within 0.1 mm, same p_nodule within
	 * 1e-3. The U-Net probability on slices 82–97 is PyTorch's to 1e-4, on the file's grid. The
	 * candidates table's index, row and col are positions in the file as opened, and the Fiji overlay
	 * drawn from them circles the nodule in the image as File › Import shows it (as stored).
	 */
	@Test
	void analysisOfADcm2niixSlabIsTheDicomSeriesAnalysisOnTheFilesGrid() throws Exception {
		CtVolume full = CtReader.read(dcm2niix()).volume();
		Reorientation fr = Reorientation.of(full);
		assertEquals(2, fr.inputAxis(2));
		assertFalse(fr.flipped(2), "dcm2niix keeps slices inferior to superior, so the slab's slices are the series'");
		RandomAccessibleInterval<? extends RealType<?>> cut = Views.zeroMin(Views.interval(full.image(), new long[] { 0, 0, SLAB_FROM },
			new long[] { full.width() - 1, full.height() - 1, SLAB_TO }));
		Geometry fg = full.geometry();
		Path slabFile = temp.resolve("slab.nii");
		Nifti.write(slabFile, new CtVolume(cut, new Geometry(fg.voxelToWorld(SLAB_FROM, 0, 0), fg.spacing(), fg.direction()), "slab"));
		CtVolume slab = CtReader.read(slabFile).volume();
		assertTrue(Reorientation.of(slab).flipped(1), "the slab file still stores rows bottom-up");
		int h = slab.height();

		AnalysisResult result;
		Inference.Builder b = Inference.builder().device("cpu");
		ModelFiles.addTo(b, Networks.Kind.SEG, SharedData.require("models/book/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state"));
		ModelFiles.addTo(b, Networks.Kind.CLS, SharedData.require("models/book/cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state"));
		try (Inference inference = b.build()) {
			result = new CtAnalysis(inference, CtAnalysis.Settings.defaults()).analyze(slab, Progress.NONE);
		}
		assertArrayEquals(slab.shapeIrc(), result.shapeIrc(), "results are on the file's grid");

		// The U-Net probability, on the file's grid (rows bottom-up), is PyTorch's on the series' slices 82-97.
		MetaImage expectedP = MetaImage.read(SharedData.require(REAL + "seg-probability-z82-97.mhd"));
		@SuppressWarnings("unchecked")
		Cursor<? extends RealType<?>> pc = Views.flatIterable((RandomAccessibleInterval<? extends RealType<?>>) expectedP.image()).cursor();
		float[] prob = result.probability();
		int w = slab.width();
		double worst = 0;
		for (int z = 82; z <= 97; z++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					float e = pc.next().getRealFloat();
					worst = Math.max(worst, Math.abs(e - prob[((z - SLAB_FROM) * h + (h - 1 - y)) * w + x]));
				}
		assertTrue(worst <= 1e-4, "largest difference from PyTorch on slices 82-97, row-flipped: " + worst);

		// The candidates table, as the analyse command writes it.
		Path csv = CandidatesCsv.write(temp.resolve("out"), result);
		List<CandidatesCsv.Row> rows = CandidatesCsv.read(csv);
		assertEquals(result.candidates().size(), rows.size());
		for (CandidatesCsv.Row row : rows)
			assertArrayEquals(new double[] { row.x(), row.y(), row.z() }, slab.geometry().voxelToWorld(row.index(), row.row(), row.col()), 1e-6,
				"index, row, col are a voxel of the file as opened, at the row's world point");
		// The labels image is on the file's grid too: each component's own label at its rounded centre.
		int[] labels = result.labels();
		long[] counts = new long[rows.size() + 1];
		for (int l : labels) counts[l]++;
		for (Candidate c : result.candidates()) assertEquals(c.voxels(), counts[c.label()], "label image holds component " + c.label());

		List<Map<String, String>> expected = AnalysisCommandsTest.csv(SharedData.require(REAL + "candidates-expected.csv"));
		int checked = 0, small = 0;
		Candidate nodule = null;
		for (Map<String, String> e : expected) {
			double index = d(e, "index");
			if (index < 82 || index > 98) continue;
			long voxels = (long) d(e, "voxels");
			boolean uncut = voxels < 12;
			CandidatesCsv.Row ours = null;
			for (CandidatesCsv.Row row : rows)
				if (Math.abs(row.x() - d(e, "coordX")) <= 0.1 && Math.abs(row.y() - d(e, "coordY")) <= 0.1 && Math.abs(row.z() - d(e, "coordZ")) <= 0.1)
					ours = row;
			boolean isNodule = d(e, "p_nodule") > 0.5;
			if (!uncut && !isNodule) continue;
			String where = "PyTorch's component " + e.get("label") + " (" + voxels + " voxels, slice " + index + ")";
			assertNotNull(ours, where + " is found at the same world point");
			assertEquals(d(e, "p_nodule"), ours.probability(), 1e-3, where);
			assertEquals(voxels, ours.voxels(), where);
			// the same voxel, on the file's grid: slab slices, rows bottom-up
			assertEquals(index - SLAB_FROM, ours.index(), 0.01, where + " index");
			assertEquals(h - 1 - d(e, "row"), ours.row(), 0.01, where + " row");
			assertEquals(d(e, "col"), ours.col(), 0.01, where + " col");
			checked++;
			if (uncut) small++;
			if (isNodule) nodule = new Candidate(1, ours.index(), ours.row(), ours.col(), ours.x(), ours.y(), ours.z(), ours.voxels(), ours.diameterMm(),
				ours.probability(), Double.NaN, Double.NaN, Double.NaN);
		}
		assertEquals(76, small, "PyTorch's small components on slices 82-98");
		assertNotNull(nodule, "the 23 mm nodule");
		assertEquals(77, checked);

		// Fiji: the file opened as File › Import shows it (as stored), the overlay drawn from the table.
		ImagePlus imp = ImagePlusAdapter.toImagePlus(slab);
		Overlay overlay = NoduleDisplay.overlay(imp, List.of(nodule));
		OvalRoi centre = null;
		for (Roi roi : overlay.toArray())
			if (roi instanceof OvalRoi && roi.getStrokeWidth() == 2) centre = (OvalRoi) roi;
		assertNotNull(centre, "the circle on the nodule's centre slice");
		java.awt.geom.Rectangle2D box = centre.getFloatBounds();
		int col = (int) Math.floor(box.getCenterX()), row = (int) Math.floor(box.getCenterY()), slice = centre.getPosition() - 1;
		double[] annotated = numbers(summary, "xyz", 3);
		double radius = numbers(summary, "diameter_mm", 1)[0] / 2;
		double[] at = ImagePlusAdapter.geometryOf(imp).voxelToWorld(slice, row, col);
		double off = Math.sqrt(Math.pow(at[0] - annotated[0], 2) + Math.pow(at[1] - annotated[1], 2) + Math.pow(at[2] - annotated[2], 2));
		assertTrue(off < radius / 2, "the circle's centre (slice " + slice + ", row " + row + ", col " + col + ") lies " + off +
			" mm from the annotated nodule centre (radius " + radius + " mm)");
		imp.setPosition(slice + 1);
		float hu = imp.getProcessor().getPixelValue(col, row);
		assertTrue(hu > -300, "the circle's centre pixel is nodule tissue in the image as shown: " + hu + " HU");

		// Analysing that image from Fiji reads it back with its geometry, so the networks see the series' voxels again.
		CtVolume fromFiji = ImagePlusAdapter.fromImagePlus(imp);
		CtVolume seen = Reorientation.of(fromFiji).canonical();
		Cursor<? extends RealType<?>> a = Views.flatIterable(seen.image()).cursor();
		Cursor<? extends RealType<?>> r = Views.flatIterable(Views.interval(reference.image(), new long[] { 0, 0, SLAB_FROM },
			new long[] { reference.width() - 1, reference.height() - 1, SLAB_TO })).cursor();
		while (r.hasNext()) assertEquals(r.next().getRealDouble(), a.next().getRealDouble(), 0, "the Fiji image, reoriented, is the series");
		assertFalse(a.hasNext());
	}

	/** A CT stored in LUNA16's orientation with the series' voxels and geometry, whatever its encoding. */
	static void assertIsTheDicomSeries(CtVolume read, String what) throws Exception {
		assertTrue(Reorientation.of(read).isIdentity(), what + " keeps the series' orientation");
		assertArrayEquals(reference.shapeIrc(), read.shapeIrc(), what);
		assertEquals(huSha256, huSha256(read), what + ": the voxels are summary.json's");
		assertArrayEquals(reference.geometry().spacing(), read.geometry().spacing(), 1e-6, what + " spacing");
		assertArrayEquals(reference.geometry().origin(), read.geometry().origin(), 1e-4, what + " origin");
		assertArrayEquals(reference.geometry().direction(), read.geometry().direction(), 1e-9, what + " direction");
	}

	/** Each file of the series through {@code tool in out}, into {@code folder}; checks the transfer syntax UID landed. */
	static Path recoded(String folder, String syntaxUid, String... tool) throws Exception {
		Path out = temp.resolve(folder);
		Files.createDirectories(out);
		try (var files = Files.list(dicom)) {
			for (Path f : files.filter(p -> p.toString().endsWith(".dcm")).sorted().toList()) {
				String[] cmd = java.util.Arrays.copyOf(tool, tool.length + 2);
				cmd[tool.length] = f.toString();
				cmd[tool.length + 1] = out.resolve(f.getFileName()).toString();
				ExternalTools.run(2, cmd);
			}
		}
		try (var files = Files.list(out)) {
			Path one = files.sorted().findFirst().orElseThrow();
			String head = new String(Files.readAllBytes(one), 0, 1024, java.nio.charset.StandardCharsets.ISO_8859_1);
			assertTrue(head.contains(syntaxUid), one + " has transfer syntax " + syntaxUid);
		}
		return out;
	}

	@Test
	void jpeg2000LosslessSeriesByGdcm() throws Exception {
		String gdcmconv = ExternalTools.require("gdcmconv", "--version");
		Path out = recoded("j2k", "1.2.840.10008.1.2.4.90", gdcmconv, "--j2k");
		assertIsTheDicomSeries(CtReader.read(out).volume(), "the series as JPEG 2000 lossless (gdcmconv --j2k)");
	}

	@Test
	void jpegLsLosslessSeriesByDcmtk() throws Exception {
		String dcmcjpls = ExternalTools.require("dcmcjpls", "--version");
		Path out = recoded("jls", "1.2.840.10008.1.2.4.80", dcmcjpls);
		assertIsTheDicomSeries(CtReader.read(out).volume(), "the series as JPEG-LS lossless (dcmcjpls)");
	}


	private static double d(Map<String, String> row, String key) {
		return Double.parseDouble(row.get(key));
	}

	/** {@code count} numbers after {@code "key":} in a small JSON text. */
	static double[] numbers(String json, String key, int count) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[?([^\\]}]*)").matcher(json);
		assertTrue(m.find(), key + " in summary.json");
		String[] parts = m.group(1).split(",");
		double[] v = new double[count];
		for (int k = 0; k < count; k++) v[k] = Double.parseDouble(parts[k].trim());
		return v;
	}
}
