package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.lungnodules.io.dicom.DicomSeriesSyntheticTest.slice;
import static org.lungnodules.io.dicom.DicomSeriesSyntheticTest.writeSeries;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;

/**
 * Broken, mixed and hostile DICOM input: each must fail with a {@link DicomException} naming the
 * file (or folder) and the problem, or be left out with a note, never half-read, hang or run out
 * of memory.
 */
class DicomSeriesHostileTest {

	@TempDir
	Path dir;

	private static List<DicomTestWriter.Slice> series(int n) {
		List<DicomTestWriter.Slice> slices = new ArrayList<>();
		for (int k = 0; k < n; k++) slices.add(slice(k));
		return slices;
	}

	private static Path fileOf(Path folder, int index) {
		// writeSeries names slice i "IM" + (97 - 13 i).
		return folder.resolve(String.format("IM%04d", 97 - 13 * index));
	}

	private DicomException readFails(Path path) {
		return assertThrows(DicomException.class, () -> DicomSeries.read(path, null));
	}

	private static void assertMentions(Exception e, String... parts) {
		for (String p : parts) assertTrue(e.getMessage().contains(p), "message should mention \"" + p + "\": " + e.getMessage());
	}

	// ------------------------------------------------------------ the real series, altered

	private static List<Path> realFiles() throws IOException {
		try (Stream<Path> s = Files.list(DicomSeriesTest.dicomFolder())) {
			return s.sorted().collect(Collectors.toList());
		}
	}

	/** The real files linked under the given names (links, not copies: 70 MB per test otherwise). */
	private static void link(Path folder, List<Path> files, List<String> names) throws IOException {
		Files.createDirectories(folder);
		for (int i = 0; i < files.size(); i++)
			Files.createSymbolicLink(folder.resolve(names.get(i)), files.get(i).toAbsolutePath());
	}

	/** Removes the links before JUnit's clean-up, which would warn about each link to a file outside the temporary folder. */
	private static void unlink(Path folder) throws IOException {
		try (Stream<Path> s = Files.list(folder)) {
			for (Path p : s.collect(Collectors.toList())) Files.delete(p);
		}
	}

	@Test
	void realSeriesWithOneSliceRemovedNamesTheGap() throws Exception {
		List<Path> files = new ArrayList<>(realFiles());
		// Order the files by the z of their ImagePositionPatient, read here from the raw bytes (axial series: z is the normal).
		files.sort(java.util.Comparator.comparingDouble(DicomSeriesHostileTest::rawZ));
		Path below = files.get(60), removed = files.get(61), above = files.get(62);
		assertEquals(2.5, rawZ(removed) - rawZ(below), 1e-9);
		files.remove(removed);
		List<String> names = files.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
		Path folder = dir.resolve("gap");
		link(folder, files, names);
		DicomException e;
		try {
			e = readFails(folder);
		}
		finally {
			unlink(folder);
		}
		assertMentions(e, folder.toString(), "uneven slice spacing", "2.500 mm apart", "gap of 5.000 mm between " + below.getFileName() + " at " +
			String.format(java.util.Locale.ROOT, "%.3f", rawZ(below)) + " mm and " + above.getFileName(), "1 slice(s) missing");
	}

	/** The third value of the first explicit-VR-LE ImagePositionPatient (0020,0032) element in a file. */
	private static double rawZ(Path file) {
		try {
			byte[] b = Files.readAllBytes(file);
			int at = indexOf(b, new byte[] { 0x20, 0x00, 0x32, 0x00, 'D', 'S' });
			int length = (b[at + 6] & 0xFF) | ((b[at + 7] & 0xFF) << 8);
			String[] xyz = new String(b, at + 8, length, StandardCharsets.US_ASCII).trim().split("\\\\");
			return Double.parseDouble(xyz[2].trim());
		}
		catch (IOException e) {
			throw new java.io.UncheckedIOException(e);
		}
	}

	@Test
	void realSeriesUnderShuffledNamesGivesTheSameVolume() throws Exception {
		List<Path> files = realFiles();
		List<String> names = new ArrayList<>();
		for (int i = 0; i < files.size(); i++) names.add("slice-" + i + ".dcm");
		Collections.shuffle(names, new Random(14));
		Path folder = dir.resolve("shuffled");
		link(folder, files, names);
		CtVolume v;
		try {
			v = DicomSeries.read(folder, null).volume();
		}
		finally {
			unlink(folder);
		}
		String summary = DicomSeriesTest.summary();
		assertEquals(DicomSeriesTest.jsonString(summary, "hu_sha256"), DicomSeriesTest.sha256(v));
		assertArrayEquals(DicomSeriesTest.jsonNumbers(summary, "offset_xyz"), v.geometry().origin(), 0.0);
	}

	// ------------------------------------------------------------ several series

	@Test
	void twoSeriesInOneFolderAreListedAndSeriesPicksOne() throws IOException {
		List<DicomTestWriter.Slice> a = series(4), b = series(3);
		for (DicomTestWriter.Slice s : b) {
			s.seriesUid = "1.2.826.0.1.3680043.99.2222";
			s.description = "bone kernel";
		}
		List<DicomTestWriter.Slice> all = new ArrayList<>(a);
		all.addAll(b);
		writeSeries(dir, all);
		DicomException e = readFails(dir);
		assertMentions(e, dir.toString(), "2 DICOM series", "series=", "1.2.826.0.1.3680043.99.1: 4 slices, CT, \"synthetic chest\"",
			"1.2.826.0.1.3680043.99.2222: 3 slices, CT, \"bone kernel\"");
		// Listed in the order of their first file by name: IM0019 belongs to the second series.
		assertEquals(List.of(new DicomSeries.SeriesInfo("1.2.826.0.1.3680043.99.2222", 3, "bone kernel", "CT"),
			new DicomSeries.SeriesInfo("1.2.826.0.1.3680043.99.1", 4, "synthetic chest", "CT")), DicomSeries.listSeries(dir));
		CtReader.ReadCt first = CtReader.read(dir, "1.2.826.0.1.3680043.99.1");
		assertEquals(4, first.volume().depth());
		assertTrue(first.notes().stream().anyMatch(n -> n.contains("3 file(s) of 1 other series")), first.notes().toString());
		CtReader.ReadCt second = CtReader.read(dir, "2222"); // a unique end of the UID
		assertEquals(3, second.volume().depth());
		assertEquals("1.2.826.0.1.3680043.99.2222", second.volume().seriesUid());
		// One file of the second series stands for that series alone.
		assertEquals(3, DicomSeries.read(fileOf(dir, 5), null).volume().depth());
		DicomException none = assertThrows(DicomException.class, () -> DicomSeries.read(dir, "1.2.3.4"));
		assertMentions(none, "no series matches series=1.2.3.4", "99.2222: 3 slices");
	}

	// ------------------------------------------------------------ geometry

	@Test
	void aTiltedSliceIsRefusedByName() throws IOException {
		List<DicomTestWriter.Slice> slices = series(5);
		double t = Math.toRadians(10);
		slices.get(2).orientation = new double[] { 1, 0, 0, 0, Math.cos(t), Math.sin(t) };
		writeSeries(dir, slices);
		DicomException e = readFails(dir);
		assertMentions(e, fileOf(dir, 2).toString(), "not parallel", "10.00 degrees");
	}

	@Test
	void gantryTiltIsResampled() throws IOException {
		List<DicomTestWriter.Slice> slices = series(5);
		// Every slice has the same (axial) orientation, but the stack leans: y moves with z by one row (0.8 mm) per
		// slice, as a tilted gantry gives. Resampled, slice k's row j lands on grid row j + k, exactly.
		for (int k = 0; k < 5; k++) slices.get(k).position[1] += 0.8 * k;
		writeSeries(dir, slices);
		CtReader.ReadCt ct = DicomSeries.read(dir, null);
		assertTrue(ct.notes().stream().anyMatch(n -> n.contains("gantry tilt") && n.contains("resampled")), ct.notes().toString());
		CtVolume v = ct.volume();
		assertEquals(5, v.width());
		assertEquals(6 + 4, v.height());
		assertEquals(5, v.depth());
		assertArrayEquals(new double[] { -100, -120, -300 }, v.geometry().origin(), 1e-9);
		assertArrayEquals(new double[] { 0.6, 0.8, 2.5 }, v.geometry().spacing(), 1e-9);
		for (int z = 0; z < 5; z++)
			for (int y = 0; y < 10; y++)
				for (int x = 0; x < 5; x++) {
					int j = y - z;
					double expected = j >= 0 && j < 6 ? z * 1000 + j * 5 + x - 1024 : -1024; // outside: the series' lowest HU
					assertEquals(expected, DicomSeriesSyntheticTest.hu(v, x, y, z), "voxel " + x + "," + y + "," + z);
				}
	}

	@Test
	void irregularSidewaysShiftsAreRefused() throws IOException {
		List<DicomTestWriter.Slice> slices = series(5);
		double[] shift = { 0, 0.5, 0.5, 1.5, 2 };
		for (int k = 0; k < 5; k++) slices.get(k).position[1] += shift[k];
		writeSeries(dir, slices);
		DicomException e = readFails(dir);
		assertMentions(e, dir.toString(), "not stacked along their normal", "not regular");
	}

	@Test
	void duplicatePositionsAreRefused() throws IOException {
		List<DicomTestWriter.Slice> slices = series(4);
		slices.get(3).position = slices.get(1).position.clone();
		writeSeries(dir, slices);
		DicomException e = readFails(dir);
		assertMentions(e, "duplicate slice positions", fileOf(dir, 1).getFileName().toString(), fileOf(dir, 3).getFileName().toString());
	}

	@Test
	void unevenSpacingNamesTheStepAndFiles() throws IOException {
		List<DicomTestWriter.Slice> slices = series(5);
		for (int k = 3; k < 5; k++) slices.get(k).position[2] += 0.5;
		writeSeries(dir, slices);
		DicomException e = readFails(dir);
		assertMentions(e, "uneven slice spacing", "2.500 mm apart", "gap of 3.000 mm between " + fileOf(dir, 2).getFileName() + " at -295.000 mm and " +
			fileOf(dir, 3).getFileName() + " at -292.000 mm");
	}

	@Test
	void mixedSizesAndSpacingsAreRefused() throws IOException {
		List<DicomTestWriter.Slice> slices = series(4);
		slices.get(2).cols = 6;
		slices.get(2).stored = new int[36];
		writeSeries(dir.resolve("size"), slices);
		DicomException e = readFails(dir.resolve("size"));
		assertMentions(e, fileOf(dir.resolve("size"), 2).toString(), "mixed image sizes", "6x6", "5x6");

		slices = series(4);
		slices.get(1).pixelSpacing = new double[] { 0.8, 0.7 };
		writeSeries(dir.resolve("spacing"), slices);
		e = readFails(dir.resolve("spacing"));
		assertMentions(e, fileOf(dir.resolve("spacing"), 1).toString(), "mixed pixel spacings");
	}

	@Test
	void scoutsAreLeftOutWithANote() throws IOException {
		List<DicomTestWriter.Slice> slices = series(4);
		DicomTestWriter.Slice localizer = slice(9);
		localizer.imageType = "ORIGINAL\\PRIMARY\\LOCALIZER";
		localizer.rows = 8;
		localizer.cols = 8;
		localizer.stored = new int[64];
		localizer.orientation = new double[] { 1, 0, 0, 0, 0, -1 };
		slices.add(localizer);
		DicomTestWriter.Slice coronal = slice(7); // a coronal image without the LOCALIZER word
		coronal.orientation = new double[] { 1, 0, 0, 0, 0, -1 };
		slices.add(coronal);
		writeSeries(dir, slices);
		CtReader.ReadCt ct = DicomSeries.read(dir, null);
		assertEquals(4, ct.volume().depth());
		assertEquals(-300, ct.volume().geometry().origin()[2], 0.0);
		assertEquals(2, ct.notes().size(), ct.notes().toString());
		assertTrue(ct.notes().get(0).contains(fileOf(dir, 4).toString()) && ct.notes().get(0).contains("localizer"), ct.notes().toString());
		assertTrue(ct.notes().get(1).contains(fileOf(dir, 5).toString()) && ct.notes().get(1).contains("90 degrees"), ct.notes().toString());
	}

	// ------------------------------------------------------------ content refused

	@Test
	void nonCtModalityIsRefused() throws IOException {
		List<DicomTestWriter.Slice> slices = series(3);
		for (DicomTestWriter.Slice s : slices) s.modality = "MR";
		writeSeries(dir, slices);
		assertMentions(readFails(dir), "modality MR, not CT");
	}

	@Test
	void monochrome1IsRefused() throws IOException {
		List<DicomTestWriter.Slice> slices = series(3);
		slices.get(1).photometric = "MONOCHROME1";
		writeSeries(dir, slices);
		assertMentions(readFails(dir), fileOf(dir, 1).toString(), "MONOCHROME1");
	}

	@Test
	void jpeg2000Part2IsRefusedByName() throws IOException {
		List<DicomTestWriter.Slice> slices = series(3);
		for (DicomTestWriter.Slice s : slices) s.syntax = "1.2.840.10008.1.2.4.92";
		writeSeries(dir, slices);
		// Listing needs no pixels, so a compressed series can still be listed.
		assertEquals(3, DicomSeries.listSeries(dir).get(0).slices());
		assertMentions(readFails(dir), "1.2.840.10008.1.2.4.92", "JPEG 2000", "does not decode");
	}

	// ------------------------------------------------------------ stray and broken files

	@Test
	void strayFilesAreSkippedWithNotes() throws IOException {
		writeSeries(dir, series(3));
		Files.writeString(dir.resolve("readings.xml"), "<?xml version=\"1.0\"?><LidcReadMessage/>");
		Files.writeString(dir.resolve("notes.txt"), "scanned 2000-01-01\n");
		Files.write(dir.resolve("DICOMDIR"), dicomdir());
		CtReader.ReadCt ct = DicomSeries.read(dir, null);
		assertEquals(3, ct.volume().depth());
		String notes = String.join("\n", ct.notes());
		assertEquals(3, ct.notes().size(), notes);
		assertTrue(notes.contains("skipped DICOMDIR: a DICOM file without an image (a DICOMDIR"), notes);
		assertTrue(notes.contains("skipped readings.xml: not a DICOM file"), notes);
		assertTrue(notes.contains("skipped notes.txt: not a DICOM file"), notes);
		assertTrue(DicomSeries.isDicomFile(dir.resolve("DICOMDIR")));
		assertFalse(DicomSeries.isDicomFile(dir.resolve("notes.txt")));
	}

	/** A minimal DICOMDIR: Part 10 meta with the directory SOP class, and an undefined-length DirectoryRecordSequence. */
	private static byte[] dicomdir() {
		DicomTestWriter.Slice s = slice(0);
		s.sopClass = "1.2.840.10008.1.3.10";
		byte[] image = DicomTestWriter.encode(s);
		int metaEnd = 132 + 12 + (image[140] & 0xFF) + ((image[141] & 0xFF) << 8);
		DicomTestWriter.Enc e = new DicomTestWriter.Enc(false, false);
		e.header(0x0004, 0x1220, "SQ", 0xFFFFFFFFL);
		e.header(0xFFFE, 0xE000, null, 0xFFFFFFFFL);
		e.str(0x0004, 0x1430, "CS", "PATIENT");
		e.header(0xFFFE, 0xE00D, null, 0);
		e.header(0xFFFE, 0xE0DD, null, 0);
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		out.write(image, 0, metaEnd);
		out.writeBytes(e.out.toByteArray());
		return out.toByteArray();
	}

	@Test
	void aDcmFileThatIsNotDicomIsAnError() throws IOException {
		writeSeries(dir, series(3));
		Files.writeString(dir.resolve("IM0050.dcm"), "this is not an image");
		assertMentions(readFails(dir), dir.resolve("IM0050.dcm").toString(), "not one");
		assertMentions(readFails(dir.resolve("IM0050.dcm")), "not a DICOM file");
	}

	@Test
	void truncatedFileIsNamed() throws IOException {
		writeSeries(dir, series(3));
		Path f = fileOf(dir, 1);
		byte[] b = Files.readAllBytes(f);
		Files.write(f, Arrays.copyOf(b, b.length - 20)); // cut inside the pixel data
		assertMentions(readFails(dir), f.toString(), "PixelData", "truncated");
		Files.write(f, Arrays.copyOf(b, 300)); // cut inside the header
		assertMentions(readFails(dir), f.toString(), "truncated");
	}

	@Test
	void lengthPastTheEndIsNamed() throws IOException {
		writeSeries(dir, series(3));
		Path f = fileOf(dir, 2);
		byte[] b = Files.readAllBytes(f);
		int at = indexOf(b, new byte[] { 0x08, 0x00, 0x3E, 0x10, 'L', 'O' }); // SeriesDescription
		b[at + 6] = (byte) 0xFE;
		b[at + 7] = (byte) 0x7F;
		Files.write(f, b);
		assertMentions(readFails(dir), f.toString(), "(0008,103E)", "declares 32766 bytes", "remain");
	}

	@Test
	void hugeDeclaredLengthsFailWithoutAllocating() throws IOException {
		// Pixel data, an item in a sequence, and an implicit-VR element, each claiming almost 4 GB.
		writeSeries(dir, series(3));
		Path f = fileOf(dir, 0);
		byte[] b = Files.readAllBytes(f);
		byte[] pixels = b.clone();
		int at = indexOf(pixels, new byte[] { (byte) 0xE0, 0x7F, 0x10, 0x00, 'O', 'W' });
		putU32(pixels, at + 8, 0xFFFFFFF0L);
		Files.write(f, pixels);
		assertMentions(readFails(dir), f.toString(), "(7FE0,0010)", "declares 4294967280 bytes");

		byte[] item = b.clone();
		int last = lastIndexOf(item, new byte[] { (byte) 0xFE, (byte) 0xFF, 0x00, (byte) 0xE0 }); // the defined-length item
		putU32(item, last + 4, 0xFFFFFFF0L);
		Files.write(f, item);
		assertMentions(readFails(dir), f.toString(), "(FFFE,E000)", "declares 4294967280 bytes");

		DicomTestWriter.Slice s = slice(0);
		s.syntax = TransferSyntax.IMPLICIT_LE;
		byte[] implicit = DicomTestWriter.encode(s);
		int mod = indexOf(implicit, new byte[] { 0x08, 0x00, 0x60, 0x00, 0x02, 0x00, 0x00, 0x00, 'C', 'T' });
		putU32(implicit, mod + 4, 0xFFFFFFF0L);
		Files.write(f, implicit);
		assertMentions(readFails(dir), f.toString(), "(0008,0060)", "declares 4294967280 bytes");
	}

	@Test
	void hugeImageSizeIsCheckedAgainstThePixelDataBeforeAllocating() throws IOException {
		List<DicomTestWriter.Slice> slices = series(3);
		for (DicomTestWriter.Slice s : slices) {
			s.rows = 65535;
			s.cols = 65535;
		}
		writeSeries(dir, slices);
		assertMentions(readFails(dir), "PixelData (7FE0,0010) holds 60 bytes, but 65535 rows x 65535 columns x 2 bytes need 8589672450");
	}

	@Test
	void oddLengthIsRefused() throws IOException {
		writeSeries(dir, series(3));
		Path f = fileOf(dir, 1);
		byte[] b = Files.readAllBytes(f);
		int at = indexOf(b, new byte[] { 0x08, 0x00, 0x3E, 0x10, 'L', 'O' });
		b[at + 6]--;
		Files.write(f, b);
		assertMentions(readFails(dir), f.toString(), "odd length");
	}

	@Test
	void unterminatedSequenceAndDeepNestingFailCleanly() throws IOException {
		DicomTestWriter.Enc e = new DicomTestWriter.Enc(false, false);
		e.header(0x0008, 0x1140, "SQ", 0xFFFFFFFFL);
		e.header(0xFFFE, 0xE000, null, 0xFFFFFFFFL);
		e.str(0x0008, 0x0060, "CS", "CT");
		DicomTestWriter.Slice s = slice(0);
		s.extra = e.out.toByteArray(); // never closed: the rest of the file, pixels included, becomes that item's content
		DicomTestWriter.write(dir.resolve("open.dcm"), s);
		DicomException open = readFails(dir.resolve("open.dcm"));
		assertMentions(open, "open.dcm");

		e = new DicomTestWriter.Enc(false, false);
		for (int i = 0; i < 5000; i++) {
			e.header(0x0008, 0x1140, "SQ", 0xFFFFFFFFL);
			e.header(0xFFFE, 0xE000, null, 0xFFFFFFFFL);
		}
		s.extra = e.out.toByteArray();
		DicomTestWriter.write(dir.resolve("deep.dcm"), s);
		assertMentions(readFails(dir.resolve("deep.dcm")), "deep.dcm", "nested deeper than");
	}

	@Test
	void cutDeflatedStreamFailsCleanly() throws IOException {
		DicomTestWriter.Slice s = slice(0);
		s.syntax = TransferSyntax.DEFLATED_LE;
		byte[] good = DicomTestWriter.encode(s);
		Files.write(dir.resolve("cut.dcm"), Arrays.copyOf(good, good.length - 30));
		assertMentions(readFails(dir.resolve("cut.dcm")), dir.resolve("cut.dcm").toString(), "truncated");
	}

	/**
	 * Random damage to every byte region of a valid file: the reader either reads it or throws an
	 * IOException whose message starts with a path; never another exception, a hang or an OOM.
	 */
	@Test
	void randomDamageGivesIOExceptionsOnly() throws IOException {
		Random random = new Random(1414);
		for (String syntax : new String[] { TransferSyntax.EXPLICIT_LE, TransferSyntax.IMPLICIT_LE, TransferSyntax.EXPLICIT_BE, TransferSyntax.DEFLATED_LE }) {
			List<DicomTestWriter.Slice> slices = series(3);
			for (DicomTestWriter.Slice s : slices) s.syntax = syntax;
			byte[] original = DicomTestWriter.encode(slices.get(1));
			Path folder = dir.resolve("fuzz-" + syntax);
			writeSeries(folder, slices);
			Path f = fileOf(folder, 1);
			for (int trial = 0; trial < 150; trial++) {
				byte[] b = original.clone();
				int hits = 1 + random.nextInt(4);
				for (int h = 0; h < hits; h++) b[random.nextInt(b.length)] = (byte) random.nextInt(256);
				if (random.nextInt(5) == 0) b = Arrays.copyOf(b, random.nextInt(b.length));
				Files.write(f, b);
				try {
					DicomSeries.read(folder, null);
				}
				catch (IOException e) {
					assertTrue(e.getMessage().startsWith(folder.toString()), "message starts with the file or folder: " + e.getMessage());
				}
				catch (RuntimeException e) {
					fail("syntax " + syntax + ", trial " + trial + ": " + e, e);
				}
			}
		}
	}

	// ------------------------------------------------------------ helpers

	private static int indexOf(byte[] hay, byte[] needle) {
		outer: for (int i = 0; i <= hay.length - needle.length; i++) {
			for (int j = 0; j < needle.length; j++)
				if (hay[i + j] != needle[j]) continue outer;
			return i;
		}
		throw new AssertionError("pattern not found in test file");
	}

	private static int lastIndexOf(byte[] hay, byte[] needle) {
		outer: for (int i = hay.length - needle.length; i >= 0; i--) {
			for (int j = 0; j < needle.length; j++)
				if (hay[i + j] != needle[j]) continue outer;
			return i;
		}
		throw new AssertionError("pattern not found in test file");
	}

	private static void putU32(byte[] b, int at, long v) {
		b[at] = (byte) v;
		b[at + 1] = (byte) (v >> 8);
		b[at + 2] = (byte) (v >> 16);
		b[at + 3] = (byte) (v >> 24);
	}
}
