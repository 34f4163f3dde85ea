package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.RealType;

/**
 * Every case of ../shared/dicom-corpus/MANIFEST.md (other people's DICOM test files: dcm2niix, NEMA WG04,
 * pydicom, dcmqi) through {@link CtReader#read}: readable cases must give the voxels (SHA-256 of the HU
 * volume as int16 LE [z][y][x]) and the geometry of their truth/*.json, computed with pydicom and GDCM;
 * refusal cases must be refused with a message naming the file and the reason.
 */
class DicomCorpusTest {

	static Path corpus(String relative) {
		return SharedData.require("dicom-corpus/" + relative);
	}

	static Stream<Arguments> readable() {
		return Stream.of(
			Arguments.of("dcm_qa_ct/Philips_Ingenuity_untilted_5mm_ser201", "dcm_qa_ct-philips-untilted"),
			Arguments.of("nema_wg04_ct/REF/CT1_UNC.dcm", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/REF/CT2_UNC.dcm", "wg04-CT2"),
			Arguments.of("nema_wg04_ct/RLE/CT1_RLE", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/RLE/CT2_RLE", "wg04-CT2"),
			Arguments.of("nema_wg04_ct/JPLL/CT1_JPLL", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/JPLL/CT2_JPLL", "wg04-CT2"),
			Arguments.of("nema_wg04_ct/J2KR/CT1_J2KR", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/J2KR/CT2_J2KR", "wg04-CT2"),
			Arguments.of("nema_wg04_ct/JLSL/CT1_JLSL", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/JLSL/CT2_JLSL", "wg04-CT2"),
			Arguments.of("nema_wg04_ct/dicomParser_variants/CT1_UNC.explicit_little_endian.dcm", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/dicomParser_variants/CT1_UNC.explicit_big_endian.dcm", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/dicomParser_variants/CT1_UNC.implicit_little_endian.dcm", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/dicomParser_variants/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", "wg04-CT1"),
			Arguments.of("nema_wg04_ct/dicomParser_variants/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm", "wg04-CT1"),
			Arguments.of("pydicom_ct/single/CT_small.dcm", "pydicom-CT_small"),
			// The same dataset as CT_small.dcm, without preamble and file meta.
			Arguments.of("pydicom_ct/single/no_meta.dcm", "pydicom-CT_small"),
			Arguments.of("pydicom_ct/single/693_UNCR.dcm", "pydicom-693_UNCR"),
			Arguments.of("pydicom_ct/single/693_UNCI.dcm", "pydicom-693_UNCI"),
			Arguments.of("pydicom_ct/single/693_J2KR.dcm", "pydicom-693_J2KR"),
			Arguments.of("pydicom_ct/single/J2K_pixelrep_mismatch.dcm", "pydicom-J2K_pixelrep_mismatch"),
			Arguments.of("pydicom_ct/single/explicit_VR-UN.dcm", "pydicom-explicit_VR-UN"),
			Arguments.of("pydicom_ct/single/bad_sequence.dcm", "pydicom-bad_sequence"),
			Arguments.of("pydicom_ct/single/eCT_Supplemental.dcm", "pydicom-eCT_Supplemental"),
			Arguments.of("pydicom_ct/series_GE_LightSpeedUltra_ser5_16x16", "pydicom-ser5"),
			Arguments.of("pydicom_ct/series_GE_LightSpeedUltra_ser5_16x16/2693", "pydicom-ser5"),
			Arguments.of("dcmqi_ct/GE_LightSpeedUltra_ct-3slice", "dcmqi-3slice"),
			Arguments.of("dcmqi_ct/synthetic_24x38x3/image", "dcmqi-synthetic"),
			Arguments.of("dcmqi_ct/synthetic_24x38x3/multiframe/mf.dcm", "dcmqi-multiframe"),
			Arguments.of("dcmqi_ct/synthetic_24x38x3/multiframe", "dcmqi-multiframe"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("readable")
	void readsToTheTruth(String input, String truthName) throws Exception {
		Path path = corpus(input);
		String truth = Files.readString(corpus("truth/" + truthName + ".json"));
		CtReader.ReadCt ct = CtReader.read(path);
		assertEquals(CtReader.Format.DICOM, ct.format());
		// 693_UNCI.dcm is uncompressed, but its header says (LossyImageCompression 01, ISO_15444_1) that the pixels went
		// through lossy JPEG 2000 before: read, and flagged lossy. Every other readable case is lossless.
		boolean lossy = input.endsWith("693_UNCI.dcm");
		assertEquals(lossy, ct.lossy(), "lossy flag");
		if (lossy) assertTrue(ct.notes().stream().anyMatch(n -> n.contains("LossyImageCompression") && n.contains("ISO_15444_1")), ct.notes().toString());
		assertMatchesTruth(ct.volume(), truth, input);
	}

	/** The multi-frame file and the single frames of dcmqi's synthetic volume: the same voxels and geometry. */
	@Test
	void multiFrameEqualsItsSingleFrames() throws Exception {
		CtVolume single = CtReader.read(corpus("dcmqi_ct/synthetic_24x38x3/image")).volume();
		CtVolume multi = CtReader.read(corpus("dcmqi_ct/synthetic_24x38x3/multiframe/mf.dcm")).volume();
		assertEquals(huSha256(single), huSha256(multi));
		String t1 = Files.readString(corpus("truth/dcmqi-synthetic.json")), t2 = Files.readString(corpus("truth/dcmqi-multiframe.json"));
		assertEquals(string(t1, "hu_sha256"), string(t2, "hu_sha256"), "the two truths disagree");
		assertArrayEquals(single.geometry().origin(), multi.geometry().origin(), 1e-4);
		assertArrayEquals(single.geometry().spacing(), multi.geometry().spacing(), 1e-4);
		assertArrayEquals(single.geometry().direction(), multi.geometry().direction(), 1e-6);
	}

	static Stream<Arguments> refused() {
		return Stream.of(
			Arguments.of("dcm_qa_ct/GE_HiSpeedDual_tilt18.5_varspacing_ser2", "GE_HiSpeedDual_tilt18.5_varspacing_ser2",
				List.of("uneven slice spacing", "4.", "7.", "1.0")),
			Arguments.of("dcm_qa_ct/Philips_Ingenuity_localizer_ser100", "Philips_Ingenuity_localizer_ser100", List.of("localizer (scout)")),
			Arguments.of("dcm_qa_ct/Philips_Ingenuity_localizer_ser100/I10", "Philips_Ingenuity_localizer_ser100", List.of("localizer (scout)")),
			Arguments.of("dcm_qa_ct/nonimage_Philips_DIRFILE", "nonimage_Philips_DIRFILE", List.of("no DICOM images", "skipped")),
			Arguments.of("pydicom_ct/series_GE_LightSpeedPlus_ser2_gapped_16x16", "series_GE_LightSpeedPlus_ser2_gapped_16x16",
				List.of("uneven slice spacing", "missing")),
			Arguments.of("pydicom_ct/series_GE_LightSpeedUltra_scouts_ser4_16x16", "series_GE_LightSpeedUltra_scouts_ser4_16x16",
				List.of("localizer (scout)")),
			Arguments.of("nema_wg04_ct/J2KI/CT1_J2KI", "CT1_J2KI", List.of("lossy", "1.2.840.10008.1.2.4.91", "lossy=accept")),
			Arguments.of("nema_wg04_ct/J2KI/CT2_J2KI", "CT2_J2KI", List.of("lossy", "1.2.840.10008.1.2.4.91", "lossy=accept")),
			Arguments.of("nema_wg04_ct/JLSN/CT1_JLSN", "CT1_JLSN", List.of("lossy", "1.2.840.10008.1.2.4.81", "lossy=accept")),
			Arguments.of("nema_wg04_ct/JLSN/CT2_JLSN", "CT2_JLSN", List.of("lossy", "1.2.840.10008.1.2.4.81", "lossy=accept")),
			Arguments.of("pydicom_ct/single/693_J2KI.dcm", "693_J2KI.dcm", List.of("lossy", "1.2.840.10008.1.2.4.91", "lossy=accept")));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("refused")
	void refusedNamingFileAndReason(String input, String named, List<String> reasons) {
		Path path = corpus(input);
		IOException e = assertThrows(IOException.class, () -> CtReader.read(path));
		String message = e.getMessage();
		assertTrue(message.contains(named), "the refusal must name " + named + ": " + message);
		for (String reason : reasons)
			assertTrue(message.toLowerCase(Locale.ROOT).contains(reason.toLowerCase(Locale.ROOT)), "the refusal must say \"" + reason + "\": " + message);
	}

	/** Philips' private directory file among the images of a series: skipped with a note, the series read. */
	@Test
	void privateDirectoryFileIsANote(@TempDir Path dir) throws Exception {
		Path series = corpus("pydicom_ct/series_GE_LightSpeedUltra_ser5_16x16");
		try (Stream<Path> files = Files.list(series)) {
			for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, dir.resolve(f.getFileName()));
		}
		Files.copy(corpus("dcm_qa_ct/nonimage_Philips_DIRFILE/DIRFILE"), dir.resolve("DIRFILE"));
		CtReader.ReadCt ct = CtReader.read(dir);
		assertMatchesTruth(ct.volume(), Files.readString(corpus("truth/pydicom-ser5.json")), "ser5 + DIRFILE");
		assertTrue(ct.notes().stream().anyMatch(n -> n.contains("DIRFILE")), "a note must name DIRFILE: " + ct.notes());
	}

	/** Lossy data with the opt-in: read, flagged lossy, with a note naming the compression. */
	@ParameterizedTest(name = "{0}")
	@MethodSource("lossyCases")
	void lossyReadWithTheOptIn(String input, String truthName, double tolerance) throws Exception {
		CtReader.ReadCt ct = CtReader.read(corpus(input), null, true);
		assertTrue(ct.lossy());
		assertTrue(ct.notes().stream().anyMatch(n -> n.toLowerCase(Locale.ROOT).contains("lossy")), "a note must say lossy: " + ct.notes());
		String truth = Files.readString(corpus("truth/" + truthName + ".json"));
		CtVolume v = ct.volume();
		int[] shape = ints(truth, "shape_zyx");
		assertArrayEquals(shape, new int[] { v.depth(), v.height(), v.width() });
		assertGeometry(v.geometry(), truth, input);
		// The lossless original: decoded values within the codec's error of it on average.
		CtVolume ref = CtReader.read(corpus(truthName.equals("wg04-CT1") ? "nema_wg04_ct/REF/CT1_UNC.dcm" : "nema_wg04_ct/REF/CT2_UNC.dcm")).volume();
		double sum = 0;
		RandomAccess<? extends RealType<?>> a = v.image().randomAccess(), b = ref.image().randomAccess();
		for (int y = 0; y < v.height(); y++)
			for (int x = 0; x < v.width(); x++) {
				a.setPosition(new long[] { x, y, 0 });
				b.setPosition(new long[] { x, y, 0 });
				sum += Math.abs(a.get().getRealDouble() - b.get().getRealDouble());
			}
		double mean = sum / ((double) v.height() * v.width());
		assertTrue(mean <= tolerance, "mean |lossy - original| = " + mean + " HU");
		assertTrue(mean > 0 || input.contains("JLSN"), "lossy data identical to the original: not lossy?");
	}

	static Stream<Arguments> lossyCases() {
		return Stream.of(
			Arguments.of("nema_wg04_ct/J2KI/CT1_J2KI", "wg04-CT1", 40.0),
			Arguments.of("nema_wg04_ct/JLSN/CT1_JLSN", "wg04-CT1", 10.0));
	}

	// ---------------------------------------------------------------------------------------------

	static void assertMatchesTruth(CtVolume v, String truth, String what) throws Exception {
		int[] shape = ints(truth, "shape_zyx");
		assertArrayEquals(shape, new int[] { v.depth(), v.height(), v.width() }, what + ": shape z, y, x");
		assertGeometry(v.geometry(), truth, what);
		assertEquals(string(truth, "hu_sha256"), huSha256(v), what + ": HU voxels");
	}

	static void assertGeometry(Geometry g, String truth, String what) {
		double[] origin = numbers(truth, "origin_xyz");
		assertArrayEquals(origin, g.origin(), 1e-4, what + ": origin");
		double[] spacingZyx = numbers(truth, "spacing_zyx");
		double[] spacing = g.spacing();
		assertEquals(spacingZyx[1], spacing[1], 1e-6, what + ": row spacing");
		assertEquals(spacingZyx[2], spacing[0], 1e-6, what + ": column spacing");
		if (!Double.isNaN(spacingZyx[0])) assertEquals(spacingZyx[0], spacing[2], 1e-4, what + ": slice spacing");
		// Row cosine, column cosine, normal; the truth's normal is the cross product of the stored (rounded) cosines, ours is
		// normalised: they differ by ~1e-5 for oblique slices.
		double[] dir = numbers(truth, "direction");
		double[] m = g.direction(); // row-major 3x3 whose columns are those three
		for (int k = 0; k < 3; k++)
			for (int i = 0; i < 3; i++)
				assertEquals(dir[3 * k + i], m[3 * i + k], 1e-4, what + ": direction axis " + k + " component " + i);
	}

	/** SHA-256 of the HU volume as int16 little-endian, [z][y][x]. */
	static String huSha256(CtVolume v) throws Exception {
		MessageDigest sha = MessageDigest.getInstance("SHA-256");
		RandomAccessibleInterval<? extends RealType<?>> img = v.image();
		RandomAccess<? extends RealType<?>> ra = img.randomAccess();
		byte[] row = new byte[2 * v.width()];
		for (int z = 0; z < v.depth(); z++)
			for (int y = 0; y < v.height(); y++) {
				for (int x = 0; x < v.width(); x++) {
					ra.setPosition(new long[] { x, y, z });
					double hu = ra.get().getRealDouble();
					assertEquals(Math.rint(hu), hu, 0, "HU not an integer at " + x + "," + y + "," + z);
					short s = (short) hu;
					row[2 * x] = (byte) s;
					row[2 * x + 1] = (byte) (s >> 8);
				}
				sha.update(row);
			}
		return HexFormat.of().formatHex(sha.digest());
	}

	static String string(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
		assertTrue(m.find(), key + " in the truth");
		return m.group(1);
	}

	static double[] numbers(String json, String key) {
		Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
		assertTrue(m.find(), key + " in the truth");
		String[] parts = m.group(1).split(",");
		double[] out = new double[parts.length];
		for (int i = 0; i < parts.length; i++) {
			String p = parts[i].trim();
			out[i] = p.equals("null") ? Double.NaN : Double.parseDouble(p);
		}
		return out;
	}

	static int[] ints(String json, String key) {
		double[] d = numbers(json, key);
		int[] out = new int[d.length];
		for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
		return out;
	}
}
