package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.io.CtReader;


/**
 * Lossy JPEG (DCMTK's dcmcjpeg, extended process 2+4, 12 bits) of a real Philips slice: refused by default naming the
 * opt-in; with it, refused because no decoder here reads 12-bit lossy JPEG (JPEG 2000 irreversible and JPEG-LS
 * near-lossless with the opt-in: DicomCorpusTest).
 */
class DicomLossyTest {

	@Test
	void lossyJpegNeedsTheOptIn(@TempDir Path dir) throws Exception {
		Path original = SharedData.require("dicom-corpus/dcm_qa_ct/Philips_Ingenuity_untilted_5mm_ser201/I10");
		String dcmcjpeg = ExternalTools.require("dcmcjpeg", "--version");
		Path lossy = dir.resolve("jpeg").resolve("I10");
		Files.createDirectories(lossy.getParent());
		ExternalTools.run(2, dcmcjpeg, "+ee", original.toString(), lossy.toString());

		IOException e = assertThrows(IOException.class, () -> CtReader.read(lossy));
		assertTrue(e.getMessage().contains(lossy.toString()) && e.getMessage().contains("lossy=accept") &&
			e.getMessage().contains("1.2.840.10008.1.2.4.51"), e.getMessage());

		// With the opt-in: 12-bit lossy JPEG has no decoder here (ImageIO reads 8-bit precision only), said as such.
		e = assertThrows(IOException.class, () -> CtReader.read(lossy, null, true));
		assertTrue(e.getMessage().contains(lossy.toString()) && e.getMessage().contains("1.2.840.10008.1.2.4.51") &&
			e.getMessage().contains("12-bit lossy JPEG is not read"), e.getMessage());
	}
}
