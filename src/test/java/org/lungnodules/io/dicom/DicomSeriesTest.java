package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.Luna16Tables;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.view.Views;

/**
 * The real LIDC-IDRI-0001 series (TCIA's 133 DICOM files, see ../shared/real/ATTRIBUTION.md) must
 * give exactly the volume and world coordinates that LUNA16's .mhd of this series holds, as
 * summary.json records them.
 */
class DicomSeriesTest {

	static Path dicomFolder() {
		return SharedData.require("real/LIDC-IDRI-0001/dicom");
	}

	private static CtReader.ReadCt wholeSeries;

	/** The folder read once for the tests that only look at the result (reading takes a second or two). */
	static synchronized CtReader.ReadCt wholeSeries() throws IOException {
		if (wholeSeries == null) wholeSeries = DicomSeries.read(dicomFolder(), null);
		return wholeSeries;
	}

	static String summary() throws IOException {
		return Files.readString(SharedData.require("real/LIDC-IDRI-0001/summary.json"));
	}

	@Test
	void realSeriesMatchesLunaVolumeByteForByte() throws Exception {
		String json = summary();
		CtReader.ReadCt ct = wholeSeries();
		CtVolume v = ct.volume();
		assertEquals(CtReader.Format.DICOM, ct.format());
		assertInstanceOf(ShortType.class, Views.iterable(v.image()).firstElement(), "integer HU must stay 16-bit");
		assertEquals(jsonString(json, "seriesuid"), v.seriesUid());
		assertArrayEquals(toInts(jsonNumbers(json, "shape_irc")), v.shapeIrc());
		Geometry g = v.geometry();
		double[] spacingZyx = jsonNumbers(json, "spacing_zyx");
		assertArrayEquals(new double[] { spacingZyx[2], spacingZyx[1], spacingZyx[0] }, g.spacing(), 0.0);
		assertArrayEquals(jsonNumbers(json, "offset_xyz"), g.origin(), 0.0);
		assertArrayEquals(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, g.direction(), 0.0);
		assertEquals(jsonString(json, "hu_sha256"), sha256(v));
		assertTrue(ct.notes().isEmpty(), "a clean series gives no notes: " + ct.notes());
	}

	@Test
	void oneFileStandsForItsWholeSeries() throws Exception {
		Path someFile;
		try (Stream<Path> s = Files.list(dicomFolder())) {
			someFile = s.sorted().skip(57).findFirst().orElseThrow();
		}
		CtVolume v = DicomSeries.read(someFile, null).volume();
		assertEquals(jsonString(summary(), "hu_sha256"), sha256(v));
		assertArrayEquals(jsonNumbers(summary(), "offset_xyz"), v.geometry().origin(), 0.0);
	}

	@Test
	void ctReaderReadsTheFolderAsDicom() throws Exception {
		assertEquals(CtReader.Format.DICOM, CtReader.formatOf(dicomFolder()));
		CtReader.ReadCt ct = CtReader.read(dicomFolder());
		assertEquals(CtReader.Format.DICOM, ct.format());
		assertEquals(jsonString(summary(), "hu_sha256"), sha256(ct.volume()));
	}

	@Test
	void listsTheOneSeries() throws Exception {
		List<DicomSeries.SeriesInfo> list = DicomSeries.listSeries(dicomFolder());
		assertEquals(1, list.size());
		assertEquals(jsonString(summary(), "seriesuid"), list.get(0).uid());
		assertEquals(133, list.get(0).slices());
		assertEquals("CT", list.get(0).modality());
	}

	@Test
	void everyFileIsRecognisedAsDicom() throws Exception {
		try (Stream<Path> s = Files.list(dicomFolder())) {
			for (Path p : s.collect(Collectors.toList())) assertTrue(DicomSeries.isDicomFile(p), p.toString());
		}
		assertFalse(DicomSeries.isDicomFile(SharedData.require("real/LIDC-IDRI-0001/summary.json")));
		assertFalse(DicomSeries.isDicomFile(SharedData.require("real/LIDC-IDRI-0001/reader-annotations.xml")));
	}

	/** LUNA16's annotation of this series (world mm) must land inside the volume, on the 23 mm nodule's dense tissue. */
	@Test
	void lunaAnnotationLandsOnTheNodule() throws Exception {
		CtVolume v = wholeSeries().volume();
		List<Luna16Tables.Annotation> mine = new ArrayList<>();
		for (Luna16Tables.Annotation a : Luna16Tables.readAnnotations(SharedData.require("luna/annotations.csv")))
			if (a.seriesUid().equals(v.seriesUid())) mine.add(a);
		assertEquals(1, mine.size());
		Luna16Tables.Annotation a = mine.get(0);
		assertTrue(a.diameterMm() > 20, "the 23 mm nodule");
		int[] irc = v.geometry().worldToVoxelRounded(a.x(), a.y(), a.z());
		int[] shape = v.shapeIrc();
		for (int d = 0; d < 3; d++) assertTrue(irc[d] >= 0 && irc[d] < shape[d], "annotation inside the volume: " + java.util.Arrays.toString(irc));
		RandomAccess<? extends RealType<?>> ra = v.image().randomAccess();
		ra.setPosition(new int[] { irc[2], irc[1], irc[0] });
		double centre = ra.get().getRealDouble();
		assertTrue(centre > -300, "HU at the nodule's centre: " + centre);
		// The nodule is about 23 mm across: a 5x5x3 block at its centre is mostly soft tissue, not lung air.
		int dense = 0, total = 0;
		for (int z = -1; z <= 1; z++)
			for (int y = -2; y <= 2; y++)
				for (int x = -2; x <= 2; x++) {
					ra.setPosition(new int[] { irc[2] + x, irc[1] + y, irc[0] + z });
					total++;
					if (ra.get().getRealDouble() > -300) dense++;
				}
		assertTrue(dense > total * 0.8, dense + " of " + total + " voxels dense");
	}

	// -------------------------------------------------------------------- helpers

	/** SHA-256 of the volume as LUNA16's .raw holds it: int16 little-endian, x fastest, then y, then z. */
	static String sha256(CtVolume v) throws NoSuchAlgorithmException {
		MessageDigest md = MessageDigest.getInstance("SHA-256");
		RandomAccessibleInterval<? extends RealType<?>> img = v.image();
		ByteBuffer bb = ByteBuffer.allocate(v.width() * 2).order(ByteOrder.LITTLE_ENDIAN);
		Cursor<? extends RealType<?>> c = Views.flatIterable(img).cursor();
		int n = 0;
		while (c.hasNext()) {
			double hu = c.next().getRealDouble();
			assertEquals(Math.rint(hu), hu, "integer HU");
			bb.putShort((short) hu);
			if (++n == v.width()) {
				md.update(bb.array(), 0, bb.position());
				bb.clear();
				n = 0;
			}
		}
		md.update(bb.array(), 0, bb.position());
		return HexFormat.of().formatHex(md.digest());
	}

	static String jsonString(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
		assertTrue(m.find(), key + " in summary.json");
		return m.group(1);
	}

	static double[] jsonNumbers(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
		assertTrue(m.find(), key + " in summary.json");
		String[] parts = m.group(1).split(",");
		double[] out = new double[parts.length];
		for (int i = 0; i < parts.length; i++) out[i] = Double.parseDouble(parts[i].trim());
		return out;
	}

	static int[] toInts(double[] d) {
		int[] out = new int[d.length];
		for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
		return out;
	}

	static byte[] ascii(String s) {
		return s.getBytes(StandardCharsets.US_ASCII);
	}
}
