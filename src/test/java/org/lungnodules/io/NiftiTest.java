package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.real.DoubleType;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

/**
 * NIfTI-1 reading and writing against independent truths: the reference phantom's MetaImage
 * (round trips), headers built byte by byte here with world coordinates worked out by hand, and
 * hostile headers.
 */
class NiftiTest {

	@TempDir
	Path temp;

	// ---------------------------------------------------------------- round trips

	@Test
	void phantomRoundTripsExactlyThroughNiftiAndNiftiGz() throws Exception {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		CtVolume original = MetaImage.readVolume(mhd);
		for (String name : new String[] { "phantom-a.nii", "phantom-a.nii.gz" }) {
			Path nii = temp.resolve(name);
			Nifti.write(nii, original);
			CtVolume read = CtReader.read(nii).volume();
			assertEquals("phantom-a", read.seriesUid(), name);
			assertInstanceOf(ShortType.class, read.image().getType(), "HU stay 16-bit: " + name);
			Path back = temp.resolve(name + "-back.mhd");
			MetaImage.writeVolume(back, read, false);
			MetaImage again = MetaImage.read(back);
			assertArrayEquals(shorts(original.image()), shorts(again.image()), name);
			assertArrayEquals(original.geometry().origin(), again.origin(), 0.0, name);
			assertArrayEquals(original.geometry().spacing(), again.spacing(), 0.0, name);
			assertArrayEquals(original.geometry().direction(), again.direction(), 0.0, name);
			assertEquals("MET_SHORT", again.elementType());
		}
		// The .raw the reference holds and the .raw written after the round trip are the same bytes.
		Path back = temp.resolve("phantom-a.nii-back.raw");
		assertArrayEquals(Files.readAllBytes(mhd.resolveSibling("phantom-a.raw")), Files.readAllBytes(back));
		byte[] gz = Files.readAllBytes(temp.resolve("phantom-a.nii.gz"));
		assertTrue((gz[0] & 0xff) == 0x1f && (gz[1] & 0xff) == 0x8b, "a .nii.gz is gzip");
		assertTrue(gz.length < Files.size(temp.resolve("phantom-a.nii")), "gzip compresses");
	}

	@Test
	void headerFieldsAloneGiveThePhantomGeometryToFloatPrecision() throws Exception {
		CtVolume original = MetaImage.readVolume(SharedData.require("reference/phantom-a/phantom-a.mhd"));
		Path nii = temp.resolve("p.nii");
		Nifti.write(nii, original);
		// Without our record (its ecode changed), the sform is all there is: 0.7 mm is not a float.
		Path plain = withoutRecord(nii, "plain.nii");
		Geometry g = Nifti.read(plain).geometry();
		assertArrayEquals(new double[] { -90, -120, -300 }, g.origin(), 0.0);
		assertArrayEquals(new double[] { 0.7, 0.7, 1.25 }, g.spacing(), 1e-6);
		assertNotEquals(0.7, g.spacing()[0], "the record, not the sform, makes the round trip exact");
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, g.direction(), 1e-7);
	}

	@Test
	void obliqueAndFlippedDirectionRoundTrips() throws Exception {
		double[] dir = obliqueFlipped();
		Geometry geometry = new Geometry(new double[] { -171.699997, 33.3, -340.1 }, new double[] { 0.703125, 0.7, 2.5 }, dir);
		short[] hu = new short[7 * 5 * 4];
		for (int i = 0; i < hu.length; i++)
			hu[i] = (short) (i * 37 - 1000);
		CtVolume original = CtVolume.ofShorts(hu, 7, 5, 4, geometry, "oblique");
		Path nii = temp.resolve("oblique.nii.gz");
		Nifti.write(nii, original);
		CtVolume read = Nifti.read(nii);
		assertArrayEquals(hu, shorts(read.image()));
		assertArrayEquals(geometry.origin(), read.geometry().origin(), 0.0);
		assertArrayEquals(geometry.spacing(), read.geometry().spacing(), 0.0);
		assertArrayEquals(dir, read.geometry().direction(), 0.0);

		Path plainNii = temp.resolve("oblique.nii");
		Nifti.write(plainNii, original);
		Path sformOnly = withoutRecord(plainNii, "sform.nii");
		Path qformOnly = withoutRecord(plainNii, "qform.nii");
		patchShort(qformOnly, 254, (short) 0); // sform_code 0: the qform is used
		Geometry bySform = Nifti.read(sformOnly).geometry(), byQform = Nifti.read(qformOnly).geometry();
		int[][] voxels = { { 0, 0, 0 }, { 3, 4, 6 }, { 1, 2, 5 }, { 3, 0, 0 }, { 0, 4, 0 } };
		for (int[] v : voxels) {
			double[] want = geometry.voxelToWorld(v[0], v[1], v[2]);
			assertArrayEquals(want, read.geometry().voxelToWorld(v[0], v[1], v[2]), 0.0, Arrays.toString(v));
			assertArrayEquals(want, bySform.voxelToWorld(v[0], v[1], v[2]), 1e-4, "sform " + Arrays.toString(v));
			assertArrayEquals(want, byQform.voxelToWorld(v[0], v[1], v[2]), 1e-4, "qform " + Arrays.toString(v));
		}
	}

	@Test
	void aFileMovedByAnotherToolIsReadByItsHeaderNotOurRecord() throws Exception {
		Geometry geometry = new Geometry(new double[] { -171.699997, 10.25, -340 }, new double[] { 0.703125, 0.703125, 2.5 },
			new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 });
		Path nii = temp.resolve("moved.nii");
		Nifti.write(nii, CtVolume.ofShorts(new short[8], 2, 2, 2, geometry, "m"));
		// Another tool shifts the scan 5 mm to the right (RAS x + 5) in both transforms and keeps the extensions.
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(nii)).order(ByteOrder.LITTLE_ENDIAN);
		b.putFloat(292, b.getFloat(292) + 5); // srow_x[3]
		b.putFloat(268, b.getFloat(268) + 5); // qoffset_x
		Files.write(nii, b.array());
		double[] origin = Nifti.read(nii).geometry().origin();
		assertEquals(-171.699997 - 5, origin[0], 1e-4, "LPS x = -RAS x");
		assertEquals(10.25, origin[1], 0.0);
		assertEquals(-340, origin[2], 0.0);
	}

	@Test
	void floatAndDoubleVolumesKeepEveryValue() throws Exception {
		Geometry g = Geometry.of(new double[] { 1, 2, 3 }, new double[] { 1, 1, 1 });
		float[] f = { 0.5f, -1000.25f, Float.NaN, 3e7f, 1, 2, 3, 4 };
		Path fp = temp.resolve("f.nii");
		Nifti.write(fp, new CtVolume(ArrayImgs.floats(f.clone(), 2, 2, 2), g, "f"));
		assertEquals(16, header(fp).getShort(70), "float32");
		CtVolume fr = Nifti.read(fp);
		assertInstanceOf(FloatType.class, fr.image().getType());
		assertArrayEquals(f, floats(fr.image()));

		double[] d = { 0.1, -1000.2, 1e-300, 5, 6, 7, 8, 9 };
		Path dp = temp.resolve("d.nii.gz");
		Nifti.write(dp, new CtVolume(ArrayImgs.doubles(d.clone(), 2, 2, 2), g, "d"));
		CtVolume dr = Nifti.read(dp);
		assertInstanceOf(DoubleType.class, dr.image().getType(), "0.1 is no float: written as float64");
		assertArrayEquals(d, doubles(dr.image()), 0.0);

		double[] whole = { -1024, 3071, 0, 1, 2, 3, 4, 5 };
		Path wp = temp.resolve("w.nii");
		Nifti.write(wp, new CtVolume(ArrayImgs.doubles(whole.clone(), 2, 2, 2), g, "w"));
		assertEquals(4, header(wp).getShort(70), "whole HU in range: int16");
		assertArrayEquals(whole, doubles(Nifti.read(wp).image()), 0.0);
	}

	@Test
	void writtenHeaderHasTheStandardFields() throws Exception {
		Path nii = temp.resolve("h.nii");
		Nifti.write(nii, CtVolume.ofShorts(new short[24], 2, 3, 4, Geometry.of(new double[] { 1, 2, 3 }, new double[] { 0.5, 0.75, 2 }), "h"));
		ByteBuffer b = header(nii);
		assertEquals(348, b.getInt(0));
		assertEquals("n+1\0", new String(Arrays.copyOfRange(b.array(), 344, 348), StandardCharsets.US_ASCII));
		assertEquals(1, b.getShort(252), "qform_code scanner");
		assertEquals(1, b.getShort(254), "sform_code scanner");
		assertEquals(2, b.get(123), "xyzt_units mm");
		assertEquals(0, ((int) b.getFloat(108)) % 16, "vox_offset on a 16-byte boundary");
		assertEquals(Files.size(nii), (long) b.getFloat(108) + 24 * 2);
		assertArrayEquals(new float[] { 0.5f, 0.75f, 2f }, new float[] { b.getFloat(80), b.getFloat(84), b.getFloat(88) });
		// Identity in LPS is diag(-1, -1, 1) in RAS: srow_x = (-0.5, 0, 0, -1), srow_y = (0, -0.75, 0, -2), srow_z = (0, 0, 2, 3).
		float[] srow = new float[12];
		for (int i = 0; i < 12; i++) srow[i] = b.getFloat(280 + 4 * i) + 0f;
		assertArrayEquals(new float[] { -0.5f, 0, 0, -1, 0, -0.75f, 0, -2, 0, 0, 2, 3 }, srow);
		// A half turn about z: quaternion (b, c, d) = (0, 0, 1), qfac 1.
		assertArrayEquals(new float[] { 0, 0, 1, 1 }, new float[] { b.getFloat(256) + 0f, b.getFloat(260) + 0f, b.getFloat(264), b.getFloat(76) });
	}

	/**
	 * The real LIDC-IDRI-0001 series written as NIfTI reads back as the very volume LUNA16 holds
	 * ({@code hu_sha256}, shape, spacing and offset of summary.json), so it gives the same
	 * candidates as the DICOM series. Needs the DICOM reader (a separate part of issue 14): until
	 * CtReader has it, this is skipped with that reason.
	 */
	@Test
	void lidcSeriesAsNiftiIsLuna16sVolume() throws Exception {
		Path dicom = SharedData.require("real/LIDC-IDRI-0001/dicom");
		String summary = Files.readString(SharedData.require("real/LIDC-IDRI-0001/summary.json"));
		CtVolume fromDicom;
		try {
			fromDicom = CtReader.read(dicom).volume();
		}
		catch (IOException e) {
			assumeFalse(e.getMessage().contains("not available yet"), "CtReader cannot read DICOM yet: " + e.getMessage());
			throw e;
		}
		Path nii = temp.resolve("LIDC-IDRI-0001.nii.gz");
		Nifti.write(nii, fromDicom);
		CtVolume ct = CtReader.read(nii).volume();
		assertEquals("LIDC-IDRI-0001", ct.seriesUid());
		assertArrayEquals(jsonNumbers(summary, "shape_irc"), Arrays.stream(ct.shapeIrc()).asDoubleStream().toArray(), 0.0);
		double[] zyx = jsonNumbers(summary, "spacing_zyx");
		assertArrayEquals(new double[] { zyx[2], zyx[1], zyx[0] }, ct.geometry().spacing(), 0.0);
		assertArrayEquals(jsonNumbers(summary, "offset_xyz"), ct.geometry().origin(), 0.0);
		assertArrayEquals(fromDicom.geometry().direction(), ct.geometry().direction(), 0.0);
		// LUNA16's layout: int16 little-endian, [z][y][x], which is our x-fastest order.
		short[] hu = shorts(ct.image());
		ByteBuffer bytes = ByteBuffer.allocate(hu.length * 2).order(ByteOrder.LITTLE_ENDIAN);
		bytes.asShortBuffer().put(hu);
		String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
		Matcher m = Pattern.compile("\"hu_sha256\"\\s*:\\s*\"([0-9a-f]{64})\"").matcher(summary);
		assertTrue(m.find(), "summary.json has hu_sha256");
		assertEquals(m.group(1), sha);
	}

	private static double[] jsonNumbers(String json, String key) {
		Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
		assertTrue(m.find(), "summary.json has " + key);
		return Arrays.stream(m.group(1).split(",")).map(String::trim).mapToDouble(Double::parseDouble).toArray();
	}

	// ---------------------------------------------------------------- hand-built headers: RAS to LPS

	@Test
	void sformWorldCoordinatesByHand() throws Exception {
		Hdr h = new Hdr();
		h.sformCode = 2;
		h.srow = new float[][] { { 0, 0, -2, 10 }, { -0.5f, 0, 0, 20 }, { 0, 3, 0, -30 } };
		// A qform that disagrees: the sform must win.
		h.qformCode = 1;
		h.quat = new float[] { 0, 0, 0, 99, 99, 99 };
		Geometry g = Nifti.read(h.write(temp.resolve("sform.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24))).geometry();
		// Voxel (i, j, k) = (1, 2, 3): RAS = (-2*3 + 10, -0.5*1 + 20, 3*2 - 30) = (4, 19.5, -24); LPS = (-4, -19.5, -24).
		assertArrayEquals(new double[] { -4, -19.5, -24 }, g.voxelToWorld(3, 2, 1), 1e-9);
		// Voxel (0, 0, 0): the offsets, x and y negated.
		assertArrayEquals(new double[] { -10, -20, -30 }, g.voxelToWorld(0, 0, 0), 1e-9);
		// Voxel (1, 0, 0) moves -0.5 along RAS y, so +0.5 along LPS y.
		assertArrayEquals(new double[] { -10, -19.5, -30 }, g.voxelToWorld(0, 0, 1), 1e-9);
		assertArrayEquals(new double[] { 0.5, 3, 2 }, g.spacing(), 1e-9);
	}

	@Test
	void qformWorldCoordinatesByHand() throws Exception {
		// A quarter turn about z: a = cos 45°, d = sin 45°; R = ((0, -1, 0), (1, 0, 0), (0, 0, 1)).
		Hdr h = new Hdr();
		h.qformCode = 1;
		h.quat = new float[] { 0, 0, (float) Math.sqrt(0.5), 5, 6, 7 };
		h.pixdim = new float[] { -1, 2, 3, 4, 0, 0, 0, 0 }; // qfac -1: k runs backwards
		Geometry g = Nifti.read(h.write(temp.resolve("q.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24))).geometry();
		// (i, j, k) = (1, 1, 1): R·(2, 3, -4) + (5, 6, 7) = (-3, 2, -4) + (5, 6, 7) = (2, 8, 3) RAS = (-2, -8, 3) LPS.
		assertArrayEquals(new double[] { -2, -8, 3 }, g.voxelToWorld(1, 1, 1), 1e-5);
		// (i, j, k) = (1, 0, 0): R·(2, 0, 0) + offset = (5, 8, 7) RAS = (-5, -8, 7) LPS.
		assertArrayEquals(new double[] { -5, -8, 7 }, g.voxelToWorld(0, 0, 1), 1e-5);
		assertArrayEquals(new double[] { 2, 3, 4 }, g.spacing(), 1e-6);

		// A half turn about x: b = 1, a = 0; R = diag(1, -1, -1). (i, j, k) = (1, 2, 3) with pixdim 1:
		// RAS (1, -2, -3) + (0, 0, 0) = LPS (-1, 2, -3).
		Hdr x = new Hdr();
		x.qformCode = 1;
		x.quat = new float[] { 1, 0, 0, 0, 0, 0 };
		Geometry gx = Nifti.read(x.write(temp.resolve("qx.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24))).geometry();
		assertArrayEquals(new double[] { -1, 2, -3 }, gx.voxelToWorld(3, 2, 1), 1e-6);
	}

	@Test
	void withoutTransformsPixdimAloneGivesTheGrid() throws Exception {
		Hdr h = new Hdr();
		h.pixdim = new float[] { 1, 1.5f, 2, 2.5f, 0, 0, 0, 0 };
		Geometry g = Nifti.read(h.write(temp.resolve("m1.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24))).geometry();
		// (i, j, k) = (1, 2, 3): RAS (1.5, 4, 7.5) = LPS (-1.5, -4, 7.5).
		assertArrayEquals(new double[] { -1.5, -4, 7.5 }, g.voxelToWorld(3, 2, 1), 1e-9);
	}

	// ---------------------------------------------------------------- values

	@Test
	void sclSlopeAndInterAreApplied() throws Exception {
		Hdr h = new Hdr();
		h.datatype = 512; // uint16, as many scanners store CT values
		h.slope = 1;
		h.inter = -1024;
		CtVolume v = Nifti.read(h.write(temp.resolve("s.nii"), data(ByteOrder.LITTLE_ENDIAN, 512, 0, 1024, 4095, 24)));
		assertInstanceOf(ShortType.class, v.image().getType(), "integer HU in range stay 16-bit");
		assertArrayEquals(new double[] { -1024, 0, 3071 }, Arrays.copyOf(doubles(v.image()), 3), 0.0);

		h.datatype = 4;
		h.slope = 0.5f;
		h.inter = 10;
		CtVolume half = Nifti.read(h.write(temp.resolve("half.nii"), data(ByteOrder.LITTLE_ENDIAN, 4, -3, 0, 7, 24)));
		assertInstanceOf(FloatType.class, half.image().getType());
		assertArrayEquals(new double[] { 8.5, 10, 13.5 }, Arrays.copyOf(doubles(half.image()), 3), 0.0);

		h.slope = 0; // none
		h.inter = 500;
		CtVolume none = Nifti.read(h.write(temp.resolve("none.nii"), data(ByteOrder.LITTLE_ENDIAN, 4, -3, 0, 7, 24)));
		assertArrayEquals(new double[] { -3, 0, 7 }, Arrays.copyOf(doubles(none.image()), 3), 0.0);

		h.slope = 10000; // 70000 leaves the 16-bit range: float
		h.inter = 0;
		CtVolume wide = Nifti.read(h.write(temp.resolve("wide.nii"), data(ByteOrder.LITTLE_ENDIAN, 4, -3, 0, 7, 24)));
		assertInstanceOf(FloatType.class, wide.image().getType());
		assertArrayEquals(new double[] { -30000, 0, 70000 }, Arrays.copyOf(doubles(wide.image()), 3), 0.0);
	}

	@Test
	void everyDataTypeReadsInBothByteOrders() throws Exception {
		// datatype code, then values that exercise its range.
		Object[][] cases = {
			{ 2, new double[] { 0, 255, 128 } },
			{ 256, new double[] { -128, 127, 0 } },
			{ 4, new double[] { -32768, 32767, -1000 } },
			{ 512, new double[] { 0, 65535, 40000 } },
			{ 8, new double[] { -2147483648.0, 2147483647.0, -1000 } },
			{ 768, new double[] { 0, 4294967295.0, 1 } },
			{ 16, new double[] { -1000.5, 3.25, Math.scalb(1.0, 100) } },
			{ 64, new double[] { 0.1, -1e300, 2.5 } } };
		for (ByteOrder order : new ByteOrder[] { ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN }) {
			for (Object[] c : cases) {
				int code = (Integer) c[0];
				double[] values = (double[]) c[1];
				Hdr h = new Hdr();
				h.order = order;
				h.datatype = (short) code;
				h.sformCode = 1;
				h.srow = new float[][] { { 2, 0, 0, 1 }, { 0, 3, 0, 2 }, { 0, 0, 4, 3 } };
				double[] all = Arrays.copyOf(values, 24);
				Path f = h.write(temp.resolve("t" + code + order + ".nii"), data(order, code, all));
				CtVolume v = Nifti.read(f);
				String what = "datatype " + code + " " + order;
				assertArrayEquals(all, doubles(v.image()), 0.0, what);
				assertArrayEquals(new double[] { -1, -2, 3 }, v.geometry().origin(), 0.0, what);
				assertArrayEquals(new double[] { 2, 3, 4 }, v.geometry().spacing(), 0.0, what);
				assertEquals(2, v.width(), what);
				assertEquals(4, v.depth(), what);
			}
		}
	}

	@Test
	void fourDWithOneVolumeReads() throws Exception {
		Hdr h = new Hdr();
		h.dim = new short[] { 4, 2, 3, 4, 1, 1, 1, 1 };
		CtVolume v = Nifti.read(h.write(temp.resolve("4d.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24)));
		assertArrayEquals(new int[] { 4, 3, 2 }, v.shapeIrc());
	}

	// ---------------------------------------------------------------- hostile input

	@Test
	void hostileHeadersFailClearly() throws Exception {
		byte[] ok = shortData(ByteOrder.LITTLE_ENDIAN, 24);
		Path good = new Hdr().write(temp.resolve("good.nii"), ok);
		byte[] goodBytes = Files.readAllBytes(good);

		expect(write("short-header.nii", Arrays.copyOf(goodBytes, 100)), "truncated header");
		expect(write("short-data.nii", Arrays.copyOf(goodBytes, goodBytes.length - 1)), "truncated");

		Hdr neg = new Hdr();
		neg.dim = new short[] { 3, 2, -5, 4, 1, 1, 1, 1 };
		expect(neg.write(temp.resolve("neg.nii"), ok), "dim[2] is -5");
		Hdr zero = new Hdr();
		zero.dim = new short[] { 3, 2, 3, 0, 1, 1, 1, 1 };
		expect(zero.write(temp.resolve("zero.nii"), ok), "dim[3] is 0");
		Hdr huge = new Hdr();
		huge.dim = new short[] { 3, 32767, 32767, 32767, 1, 1, 1, 1 };
		expect(huge.write(temp.resolve("huge.nii"), ok), "more than one Java array");
		Hdr big = new Hdr();
		big.dim = new short[] { 3, 1024, 1024, 1000, 1, 1, 1, 1 };
		expect(big.write(temp.resolve("big.nii"), ok), "truncated");
		Hdr twoD = new Hdr();
		twoD.dim = new short[] { 2, 2, 3, 1, 1, 1, 1, 1 };
		expect(twoD.write(temp.resolve("2d.nii"), ok), "dim[0] is 2");
		Hdr series = new Hdr();
		series.dim = new short[] { 4, 2, 3, 4, 5, 1, 1, 1 };
		expect(series.write(temp.resolve("series.nii"), ok), "dim[4] is 5");
		Hdr dim0 = new Hdr();
		dim0.dim = new short[] { 9, 2, 3, 4, 1, 1, 1, 1 };
		expect(dim0.write(temp.resolve("dim0.nii"), ok), "dim[0] is 9");

		Hdr past = new Hdr();
		past.voxOffset = 1e6f;
		expect(past.write(temp.resolve("past.nii"), ok), "vox_offset 1000000 lies past the end");
		Hdr inside = new Hdr();
		inside.voxOffset = 100;
		expect(inside.write(temp.resolve("inside.nii"), ok), "vox_offset is 100");
		Hdr nanOffset = new Hdr();
		nanOffset.voxOffset = Float.NaN;
		expect(nanOffset.write(temp.resolve("nanoffset.nii"), ok), "vox_offset is NaN");

		Hdr nanSpacing = new Hdr();
		nanSpacing.pixdim = new float[] { 1, Float.NaN, 1, 1, 0, 0, 0, 0 };
		expect(nanSpacing.write(temp.resolve("nanspacing.nii"), ok), "pixdim[1] is NaN");
		Hdr zeroSpacing = new Hdr();
		zeroSpacing.qformCode = 1;
		zeroSpacing.pixdim = new float[] { 1, 1, 1, 0, 0, 0, 0, 0 };
		expect(zeroSpacing.write(temp.resolve("zerospacing.nii"), ok), "pixdim[3] is 0.0");
		Hdr nanSform = new Hdr();
		nanSform.sformCode = 1;
		nanSform.srow = new float[][] { { 1, 0, 0, 0 }, { 0, Float.NaN, 0, 0 }, { 0, 0, 1, 0 } };
		expect(nanSform.write(temp.resolve("nansform.nii"), ok), "srow_y[1] is NaN");
		Hdr flat = new Hdr();
		flat.sformCode = 1;
		flat.srow = new float[][] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 0, 0 } };
		expect(flat.write(temp.resolve("flat.nii"), ok), "zero column for voxel axis k");
		Hdr sheared = new Hdr();
		sheared.sformCode = 1;
		sheared.srow = new float[][] { { 1, 0, 0, 0 }, { 0, 1, 0.2f, 0 }, { 0, 0, 1, 0 } };
		expect(sheared.write(temp.resolve("sheared.nii"), ok), "sheared");

		Hdr rgb = new Hdr();
		rgb.datatype = 128;
		expect(rgb.write(temp.resolve("rgb.nii"), ok), "RGB24");
		Hdr complex = new Hdr();
		complex.datatype = 32;
		expect(complex.write(temp.resolve("complex.nii"), ok), "complex64");
		Hdr nifti2 = new Hdr();
		nifti2.sizeof = 540;
		expect(nifti2.write(temp.resolve("n2.nii"), ok), "NIfTI-2");
		Hdr junk = new Hdr();
		junk.sizeof = 1234;
		expect(junk.write(temp.resolve("junk.nii"), ok), "sizeof_hdr is 1234");
		Hdr pair = new Hdr();
		pair.magic = "ni1\0";
		expect(pair.write(temp.resolve("pair.nii"), ok), ".hdr/.img pair");
		Hdr analyze = new Hdr();
		analyze.magic = "\0\0\0\0";
		expect(analyze.write(temp.resolve("analyze.nii"), ok), "magic");
	}

	@Test
	void gzipBombsAndBrokenGzipFailClearly() throws Exception {
		// A header claiming 512×512×512 int16 (256 MB) in a gzip of a few hundred bytes.
		Hdr bomb = new Hdr();
		bomb.dim = new short[] { 3, 512, 512, 512, 1, 1, 1, 1 };
		Path plain = bomb.write(temp.resolve("bomb.nii"), new byte[4096]);
		Path gz = write("bomb.nii.gz", gzip(Files.readAllBytes(plain)));
		expect(gz, "cannot inflate to more than");

		Path good = new Hdr().write(temp.resolve("g.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24));
		byte[] zipped = gzip(Files.readAllBytes(good));
		expect(write("cut.nii.gz", Arrays.copyOf(zipped, zipped.length / 2)), "truncated");
		byte[] corrupt = zipped.clone();
		for (int i = 12; i < corrupt.length - 8; i++) corrupt[i] ^= 0x5a;
		NiftiException e = assertThrows(NiftiException.class, () -> Nifti.read(write("corrupt.nii.gz", corrupt)));
		assertTrue(e.getMessage().startsWith(temp.resolve("corrupt.nii.gz").toString()), e.getMessage());

		// Data after the voxels (here 1 MB of zeros) are never inflated, and do not hurt.
		byte[] padded = Arrays.copyOf(Files.readAllBytes(good), Files.readAllBytes(good).length + (1 << 20));
		CtVolume v = Nifti.read(write("padded.nii.gz", gzip(padded)));
		assertArrayEquals(doubles(Nifti.read(good).image()), doubles(v.image()), 0.0);
	}

	@Test
	void aHostileExtensionListIsSkippedNotTrusted() throws Exception {
		Hdr h = new Hdr();
		h.voxOffset = 368;
		h.extension = new byte[16];
		ByteBuffer.wrap(h.extension).order(ByteOrder.LITTLE_ENDIAN).putInt(0, Integer.MAX_VALUE).putInt(4, 6);
		CtVolume v = Nifti.read(h.write(temp.resolve("ext.nii"), shortData(ByteOrder.LITTLE_ENDIAN, 24)));
		assertEquals(24, shorts(v.image()).length);
	}

	@Test
	void writingRefusesWhatNiftiCannotHold() {
		Geometry sheared = new Geometry(new double[3], new double[] { 1, 1, 1 }, new double[] { 1, 0.3, 0, 0, 1, 0, 0, 0, 1 });
		NiftiException e = assertThrows(NiftiException.class,
			() -> Nifti.write(temp.resolve("s.nii"), CtVolume.ofShorts(new short[8], 2, 2, 2, sheared, "s")));
		assertTrue(e.getMessage().contains("not orthonormal"), e.getMessage());
		NiftiException name = assertThrows(NiftiException.class,
			() -> Nifti.write(temp.resolve("s.img"), CtVolume.ofShorts(new short[8], 2, 2, 2, Geometry.unit(), "s")));
		assertTrue(name.getMessage().contains(".nii or .nii.gz"), name.getMessage());
		assertFalse(Files.exists(temp.resolve("s.nii")));
	}

	// ---------------------------------------------------------------- helpers

	/** A NIfTI-1 header written field by field, with a default 2×3×4 int16 grid and no transform. */
	static final class Hdr {
		ByteOrder order = ByteOrder.LITTLE_ENDIAN;
		int sizeof = 348;
		short[] dim = { 3, 2, 3, 4, 1, 1, 1, 1 };
		short datatype = 4;
		float[] pixdim = { 1, 1, 1, 1, 0, 0, 0, 0 };
		float voxOffset = 352;
		float slope = 0, inter = 0;
		short qformCode = 0, sformCode = 0;
		float[] quat = new float[6];
		float[][] srow = new float[3][4];
		String magic = "n+1\0";
		byte[] extension;

		Path write(Path file, byte[] data) throws IOException {
			int start = voxOffset >= 352 && voxOffset <= 4096 ? (int) voxOffset : 352;
			ByteBuffer b = ByteBuffer.allocate(start + data.length).order(order);
			b.putInt(0, sizeof);
			for (int i = 0; i < 8; i++) b.putShort(40 + 2 * i, dim[i]);
			b.putShort(70, datatype);
			for (int i = 0; i < 8; i++) b.putFloat(76 + 4 * i, pixdim[i]);
			b.putFloat(108, voxOffset);
			b.putFloat(112, slope);
			b.putFloat(116, inter);
			b.putShort(252, qformCode);
			b.putShort(254, sformCode);
			for (int i = 0; i < 6; i++) b.putFloat(256 + 4 * i, quat[i]);
			for (int r = 0; r < 3; r++)
				for (int c = 0; c < 4; c++) b.putFloat(280 + 16 * r + 4 * c, srow[r][c]);
			b.put(344, magic.getBytes(StandardCharsets.ISO_8859_1));
			if (extension != null) {
				b.put(348, (byte) 1);
				b.put(352, extension);
			}
			b.put(start, data);
			Files.write(file, b.array());
			return file;
		}
	}

	/** 0, 1, 2, ... as int16 in the given order. */
	static byte[] shortData(ByteOrder order, int n) {
		double[] v = new double[n];
		for (int i = 0; i < n; i++) v[i] = i;
		return data(order, 4, v);
	}

	/** The values encoded as NIfTI datatype {@code code}, in the given byte order. */
	static byte[] data(ByteOrder order, int code, double... values) {
		int size = code == 2 || code == 256 ? 1 : code == 4 || code == 512 ? 2 : code == 64 ? 8 : 4;
		ByteBuffer b = ByteBuffer.allocate(values.length * size).order(order);
		for (double v : values) {
			switch (code) {
				case 2: case 256: b.put((byte) (long) v); break;
				case 4: case 512: b.putShort((short) (long) v); break;
				case 8: case 768: b.putInt((int) (long) v); break;
				case 16: b.putFloat((float) v); break;
				default: b.putDouble(v); break;
			}
		}
		return b.array();
	}

	/** {@code count} values of datatype {@code code}: a, b, c, then zeros. */
	static byte[] data(ByteOrder order, int code, double a, double b, double c, int count) {
		double[] v = new double[count];
		v[0] = a;
		v[1] = b;
		v[2] = c;
		return data(order, code, v);
	}

	private Path write(String name, byte[] bytes) throws IOException {
		Path p = temp.resolve(name);
		Files.write(p, bytes);
		return p;
	}

	private static byte[] gzip(byte[] bytes) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try (GZIPOutputStream z = new GZIPOutputStream(out)) {
			z.write(bytes);
		}
		return out.toByteArray();
	}

	private static void expect(Path file, String words) {
		NiftiException e = assertThrows(NiftiException.class, () -> Nifti.read(file), file.toString());
		assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
		assertTrue(e.getMessage().contains(words), "expected '" + words + "' in: " + e.getMessage());
	}

	/** A copy of one of our files whose geometry record is hidden (ecode 6 → 0), as if no record were there. */
	private Path withoutRecord(Path nii, String name) throws IOException {
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(nii)).order(ByteOrder.LITTLE_ENDIAN);
		assertEquals(Nifti.ECODE_COMMENT, b.getInt(356));
		b.putInt(356, 0);
		return write(name, b.array());
	}

	private static void patchShort(Path file, int offset, short value) throws IOException {
		ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
		b.putShort(offset, value);
		Files.write(file, b.array());
	}

	private static ByteBuffer header(Path nii) throws IOException {
		return ByteBuffer.wrap(Arrays.copyOf(Files.readAllBytes(nii), 348)).order(ByteOrder.LITTLE_ENDIAN);
	}

	/** A rotation of 30° about (1, 1, 1)/√3, with its second axis flipped (a left-handed grid). */
	static double[] obliqueFlipped() {
		double t = Math.toRadians(30), c = Math.cos(t), s = Math.sin(t), u = 1 / Math.sqrt(3);
		double[] axis = { u, u, u };
		double[] r = new double[9];
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				double cross = 0;
				if (i != j) {
					int k = 3 - i - j;
					double sign = ((j - i + 3) % 3 == 1) ? -1 : 1;
					cross = sign * axis[k] * s;
				}
				r[3 * i + j] = (i == j ? c : 0) + (1 - c) * axis[i] * axis[j] + cross;
			}
		for (int i = 0; i < 3; i++) r[3 * i + 1] = -r[3 * i + 1];
		return r;
	}

	static short[] shorts(RandomAccessibleInterval<? extends RealType<?>> img) {
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		short[] out = new short[(int) Views.iterable(img).size()];
		for (int i = 0; c.hasNext(); i++) out[i] = (short) c.next().getRealDouble();
		return out;
	}

	static float[] floats(RandomAccessibleInterval<? extends RealType<?>> img) {
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		float[] out = new float[(int) Views.iterable(img).size()];
		for (int i = 0; c.hasNext(); i++) out[i] = c.next().getRealFloat();
		return out;
	}

	static double[] doubles(RandomAccessibleInterval<? extends RealType<?>> img) {
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		double[] out = new double[(int) Views.iterable(img).size()];
		for (int i = 0; c.hasNext(); i++) out[i] = c.next().getRealDouble();
		return out;
	}
}
