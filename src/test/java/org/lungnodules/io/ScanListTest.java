package org.lungnodules.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dataset folder's scans.csv (Fiji's Add Scan to Dataset) adds scans kept elsewhere to the cohort walk. */
class ScanListTest {

	@TempDir
	Path temp;

	@Test
	void listedScansJoinTheFolderScansOnceEach() throws IOException {
		Path dataset = Files.createDirectories(temp.resolve("dataset"));
		Path here = Files.createFile(dataset.resolve("a.mhd"));
		Path nifti = Files.createFile(Files.createDirectories(temp.resolve("scans")).resolve("b.nii.gz"));
		Path series = Files.createDirectories(temp.resolve("scans").resolve("series1"));
		Files.writeString(dataset.resolve("scans.csv"), "seriesuid,path\nb," + nifti + "\n1.2.3,../scans/series1\na,a.mhd\n");
		assertEquals(List.of(here, nifti, series), CtReader.scansIn(dataset));
	}

	@Test
	void aListedScanThatIsGoneIsNamedWithItsLine() throws IOException {
		Path dataset = Files.createDirectories(temp.resolve("dataset"));
		Files.writeString(dataset.resolve("scans.csv"), "seriesuid,path\nx," + temp.resolve("gone.nii") + "\n");
		IOException e = assertThrows(IOException.class, () -> CtReader.scansIn(dataset));
		assertTrue(e.getMessage().contains("scans.csv") && e.getMessage().contains("gone.nii") && e.getMessage().contains("2"), e.getMessage());
	}
}
