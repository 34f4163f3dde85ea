package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;

/**
 * Reading back our TID 1500 reports: a round trip through {@link MeasurementReportWriter} gives every value
 * exactly (those only FloatingPointValue holds too, a missing malignancy as NaN); a report edited by pydicom
 * reads as pydicom reads it; implicit VR with undefined lengths and deflated files read the same; and truncated,
 * foreign, random and hostile files are refused naming the file and the problem.
 */
class MeasurementReportReaderTest {

	@TempDir
	Path dir;

	/** Values that 16 characters of DS cannot hold (so FloatingPointValue must carry them), and a rank that is not the place. */
	static final List<NoduleFinding> FINDINGS = List.of(
		new NoduleFinding(3, 7, 10.123456789, -20.987654321, -33.3333333333, 1.0 / 3, Math.PI * 1000 / 7, 0.912345678901234567, 0.1 + 0.2),
		new NoduleFinding(5, 4, 11.5, 19.25, -31, 4.5, 12.375, 2.0 / 3, Double.NaN));

	Path writeReport(List<NoduleFinding> findings) throws Exception {
		return NoduleDicom.write(dir, "small", SegmentationSmallTest.source(), SegmentationSmallTest.GEOMETRY, SegmentationSmallTest.SHAPE,
			findings.isEmpty() ? new int[60] : SegmentationSmallTest.labels(), findings, SegmentationWriterTest.ALGORITHM).srFile();
	}

	@Test
	void roundTripGivesEveryValueExactly() throws Exception {
		// Only then is the test of FloatingPointValue a test: DS alone would lose these values.
		for (double v : new double[] { 1.0 / 3, Math.PI * 1000 / 7, 0.912345678901234567, 0.1 + 0.2, 2.0 / 3 })
			assertNotEquals(v, Double.parseDouble(Part10Writer.ds(v)));
		Path sr = writeReport(FINDINGS);
		MeasurementReportReader.Report r = MeasurementReportReader.read(sr);
		SourceImages src = SegmentationSmallTest.source();
		assertEquals(src.seriesInstanceUid(), r.sourceSeriesUid());
		assertEquals(src.frameOfReferenceUid(), r.frameOfReferenceUid());
		assertEquals(FINDINGS.size(), r.nodules().size());
		for (int i = 0; i < FINDINGS.size(); i++) {
			NoduleFinding f = FINDINGS.get(i);
			MeasurementReportReader.Nodule n = r.nodules().get(i);
			assertEquals(f.rank(), n.rank());
			// SCOORD3D GraphicData is FL: the centre comes back as its single-precision value, exactly.
			assertEquals((double) (float) f.x(), n.x());
			assertEquals((double) (float) f.y(), n.y());
			assertEquals((double) (float) f.z(), n.z());
			assertEquals(f.diameterMm(), n.diameterMm());
			assertEquals(f.volumeMm3(), n.volumeMm3());
			assertEquals(f.pNodule(), n.pNodule());
			assertEquals(f.pMalignant(), n.pMalignant()); // NaN equals NaN for assertEquals(double, double)
		}
		assertTrue(Double.isNaN(r.nodules().get(1).pMalignant()));
		assertTrue(MeasurementReportReader.isPart10(sr));
	}

	@Test
	void theReportOfARealCtReadsAsPydicomReadsItAndAsItWasWritten() throws Exception {
		SegmentationWriterTest.Fixture f = SegmentationWriterTest.fixture(); // LIDC-IDRI-0001 with three balls
		SegmentationWriter.Written seg = SegmentationWriterTest.writeSeg(f, dir.resolve("lidc.seg.dcm"));
		Path sr = dir.resolve("lidc.sr.dcm");
		MeasurementReportWriter.write(sr, f.source().images(), seg, f.findings(), SegmentationWriterTest.ALGORITHM);
		MeasurementReportReader.Report r = MeasurementReportReader.read(sr);
		assertEquals(f.source().images().seriesInstanceUid(), r.sourceSeriesUid());
		assertEquals(f.source().images().frameOfReferenceUid(), r.frameOfReferenceUid());
		List<String[]> groups = DicomTools.python("read_sr.py", sr.toString()).rows("group");
		assertEquals(f.findings().size(), r.nodules().size());
		assertEquals(groups.size(), r.nodules().size());
		for (int i = 0; i < groups.size(); i++) {
			String[] g = groups.get(i);
			MeasurementReportReader.Nodule n = r.nodules().get(i);
			NoduleFinding w = f.findings().get(i);
			assertEquals(g[1], "Nodule " + n.rank());
			assertEquals(w.rank(), n.rank());
			assertEquals(Double.parseDouble(g[7]), n.diameterMm());
			assertEquals(Double.parseDouble(g[8]), n.volumeMm3());
			assertEquals(w.volumeMm3(), n.volumeMm3());
			assertEquals(Double.parseDouble(g[9]), n.pNodule());
			assertEquals(g[10].equals("nan") ? Double.NaN : Double.parseDouble(g[10]), n.pMalignant());
			assertEquals(List.of(Double.parseDouble(g[11]), Double.parseDouble(g[12]), Double.parseDouble(g[13])), List.of(n.x(), n.y(), n.z()));
			assertEquals(g[14], r.frameOfReferenceUid());
		}
	}

	@Test
	void aReportWithoutNodulesHasNoneAndStillNamesItsSeries() throws Exception {
		MeasurementReportReader.Report r = MeasurementReportReader.read(writeReport(List.of()));
		assertEquals(List.of(), r.nodules());
		assertEquals(SegmentationSmallTest.source().seriesInstanceUid(), r.sourceSeriesUid());
		assertEquals("", r.frameOfReferenceUid());
	}

	@Test
	void aReportEditedByPydicomReadsAsPydicomReadsIt() throws Exception {
		DicomTools.requirePydicom();
		Path sr = writeReport(FINDINGS), edited = dir.resolve("edited.sr.dcm");
		DicomTools.python("edit_sr.py", sr.toString(), edited.toString(), "edit");
		List<String[]> groups = DicomTools.python("read_sr.py", edited.toString()).rows("group");
		List<MeasurementReportReader.Nodule> nodules = MeasurementReportReader.read(edited).nodules();
		assertEquals(groups.size(), nodules.size());
		for (int i = 0; i < groups.size(); i++) {
			String[] g = groups.get(i);
			MeasurementReportReader.Nodule n = nodules.get(i);
			assertEquals(g[1], "Nodule " + n.rank());
			assertEquals(Double.parseDouble(g[7]), n.diameterMm());
			assertEquals(Double.parseDouble(g[8]), n.volumeMm3());
			assertEquals(Double.parseDouble(g[9]), n.pNodule());
			assertEquals(g[10].equals("nan") ? Double.NaN : Double.parseDouble(g[10]), n.pMalignant());
			assertEquals(Double.parseDouble(g[11]), n.x());
			assertEquals(Double.parseDouble(g[12]), n.y());
			assertEquals(Double.parseDouble(g[13]), n.z());
		}
		// And the values the script set, by hand.
		assertEquals(42, nodules.get(0).rank());
		assertEquals(7.25, nodules.get(0).diameterMm());
		assertEquals(List.of(1.5, -2.25, 3.125), List.of(nodules.get(0).x(), nodules.get(0).y(), nodules.get(0).z()));
		assertEquals(0.375, nodules.get(0).pMalignant());
		assertEquals(FINDINGS.get(1).diameterMm(), nodules.get(1).diameterMm());
	}

	@Test
	void implicitVrWithUndefinedLengthsAndDeflatedReadTheSame() throws Exception {
		DicomTools.requirePydicom();
		Path sr = writeReport(FINDINGS);
		MeasurementReportReader.Report expected = MeasurementReportReader.read(sr);
		for (String mode : new String[] { "implicit", "deflate" }) {
			Path other = dir.resolve(mode + ".sr.dcm");
			DicomTools.python("edit_sr.py", sr.toString(), other.toString(), mode);
			// pydicom did write what was asked (else this would test nothing new).
			String syntax = DicomTools.run(DicomTools.PYTHON, "-c", "import sys, pydicom; print(pydicom.dcmread(sys.argv[1]).file_meta.TransferSyntaxUID)",
				other.toString()).out().strip();
			assertEquals(mode.equals("implicit") ? TransferSyntax.IMPLICIT_LE : TransferSyntax.DEFLATED_LE, syntax);
			if (mode.equals("implicit")) {
				byte[] b = Files.readAllBytes(other);
				assertTrue(indexOf(b, new byte[] { (byte) 0xFE, (byte) 0xFF, (byte) 0xDD, (byte) 0xE0 }, 0) > 0, "sequence delimiters present");
			}
			assertEquals(expected, MeasurementReportReader.read(other), mode);
		}
	}

	@Test
	void aTruncatedReportIsRefusedAtEveryCut() throws Exception {
		byte[] whole = Files.readAllBytes(writeReport(FINDINGS));
		// The root ContentSequence's header: a cut right before it leaves a file that ends at an element boundary.
		int content = indexOf(whole, new byte[] { 0x40, 0x00, 0x30, (byte) 0xA7, 'S', 'Q' }, 132);
		assertTrue(content > 0);
		int[] cuts = { 0, 64, 131, 132, 140, 200, content, content + 6, content + 100, whole.length / 2, whole.length - 30, whole.length - 2,
			whole.length - 1 };
		for (int cut : cuts) {
			Path f = dir.resolve("cut" + cut + ".sr.dcm");
			Files.write(f, Arrays.copyOf(whole, cut));
			DicomException e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f), "cut at " + cut);
			assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
			String m = e.getMessage();
			assertTrue(cut < 132 ? m.contains("not a DICOM file") : m.contains("truncated") || m.contains("damaged"), "cut at " + cut + ": " + m);
		}
	}

	@Test
	void aCtSliceASegmentationAndAnotherTemplateAreRefusedSayingWhatTheyAre() throws Exception {
		Path slice = SharedData.require("real/LIDC-IDRI-0001/dicom").resolve("0001.dcm");
		DicomException e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(slice));
		assertTrue(e.getMessage().startsWith(slice + ": is a CT image (SOP class 1.2.840.10008.5.1.4.1.1.2)"), e.getMessage());

		Path seg = dir.resolve("small" + NoduleDicom.SEG_SUFFIX);
		writeReport(FINDINGS);
		e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(seg));
		assertTrue(e.getMessage().contains("is a Segmentation (SEG)"), e.getMessage());

		// The same report with another document title (the first CodeValue "126000" is the root's concept name).
		byte[] b = Files.readAllBytes(dir.resolve("small" + NoduleDicom.SR_SUFFIX));
		byte[] codeValue = { 0x08, 0x00, 0x00, 0x01, 'S', 'H', 6, 0, '1', '2', '6', '0', '0', '0' };
		int at = indexOf(b, codeValue, 132);
		assertTrue(at > 0);
		b[at + codeValue.length - 1] = '1';
		Path other = dir.resolve("other-title.dcm");
		Files.write(other, b);
		e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(other));
		assertTrue(e.getMessage().contains("not a TID 1500 Imaging Measurement Report: its document title is (126001, DCM"), e.getMessage());
	}

	@Test
	void bigEndianIsRefusedByName() throws Exception {
		byte[] b = Files.readAllBytes(writeReport(FINDINGS));
		// Same length: the explicit VR little endian UID's last digit becomes big endian's.
		int at = indexOf(b, TransferSyntax.EXPLICIT_LE.getBytes(StandardCharsets.US_ASCII), 132);
		b[at + TransferSyntax.EXPLICIT_LE.length() - 1] = '2';
		Path f = dir.resolve("big.dcm");
		Files.write(f, b);
		DicomException e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f));
		assertTrue(e.getMessage().contains("explicit VR big endian"), e.getMessage());
	}

	@Test
	void randomBytesAreNotDicom() throws Exception {
		byte[] b = new byte[10_000];
		new Random(23).nextBytes(b);
		Path f = dir.resolve("random.bin");
		Files.write(f, b);
		DicomException e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f));
		assertTrue(e.getMessage().equals(f + ": is not a DICOM file: no \"DICM\" after a 128-byte preamble"), e.getMessage());
		// Random bytes after a valid header: refused as damaged, whatever they hold.
		byte[] head = header();
		for (int seed = 0; seed < 50; seed++) {
			byte[] tail = new byte[2000];
			new Random(seed).nextBytes(tail);
			Path g = dir.resolve("random" + seed + ".dcm");
			Files.write(g, concat(head, tail));
			assertThrows(DicomException.class, () -> MeasurementReportReader.read(g), "seed " + seed);
		}
	}

	@Test
	void hostileLengthsNestingAndCountsFailCleanly() throws Exception {
		// A length far past the end of the file.
		ByteArrayOutputStream huge = new ByteArrayOutputStream();
		huge.write(header());
		huge.write(element(0x0040A160, "UT", 0xFFFFFFF0L));
		Path f1 = write("huge.dcm", huge.toByteArray());
		DicomException e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f1));
		assertTrue(e.getMessage().contains("declares 4294967280 bytes, but only 0 remain in the file"), e.getMessage());

		// Sequences nested 10 000 deep, each of undefined length.
		ByteArrayOutputStream deep = new ByteArrayOutputStream();
		deep.write(header());
		for (int i = 0; i < 10_000; i++) {
			deep.write(element(0x0040A730, "SQ", 0xFFFFFFFFL));
			deep.write(item(0xFFFFFFFFL));
		}
		Path f2 = write("deep.dcm", deep.toByteArray());
		e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f2));
		assertTrue(e.getMessage().contains("nested deeper than " + MeasurementReportReader.MAX_DEPTH), e.getMessage());

		// More empty items than any report holds.
		ByteArrayOutputStream many = new ByteArrayOutputStream();
		many.write(header());
		many.write(element(0x0040A730, "SQ", 0xFFFFFFFFL));
		for (int i = 0; i <= MeasurementReportReader.MAX_ELEMENTS; i++) many.write(item(0));
		Path f3 = write("many.dcm", many.toByteArray());
		e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f3));
		assertTrue(e.getMessage().contains("more than " + MeasurementReportReader.MAX_ELEMENTS + " elements"), e.getMessage());

		// An item claiming more bytes than its sequence holds.
		ByteArrayOutputStream overrun = new ByteArrayOutputStream();
		overrun.write(header());
		overrun.write(element(0x0040A730, "SQ", 16));
		overrun.write(item(1000));
		overrun.write(new byte[1000]);
		Path f4 = write("overrun.dcm", overrun.toByteArray());
		e = assertThrows(DicomException.class, () -> MeasurementReportReader.read(f4));
		assertTrue(e.getMessage().contains("declares 1000 bytes, but only 8 remain in what holds it"), e.getMessage());
	}

	// --- hand-made files ---

	/** Preamble, meta and the SOP class and instance of a Comprehensive 3D SR, explicit VR little endian. */
	static byte[] header() {
		return Part10Writer.encode(new DicomDataSet().string(DicomDataSet.tag(0x0008, 0x0016), "UI", MeasurementReportWriter.SOP_CLASS_UID)
			.string(DicomDataSet.tag(0x0008, 0x0018), "UI", "1.2.3.4"));
	}

	/** The header of an explicit VR element with a 4-byte length. */
	static byte[] element(int tag, String vr, long length) {
		ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
		b.putShort((short) (tag >>> 16)).putShort((short) tag).put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) 0).putInt((int) length);
		return b.array();
	}

	static byte[] item(long length) {
		return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFE).putShort((short) 0xE000).putInt((int) length).array();
	}

	Path write(String name, byte[] bytes) throws Exception {
		Path f = dir.resolve(name);
		Files.write(f, bytes);
		return f;
	}

	static byte[] concat(byte[] a, byte[] b) {
		byte[] c = Arrays.copyOf(a, a.length + b.length);
		System.arraycopy(b, 0, c, a.length, b.length);
		return c;
	}

	static int indexOf(byte[] hay, byte[] needle, int from) {
		outer: for (int i = from; i <= hay.length - needle.length; i++) {
			for (int k = 0; k < needle.length; k++)
				if (hay[i + k] != needle[k]) continue outer;
			return i;
		}
		return -1;
	}
}
