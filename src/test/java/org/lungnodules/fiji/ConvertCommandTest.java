package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.fiji.LunaCliTest.Outcome;
import org.lungnodules.io.MetaImage;

/** {@code ./luna convert} between MetaImage and NIfTI, through a real SciJava context, on the reference phantom. */
class ConvertCommandTest {

	@TempDir
	Path temp;

	@Test
	void metaImageToNiftiAndBackIsIdentical() throws Exception {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		Path nii = temp.resolve("phantom-a.nii.gz");
		Outcome toNifti = LunaCliTest.luna("convert", "input=" + mhd, "output=" + nii);
		assertEquals(0, toNifti.code(), toNifti.err());
		Path back = temp.resolve("back.mha");
		Outcome toMeta = LunaCliTest.luna("convert", "input=" + nii, "output=" + back);
		assertEquals(0, toMeta.code(), toMeta.err());

		MetaImage original = MetaImage.read(mhd), again = MetaImage.read(back);
		assertEquals(original.elementType(), again.elementType());
		assertArrayEquals(original.dimensions(), again.dimensions());
		assertArrayEquals(original.origin(), again.origin(), 0.0);
		assertArrayEquals(original.spacing(), again.spacing(), 0.0);
		assertArrayEquals(original.direction(), again.direction(), 0.0);
		// The voxels: the reference .raw against the bytes behind the header of the written .mha.
		byte[] raw = Files.readAllBytes(mhd.resolveSibling("phantom-a.raw"));
		byte[] mha = Files.readAllBytes(back);
		assertArrayEquals(raw, java.util.Arrays.copyOfRange(mha, mha.length - raw.length, mha.length));
	}

	@Test
	void unknownEndingsAndCompressedNiftiAreRefusedClearly() throws Exception {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		Outcome tiff = LunaCliTest.luna("convert", "input=" + mhd, "output=" + temp.resolve("a.tif"));
		assertEquals(LunaCli.BAD_ARGUMENTS, tiff.code());
		assertTrue(tiff.err().contains(".nii.gz") && tiff.err().contains("a.tif"), tiff.err());
		Outcome gz = LunaCliTest.luna("convert", "input=" + mhd, "output=" + temp.resolve("a.nii"), "compress=true");
		assertEquals(LunaCli.BAD_ARGUMENTS, gz.code());
		assertTrue(gz.err().contains(".nii.gz"), gz.err());
		assertFalse(Files.exists(temp.resolve("a.nii")));
		Outcome series = LunaCliTest.luna("convert", "input=" + mhd, "output=" + temp.resolve("b.nii"), "series=1.2.3");
		assertEquals(LunaCli.FAILED, series.code());
		assertTrue(series.err().contains("series=1.2.3"), series.err());
	}
}
