package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lungnodules.SharedData;

/**
 * Real scanner slices (LIDC-IDRI-0001, ../shared/real) compressed at test time the ways issue #21
 * names, gdcmconv --j2k (JPEG 2000 lossless) and dcmcjpls (JPEG-LS lossless), plus gdcmconv's
 * JPEG-LS, and decoded by our codecs to exactly the stored values of the uncompressed file.
 */
class RealCtRoundTripTest {

	@TempDir
	Path tmp;

	static final String[] SLICES = { "0001.dcm", "0045.dcm", "0089.dcm", "0133.dcm" };

	@ParameterizedTest
	@ValueSource(strings = { "gdcmconv --j2k", "dcmcjpls", "gdcmconv --jpegls" })
	void lidcSlicesDecodeToTheirStoredValues(String encoder) throws Exception {
		String[] words = encoder.split(" ");
		ExternalTool.require(words[0]);
		for (String name : SLICES) {
			Path original = SharedData.require("real/LIDC-IDRI-0001/dicom/" + name);
			TestDicomFile raw = new TestDicomFile(original);
			assertEquals("1.2.840.10008.1.2.1", raw.transferSyntax());
			Path out = tmp.resolve(words[0] + "-" + name);
			List<String> command = new ArrayList<>(List.of(words));
			command.add(original.toString());
			command.add(out.toString());
			ExternalTool.run(command);
			TestDicomFile f = new TestDicomFile(out);
			byte[] frame = f.singleFrame();
			int[] decoded = f.transferSyntax().equals("1.2.840.10008.1.2.4.90")
				? Jpeg2000Codec.decode(frame, f.rows(), f.columns(), f.bitsStored(), f.signed(), out.toString())
				: JpegLsCodec.decode(frame, f.rows(), f.columns(), f.bitsStored(), f.signed(), out.toString());
			assertTrue(f.transferSyntax().equals("1.2.840.10008.1.2.4.90") || f.transferSyntax().equals("1.2.840.10008.1.2.4.80"),
				f.transferSyntax());
			assertArrayEquals(raw.nativePixels16(), decoded, encoder + " " + name);
		}
	}
}
