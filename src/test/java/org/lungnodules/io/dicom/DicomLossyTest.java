package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * opt-in; with it, read by our T.81 decoder, flagged lossy, and close to the original's HU (JPEG 2000 irreversible
 * and JPEG-LS near-lossless with the opt-in: DicomCorpusTest; the decoder against GDCM: JpegLossyCodecTest).
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

		// With the opt-in the 12-bit lossy JPEG is read (our T.81 decoder), flagged lossy, and near the original and GDCM's decoding.
		CtReader.ReadCt read = CtReader.read(lossy, null, true);
		assertTrue(read.lossy(), "flagged lossy");
		// The original alone in a folder: given as a file among its series' files, it would read the whole series.
		Path alone = Files.createDirectories(dir.resolve("original")).resolve("I10");
		Files.copy(original, alone);
		int[] ours = hu(read.volume()), orig = hu(CtReader.read(alone).volume());
		assertEquals(orig.length, ours.length);
		double mean = Jpeg2000CodecTest.meanAbsDiff(ours, orig);
		System.out.printf("12-bit lossy JPEG of a Philips CT slice: mean |HU - original| %.3f, max %d%n", mean, Jpeg2000CodecTest.maxAbsDiff(ours, orig));
		assertTrue(mean > 0 && mean < 10, "lossy, but close to the original: mean " + mean);
	}

	static int[] hu(org.lungnodules.ct.CtVolume v) {
		int[] out = new int[(int) (v.shapeIrc()[0] * (long) v.shapeIrc()[1] * v.shapeIrc()[2])];
		net.imglib2.Cursor<? extends net.imglib2.type.numeric.RealType<?>> c = net.imglib2.view.Views.flatIterable(v.image()).cursor();
		for (int i = 0; c.hasNext(); i++) out[i] = (int) Math.round(c.next().getRealDouble());
		return out;
	}
}
