package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;

import net.imglib2.RandomAccess;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

/** Valid DICOM series written byte by byte here: every transfer syntax, geometry and pixel format gives the hand-computed volume. */
class DicomSeriesSyntheticTest {

	@TempDir
	Path dir;

	/** Slice k of the default series: z = -300 + 2.5 k, stored value k*1000 + row*cols + col. */
	static DicomTestWriter.Slice slice(int k) {
		DicomTestWriter.Slice s = new DicomTestWriter.Slice();
		s.instanceNumber = k + 1;
		s.position = new double[] { -100, -120, -300 + 2.5 * k };
		for (int i = 0; i < s.stored.length; i++) s.stored[i] = k * 1000 + i;
		return s;
	}

	/** Writes slices under names that run against their order, so that sorting by name would be wrong. */
	static void writeSeries(Path folder, List<DicomTestWriter.Slice> slices) throws IOException {
		Files.createDirectories(folder);
		for (int i = 0; i < slices.size(); i++)
			DicomTestWriter.write(folder.resolve(String.format("IM%04d", 97 - 13 * i)), slices.get(i));
	}

	static double hu(CtVolume v, int x, int y, int z) {
		RandomAccess<? extends RealType<?>> ra = v.image().randomAccess();
		ra.setPosition(new int[] { x, y, z });
		return ra.get().getRealDouble();
	}

	@ParameterizedTest
	@ValueSource(strings = { TransferSyntax.IMPLICIT_LE, TransferSyntax.EXPLICIT_LE, TransferSyntax.EXPLICIT_BE, TransferSyntax.DEFLATED_LE, "raw" })
	void everyNativeSyntaxGivesTheSameVolume(String syntax) throws IOException {
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		// Written in a shuffled position order, with InstanceNumbers that disagree with the positions.
		for (int k : new int[] { 2, 0, 3, 1 }) {
			DicomTestWriter.Slice s = slice(k);
			if ("raw".equals(syntax)) {
				s.preamble = false;
				s.syntax = TransferSyntax.IMPLICIT_LE;
			}
			else s.syntax = syntax;
			s.instanceNumber = 10 - k;
			slices.add(s);
		}
		writeSeries(dir, slices);
		CtReader.ReadCt ct = DicomSeries.read(dir, null);
		CtVolume v = ct.volume();
		assertArrayEquals(new int[] { 4, 6, 5 }, v.shapeIrc());
		assertInstanceOf(ShortType.class, Views.iterable(v.image()).firstElement());
		for (int z = 0; z < 4; z++)
			for (int y = 0; y < 6; y++)
				for (int x = 0; x < 5; x++)
					assertEquals(z * 1000 + y * 5 + x - 1024, hu(v, x, y, z), "voxel " + x + "," + y + "," + z);
		Geometry g = v.geometry();
		assertArrayEquals(new double[] { -100, -120, -300 }, g.origin(), 0.0);
		assertArrayEquals(new double[] { 0.6, 0.8, 2.5 }, g.spacing(), 0.0, "x = column spacing = PixelSpacing[1]");
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, g.direction(), 0.0);
		assertEquals("1.2.826.0.1.3680043.99.1", v.seriesUid());
		assertTrue(ct.notes().isEmpty(), ct.notes().toString());
	}

	/** A slab turned 30 degrees about x, positions along its normal, stored from the top down. */
	@Test
	void obliqueSeriesGetsDirectionFromOrientationAndSortsAlongTheNormal() throws IOException {
		double c = Math.cos(Math.toRadians(30)), s30 = Math.sin(Math.toRadians(30));
		double[] row = { 1, 0, 0 }, col = { 0, c, s30 }, normal = { 0, -s30, c }; // row x col
		double[] p0 = { -50, 20, -200 };
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		for (int k = 4; k >= 0; k--) {
			DicomTestWriter.Slice s = slice(k);
			s.orientation = new double[] { row[0], row[1], row[2], col[0], col[1], col[2] };
			s.position = new double[] { p0[0] + 2 * k * normal[0], p0[1] + 2 * k * normal[1], p0[2] + 2 * k * normal[2] };
			slices.add(s);
		}
		writeSeries(dir, slices);
		CtVolume v = DicomSeries.read(dir, null).volume();
		Geometry g = v.geometry();
		// Positions are written with 6 decimals, so the geometry is that close to the exact one.
		assertArrayEquals(new double[] { 1, 0, 0, 0, c, -s30, 0, s30, c }, g.direction(), 1e-6);
		assertArrayEquals(new double[] { 0.6, 0.8, 2 }, g.spacing(), 1e-6);
		assertArrayEquals(p0, g.origin(), 1e-6);
		// Voxel (index 3, row 2, col 4) in world mm, computed by hand from the DICOM definitions.
		double[] expected = new double[3];
		for (int i = 0; i < 3; i++) expected[i] = p0[i] + 4 * 0.6 * row[i] + 2 * 0.8 * col[i] + 3 * 2 * normal[i];
		assertArrayEquals(expected, g.voxelToWorld(3, 2, 4), 1e-5);
		assertEquals(3 * 1000 + 2 * 5 + 4 - 1024, hu(v, 4, 2, 3));
	}

	@Test
	void fractionalRescaleGivesFloats() throws IOException {
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		for (int k = 0; k < 3; k++) {
			DicomTestWriter.Slice s = slice(k);
			s.slope = "0.5";
			s.intercept = "-1000";
			slices.add(s);
		}
		writeSeries(dir, slices);
		CtVolume v = DicomSeries.read(dir, null).volume();
		assertInstanceOf(FloatType.class, Views.iterable(v.image()).firstElement());
		assertEquals((2 * 1000 + 7) * 0.5 - 1000, hu(v, 2, 1, 2), 0.0);
		assertEquals((0 * 1000 + 1) * 0.5 - 1000, hu(v, 1, 0, 0), 0.0);
	}

	@Test
	void rescalePerSliceAndSwitchToFloatMidwayKeepsEarlierSlices() throws IOException {
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		for (int k = 0; k < 3; k++) {
			DicomTestWriter.Slice s = slice(k);
			if (k == 2) s.slope = "0.25";
			slices.add(s);
		}
		writeSeries(dir, slices);
		CtVolume v = DicomSeries.read(dir, null).volume();
		assertInstanceOf(FloatType.class, Views.iterable(v.image()).firstElement());
		assertEquals(1000 + 29 - 1024, hu(v, 4, 5, 1), 0.0);
		assertEquals((2000 + 3) * 0.25 - 1024, hu(v, 3, 0, 2), 0.0);
	}

	@Test
	void unsignedTwelveBitsMaskTheHighBitsAndEightBitsWork() throws IOException {
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		for (int k = 0; k < 2; k++) {
			DicomTestWriter.Slice s = slice(k);
			s.pixelRepresentation = 0;
			s.bitsStored = 12;
			// Bits above the 12 stored ones (old overlay planes) must not leak into the value.
			for (int i = 0; i < s.stored.length; i++) s.stored[i] = 0xF000 | (k * 1000 + i);
			slices.add(s);
		}
		writeSeries(dir.resolve("u12"), slices);
		CtVolume v = DicomSeries.read(dir.resolve("u12"), null).volume();
		assertEquals(1000 + 13 - 1024, hu(v, 3, 2, 1));

		slices.clear();
		for (int k = 0; k < 2; k++) {
			DicomTestWriter.Slice s = slice(k);
			s.bitsAllocated = 8;
			s.bitsStored = 8;
			s.pixelRepresentation = 1;
			s.rows = 3; // 3 x 5 = 15 bytes: pixel data padded to 16
			s.stored = new int[15];
			for (int i = 0; i < 15; i++) s.stored[i] = (k == 0 ? -i : i) & 0xFF;
			s.intercept = "0";
			slices.add(s);
		}
		writeSeries(dir.resolve("s8"), slices);
		v = DicomSeries.read(dir.resolve("s8"), null).volume();
		assertArrayEquals(new int[] { 2, 3, 5 }, v.shapeIrc());
		assertEquals(-7, hu(v, 2, 1, 0));
		assertEquals(14, hu(v, 4, 2, 1));
	}

	@Test
	void twelveBitSignedIsSignExtended() throws IOException {
		List<DicomTestWriter.Slice> slices = new java.util.ArrayList<>();
		for (int k = 0; k < 2; k++) {
			DicomTestWriter.Slice s = slice(k);
			s.bitsStored = 12;
			s.intercept = "0";
			for (int i = 0; i < s.stored.length; i++) s.stored[i] = (-i - 100) & 0x0FFF; // 12-bit two's complement, high bits clear
			slices.add(s);
		}
		writeSeries(dir, slices);
		CtVolume v = DicomSeries.read(dir, null).volume();
		assertEquals(-106, hu(v, 1, 1, 1));
	}

	@Test
	void listSeriesOfAFileNamesItsSeries() throws IOException {
		writeSeries(dir, List.of(slice(0), slice(1), slice(2)));
		Path one;
		try (var s = Files.list(dir)) {
			one = s.sorted().findFirst().orElseThrow();
		}
		List<DicomSeries.SeriesInfo> list = DicomSeries.listSeries(one);
		assertEquals(List.of(new DicomSeries.SeriesInfo("1.2.826.0.1.3680043.99.1", 3, "synthetic chest", "CT")), list);
	}

	/** A cohort laid out as discs often are: a DICOMDIR at the top, one series per subfolder. */
	@Test
	void cohortWithDicomdirAtTheTopListsItsSeriesFolders() throws IOException {
		writeSeries(dir.resolve("patient-a"), List.of(slice(0), slice(1)));
		writeSeries(dir.resolve("patient-b"), List.of(slice(0), slice(1), slice(2)));
		DicomTestWriter.Slice index = slice(0);
		index.sopClass = "1.2.840.10008.1.3.10";
		byte[] image = DicomTestWriter.encode(index);
		int metaEnd = 132 + 12 + (image[140] & 0xFF) + ((image[141] & 0xFF) << 8);
		Files.write(dir.resolve("DICOMDIR"), java.util.Arrays.copyOf(image, metaEnd));
		assertEquals(List.of(dir.resolve("patient-a"), dir.resolve("patient-b")), CtReader.scansIn(dir));
		assertEquals(CtReader.Format.DICOM, CtReader.formatOf(dir.resolve("patient-b")));
		assertEquals(3, CtReader.read(dir.resolve("patient-b")).volume().depth());
	}
}
