package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;

import net.imglib2.RandomAccess;
import net.imglib2.type.numeric.RealType;

/**
 * Enhanced CT multi-frame files made at test time with pydicom (multiframe_fixtures.py), bare datasets, a file given
 * as input among other series' files, and {@link CtReader.ReadCt#dicomSource()} against pydicom's reading.
 */
class DicomMultiFrameTest {

	@TempDir
	Path dir;

	private String python;

	private Path fixtures() throws IOException {
		python = ExternalTools.python("pydicom", "numpy");
		Path script = dir.resolve("multiframe_fixtures.py");
		try (var in = DicomMultiFrameTest.class.getResourceAsStream("multiframe_fixtures.py")) {
			Files.copy(in, script);
		}
		return script;
	}

	/** LIDC-IDRI-0001's 133 slices as one Enhanced CT file, frames shuffled: the same volume as the series. */
	@Test
	void enhancedCtOfARealSeriesReadsAsTheSeries() throws Exception {
		Path script = fixtures();
		Path series = SharedData.require("real/LIDC-IDRI-0001/dicom");
		Path mf = dir.resolve("mf").resolve("lidc-enhanced.dcm");
		Files.createDirectories(mf.getParent());
		ExternalTools.run(5, python, script.toString(), "enhanced", series.toString(), mf.toString());
		CtReader.ReadCt ct = CtReader.read(mf);
		CtVolume expected = DicomSeriesTest.wholeSeries().volume();
		assertEquals(DicomCorpusTest.huSha256(expected), DicomCorpusTest.huSha256(ct.volume()));
		assertArrayEquals(expected.geometry().origin(), ct.volume().geometry().origin(), 1e-6);
		assertArrayEquals(expected.geometry().spacing(), ct.volume().geometry().spacing(), 1e-6);
		assertArrayEquals(expected.geometry().direction(), ct.volume().geometry().direction(), 1e-9);
		// The summary's own digest: the multi-frame file gives LUNA16's bytes.
		Matcher m = Pattern.compile("\"hu_sha256\"\\s*:\\s*\"([0-9a-f]+)\"").matcher(DicomSeriesTest.summary());
		assertTrue(m.find());
		assertEquals(m.group(1), DicomCorpusTest.huSha256(ct.volume()));
		// One source image per slice, in slice order: this file's SOP instance, frames by position.
		SourceImages src = ct.dicomSource();
		assertEquals(133, src.images().size());
		java.util.Set<Integer> frames = new java.util.HashSet<>();
		for (SourceImages.Image i : src.images()) {
			assertEquals("1.2.840.10008.5.1.4.1.1.2.1", i.sopClassUid());
			frames.add(i.frameNumber());
		}
		assertEquals(133, frames.size());
		assertTrue(frames.stream().allMatch(f -> f >= 1 && f <= 133));
	}

	/** Two stacks in one file (300 frames, shuffled): listed and chosen like series; sequences of defined and of undefined length. */
	@Test
	void stacksInOneFileAreChosenLikeSeries() throws Exception {
		Path script = fixtures();
		Path st = dir.resolve("st").resolve("stacks.dcm");
		Files.createDirectories(st.getParent());
		ExternalTools.run(2, python, script.toString(), "stacks", st.toString());
		checkStacks(st);
		// The same file with every sequence and item of undefined length (DCMTK), the other form writers use.
		String dcmconv = ExternalTools.require("dcmconv", "--version");
		Path explicit = dir.resolve("st-undefined").resolve("stacks.dcm");
		Files.createDirectories(explicit.getParent());
		ExternalTools.run(2, dcmconv, "-e", st.toString(), explicit.toString());
		checkStacks(explicit);
	}

	/** A bogus NumberOfFrames is refused naming the file and what the pixel data holds, before any frame is made. */
	@Test
	void aBogusFrameCountIsRefused() throws Exception {
		Path script = fixtures();
		Path st = dir.resolve("bogus").resolve("stacks.dcm");
		Files.createDirectories(st.getParent());
		ExternalTools.run(2, python, script.toString(), "stacks", st.toString());
		byte[] b = Files.readAllBytes(st);
		byte[] tag = { 0x28, 0x00, 0x08, 0x00, 'I', 'S', 4, 0, '3', '0', '0', ' ' };
		int at = -1;
		for (int i = 0; i + tag.length <= b.length && at < 0; i++)
			if (java.util.Arrays.equals(b, i, i + tag.length, tag, 0, tag.length)) at = i;
		assertTrue(at > 0, "NumberOfFrames 300 found in the fixture");
		byte[] bogus = "9999".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
		System.arraycopy(bogus, 0, b, at + 8, 4);
		Files.write(st, b);
		IOException e = assertThrows(IOException.class, () -> CtReader.read(st));
		assertTrue(e.getMessage().contains(st.toString()) && e.getMessage().contains("9999"), e.getMessage());
	}

	private static void checkStacks(Path file) throws Exception {
		IOException e = assertThrows(IOException.class, () -> CtReader.read(file));
		assertTrue(e.getMessage().contains("holds 2 DICOM series") && e.getMessage().contains("#1:") && e.getMessage().contains("#2:"),
			e.getMessage());
		assertEquals(2, DicomSeries.listSeries(file).size());
		for (int stack = 1; stack <= 2; stack++) {
			CtReader.ReadCt ct = CtReader.read(file, "#" + stack);
			CtVolume v = ct.volume();
			assertArrayEquals(new int[] { 150, 16, 16 }, v.shapeIrc());
			assertArrayEquals(new double[] { -4, -4, (stack - 1) * 500.0 }, v.geometry().origin(), 1e-9);
			assertArrayEquals(new double[] { 0.5, 0.5, 1 }, v.geometry().spacing(), 1e-9);
			RandomAccess<? extends RealType<?>> ra = v.image().randomAccess();
			for (int z = 0; z < 150; z++) {
				ra.setPosition(new long[] { 3, 5, z });
				assertEquals(stack * 1000 + z, ra.get().getRealDouble(), 0, "stack " + stack + " slice " + z);
			}
			assertEquals(150, ct.dicomSource().images().size());
		}
	}

	/** A dataset written bare (no preamble, no file meta) in implicit VR: read as its original. */
	@Test
	void bareImplicitDatasetReads() throws Exception {
		Path script = fixtures();
		Path bare = dir.resolve("bare").resolve("ct_small_bare");
		Files.createDirectories(bare.getParent());
		Path small = SharedData.require("dicom-corpus/pydicom_ct/single/CT_small.dcm");
		ExternalTools.run(2, python, script.toString(), "bare", small.toString(), bare.toString());
		assertEquals(0x08, Files.readAllBytes(bare)[0], "starts with the dataset's first tag");
		CtReader.ReadCt ct = CtReader.read(bare);
		DicomCorpusTest.assertMatchesTruth(ct.volume(), Files.readString(SharedData.require("dicom-corpus/truth/pydicom-CT_small.json")),
			"bare implicit VR dataset");
	}

	/**
	 * A file given as input reads its own series: a damaged file, a foreign series' file and junk in the same folder
	 * are at most notes. Given the folder, today's refusals stay.
	 */
	@Test
	void aFileReadsItsOwnSeries() throws Exception {
		Path folder = dir.resolve("mixed");
		Files.createDirectories(folder);
		Path ser5 = SharedData.require("dicom-corpus/pydicom_ct/series_GE_LightSpeedUltra_ser5_16x16");
		try (Stream<Path> files = Files.list(ser5)) {
			for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, folder.resolve(f.getFileName()));
		}
		Path small = SharedData.require("dicom-corpus/pydicom_ct/single/CT_small.dcm");
		Files.copy(small, folder.resolve("foreign.dcm"));
		byte[] bytes = Files.readAllBytes(small);
		Files.write(folder.resolve("damaged.dcm"), java.util.Arrays.copyOf(bytes, 700));
		Files.writeString(folder.resolve("junk.dcm"), "not a DICOM file at all, but named like one");
		String truth = Files.readString(SharedData.require("dicom-corpus/truth/pydicom-ser5.json"));
		CtReader.ReadCt ct = CtReader.read(folder.resolve("2693"));
		DicomCorpusTest.assertMatchesTruth(ct.volume(), truth, "ser5 given as one file");
		assertTrue(ct.notes().stream().anyMatch(n -> n.contains("damaged.dcm")), ct.notes().toString());
		assertTrue(ct.notes().stream().anyMatch(n -> n.contains("junk.dcm")), ct.notes().toString());
		// Given the folder, each bad file is named (in file name order).
		IOException e = assertThrows(IOException.class, () -> CtReader.read(folder));
		assertTrue(e.getMessage().contains("damaged.dcm") && e.getMessage().contains("truncated"), e.getMessage());
		Files.delete(folder.resolve("damaged.dcm"));
		e = assertThrows(IOException.class, () -> CtReader.read(folder));
		assertTrue(e.getMessage().contains("junk.dcm") && e.getMessage().contains("not one"), e.getMessage());
		Files.delete(folder.resolve("junk.dcm"));
		e = assertThrows(IOException.class, () -> CtReader.read(folder));
		assertTrue(e.getMessage().contains("holds 2 DICOM series"), e.getMessage());
	}

	/** SourceImages of LIDC-IDRI-0001 against pydicom's reading of the same files. */
	@Test
	void sourceImagesOfARealSeriesArePydicoms() throws Exception {
		Path script = fixtures();
		Path series = SharedData.require("real/LIDC-IDRI-0001/dicom");
		String json = ExternalTools.run(2, python, script.toString(), "sourceinfo", series.toString()).strip();
		SourceImages src = DicomSeriesTest.wholeSeries().dicomSource();
		assertEquals(field(json, "StudyInstanceUID"), src.studyInstanceUid());
		assertEquals(field(json, "SeriesInstanceUID"), src.seriesInstanceUid());
		assertEquals(field(json, "FrameOfReferenceUID"), src.frameOfReferenceUid());
		for (String key : List.of("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
			"AccessionNumber", "ReferringPhysicianName")) {
			String expected = field(json, key);
			if (expected == null || expected.isEmpty()) assertTrue(src.patientAndStudy().getOrDefault(key, "").isEmpty(), key);
			else assertEquals(expected, src.patientAndStudy().get(key), key);
		}
		Matcher m = Pattern.compile("\"sop_class\": \"([^\"]*)\", \"sop_instance\": \"([^\"]*)\"").matcher(json);
		List<String[]> images = new ArrayList<>();
		while (m.find()) images.add(new String[] { m.group(1), m.group(2) });
		assertEquals(133, images.size());
		assertEquals(images.size(), src.images().size());
		for (int z = 0; z < images.size(); z++) {
			assertEquals(images.get(z)[0], src.images().get(z).sopClassUid(), "slice " + z);
			assertEquals(images.get(z)[1], src.images().get(z).sopInstanceUid(), "slice " + z);
			assertEquals(0, src.images().get(z).frameNumber());
		}
	}

	@Test
	void noSourceImagesForOtherFormats() throws Exception {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		assertNull(CtReader.read(mhd).dicomSource());
	}

	private static String field(String json, String key) {
		Matcher m = Pattern.compile("\"" + key + "\": \"([^\"]*)\"").matcher(json);
		return m.find() ? m.group(1) : null;
	}

}
