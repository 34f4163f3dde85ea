package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Part 10 writer's bytes, checked against hand-computed encodings and read back by dcmdump and pydicom. */
class Part10WriterTest {

	@TempDir
	Path dir;

	private static int tag(int g, int e) {
		return DicomDataSet.tag(g, e);
	}

	@Test
	void bitsFillBytesFromTheLeastSignificantBitAndFramesAreNotPadded() {
		// Pixels 0 and 9 set, 10 bits: byte 0 = 0b00000001, byte 1 = 0b00000010.
		boolean[] bits = new boolean[10];
		bits[0] = true;
		bits[9] = true;
		assertArrayEquals(new byte[] { 0x01, 0x02 }, BitPacker.pack(bits));
		// Two 3×3 frames, all of the second set: bits 9..17 → byte 1 = 0xFE, byte 2 = 0x03.
		boolean[] two = new boolean[18];
		Arrays.fill(two, 9, 18, true);
		assertArrayEquals(new byte[] { 0x00, (byte) 0xFE, 0x03 }, BitPacker.pack(two));
		boolean[] eight = new boolean[8];
		eight[7] = true;
		assertArrayEquals(new byte[] { (byte) 0x80 }, BitPacker.pack(eight));
		BitPacker p = new BitPacker(3);
		p.add(true);
		assertThrows(IllegalStateException.class, p::bytes);
	}

	@Test
	void oddValuesArePaddedAsTheirVrRequires() {
		assertArrayEquals("1.2.3\0".getBytes(StandardCharsets.US_ASCII), DicomDataSet.padded("UI", "1.2.3".getBytes(StandardCharsets.US_ASCII)));
		assertArrayEquals("abc ".getBytes(StandardCharsets.US_ASCII), DicomDataSet.padded("LO", "abc".getBytes(StandardCharsets.US_ASCII)));
		assertArrayEquals("1.5 ".getBytes(StandardCharsets.US_ASCII), DicomDataSet.padded("DS", "1.5".getBytes(StandardCharsets.US_ASCII)));
		assertArrayEquals(new byte[] { 1, 2, 3, 0 }, DicomDataSet.padded("OB", new byte[] { 1, 2, 3 }));
		assertArrayEquals(new byte[] { 'a', 'b' }, DicomDataSet.padded("CS", new byte[] { 'a', 'b' }));
		assertArrayEquals(new byte[0], DicomDataSet.padded("PN", new byte[0]));
	}

	@Test
	void explicitVrHeadersUseShortAndLongLengthsByVr() {
		byte[] b = new DicomDataSet().string(tag(0x0010, 0x0020), "LO", "ABC").binary(tag(0x0029, 0x0010), "OB", new byte[] { 7 })
			.sequence(tag(0x0040, 0xA730), new DicomDataSet().us(tag(0x0062, 0x000B), 513)).encode();
		ByteBuffer expected = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
		// (0010,0020) LO, 2-byte length 4, "ABC "
		expected.putShort((short) 0x0010).putShort((short) 0x0020).put((byte) 'L').put((byte) 'O').putShort((short) 4).put("ABC ".getBytes(StandardCharsets.US_ASCII));
		// (0029,0010) OB, 2 reserved bytes, 4-byte length 2, 07 00
		expected.putShort((short) 0x0029).putShort((short) 0x0010).put((byte) 'O').put((byte) 'B').putShort((short) 0).putInt(2).put((byte) 7).put((byte) 0);
		// (0040,A730) SQ, length 8 + 10 = 18; item (FFFE,E000) length 10; (0062,000B) US 2 → 513
		expected.putShort((short) 0x0040).putShort((short) 0xA730).put((byte) 'S').put((byte) 'Q').putShort((short) 0).putInt(18);
		expected.putShort((short) 0xFFFE).putShort((short) 0xE000).putInt(10);
		expected.putShort((short) 0x0062).putShort((short) 0x000B).put((byte) 'U').put((byte) 'S').putShort((short) 2).putShort((short) 513);
		assertArrayEquals(Arrays.copyOf(expected.array(), expected.position()), b);
	}

	@Test
	void attributesAreWrittenInTagOrderWhateverTheOrderOfCalls() {
		DicomDataSet ds = new DicomDataSet().string(tag(0x7FE0, 0x0010), "OB", "").string(tag(0x0008, 0x0016), "UI", "1.2")
			.string(tag(0xFFFA, 0xFFFA), "SQ", "").string(tag(0x0002, 0x0000), "UL", "");
		assertEquals(List.of(tag(0x0002, 0x0000), tag(0x0008, 0x0016), tag(0x7FE0, 0x0010), tag(0xFFFA, 0xFFFA)), ds.tags());
	}

	@Test
	void uidsAreTheUuidAsAnUnsignedDecimal() {
		assertEquals("2.25.1", Part10Writer.uidOf(new UUID(0, 1)));
		assertEquals("2.25.340282366920938463463374607431768211455", Part10Writer.uidOf(new UUID(-1, -1)));
		assertEquals("2.25.18446744073709551616", Part10Writer.uidOf(new UUID(1, 0)));
		for (int i = 0; i < 100; i++) {
			String u = Part10Writer.newUid();
			assertTrue(u.matches("2\\.25\\.(0|[1-9][0-9]*)") && u.length() <= 64, u);
		}
		assertTrue(Part10Writer.IMPLEMENTATION_CLASS_UID.matches("2\\.25\\.[1-9][0-9]*"));
	}

	@Test
	void datesTimesAndDecimalsFollowPs35() {
		ZonedDateTime t = ZonedDateTime.of(2024, 3, 5, 7, 8, 9, 123_456_000, ZoneOffset.ofHours(1));
		assertEquals("20240305", Part10Writer.da(t));
		assertEquals("070809.123456", Part10Writer.tm(t));
		assertEquals("20240305070809.123456+0100", Part10Writer.dt(t));
		assertEquals("0.703125", Part10Writer.ds(0.703125));
		assertEquals("-171.699997", Part10Writer.ds(-171.699997));
		assertEquals("2.5", Part10Writer.ds(2.5));
		assertEquals("-340", Part10Writer.ds(-340.0));
		assertEquals("0", Part10Writer.ds(1e-12));
		String third = Part10Writer.ds(1.0 / 3);
		assertTrue(third.length() <= 16 && Math.abs(Double.parseDouble(third) - 1.0 / 3) < 1e-13, third);
		String big = Part10Writer.ds(-123456789.123456789);
		assertTrue(big.length() <= 16 && Math.abs(Double.parseDouble(big) + 123456789.123456789) < 1e-5, big);
		assertEquals("1\\0\\-0.5", Part10Writer.ds(1, 0, -0.5));
		assertThrows(IllegalArgumentException.class, () -> Part10Writer.ds(Double.NaN));
	}

	@Test
	void aPart10FileHasPreambleDicmAndAGroupLengthThatDcmdumpAndPydicomAccept() throws Exception {
		DicomDataSet ds = new DicomDataSet().string(tag(0x0008, 0x0016), "UI", "1.2.840.10008.5.1.4.1.1.7")
			.string(tag(0x0008, 0x0018), "UI", "1.2.3").string(tag(0x0010, 0x0010), "PN", "Doe^Jo")
			.string(tag(0x0010, 0x0020), "LO", "odd").string(tag(0x0020, 0x000D), "UI", "1.23");
		Path file = dir.resolve("small.dcm");
		Part10Writer.write(file, ds);
		byte[] b = Files.readAllBytes(file);
		for (int i = 0; i < 128; i++) assertEquals(0, b[i]);
		assertEquals("DICM", new String(b, 128, 4, StandardCharsets.US_ASCII));
		ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
		assertEquals(0x0002, bb.getShort(132));
		assertEquals(0x0000, bb.getShort(134));
		assertEquals("UL", new String(b, 136, 2, StandardCharsets.US_ASCII));
		int groupLength = bb.getInt(140);
		// The data set starts right after group 0002: its first tag is (0008,0016).
		int start = 144 + groupLength;
		assertEquals(0x0008, bb.getShort(start));
		assertEquals(0x0016, bb.getShort(start + 2));
		assertEquals(0, b.length % 2);
		try (var s = Files.list(dir)) {
			assertEquals(List.of(file), s.toList(), "no temporary file left");
		}

		DicomTools.requirePydicom();
		DicomTools.Run r = DicomTools.run(DicomTools.PYTHON, "-c",
			"import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); "
				+ "print('|'.join([d.file_meta.TransferSyntaxUID, str(d.file_meta.FileMetaInformationGroupLength), "
				+ "d.file_meta.MediaStorageSOPInstanceUID, str(d.PatientName), d.PatientID, d.StudyInstanceUID, repr(d[0x00100020].value)]))",
			file.toString());
		assertEquals(0, r.exit(), r.out());
		assertEquals("1.2.840.10008.1.2.1|" + groupLength + "|1.2.3|Doe^Jo|odd|1.23|'odd'", r.out().strip());
		DicomTools.require(DicomTools.works("dcmdump", "--version"), "dcmdump (Debian dcmtk)");
		DicomTools.Run d = DicomTools.run("dcmdump", "-dc", "+E", file.toString());
		assertEquals(0, d.exit(), d.out());
		assertTrue(d.out().contains("(0010,0020) LO [odd ]") || d.out().contains("(0010,0020) LO [odd]"), d.out());
		assertEquals(List.of(), DicomTools.lines(d.out(), "W: "), d.out());
		assertEquals(List.of(), DicomTools.lines(d.out(), "E: "), d.out());
	}

	@Test
	void valuesLongerThanTheirVrAllowsAreRefused() {
		DicomDataSet ds = new DicomDataSet();
		ds.string(tag(0x0008, 0x0070), "LO", "x".repeat(64));
		ds.strings(tag(0x0008, 0x0008), "CS", List.of("DERIVED", "PRIMARY"));
		assertThrows(IllegalArgumentException.class, () -> ds.string(tag(0x0008, 0x0070), "LO", "x".repeat(65)));
		assertThrows(IllegalArgumentException.class, () -> ds.string(tag(0x0020, 0x0010), "SH", "12345678901234567"));
		assertThrows(IllegalArgumentException.class, () -> ds.string(tag(0x0008, 0x0060), "CS", "ABCDEFGHIJKLMNOPQ"));
		assertThrows(IllegalArgumentException.class, () -> ds.string(tag(0x0008, 0x0018), "UI", "1.2.x"));
		assertThrows(IllegalArgumentException.class, () -> ds.string(tag(0x0008, 0x0018), "UI", "1." + "2".repeat(63)));
		assertEquals("abc", DicomDataSet.cut("abcdef", 3));
		assertEquals("ab", DicomDataSet.cut("ab", 3));
	}

	@Test
	void anOverlongSourceValueIsLeftOutNotCopied() {
		SourceImages s = SegmentationSmallTest.source();
		SourceImages bad = new SourceImages(s.studyInstanceUid(), s.seriesInstanceUid(), s.frameOfReferenceUid(),
			java.util.Map.of("StudyID", "12345678901234567", "PatientID", "P-9"), s.images());
		DicomDataSet ds = new DicomDataSet();
		CommonModules.patientAndStudy(ds, bad);
		assertEquals("", ds.stringValue(tag(0x0020, 0x0010)), "type 2 StudyID present, empty");
		assertEquals("P-9", ds.stringValue(tag(0x0010, 0x0020)));
	}
}
