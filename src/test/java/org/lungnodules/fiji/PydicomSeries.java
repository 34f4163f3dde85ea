package org.lungnodules.fiji;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.lungnodules.ExternalTools;

/**
 * Test fixtures: a MetaImage (MET_SHORT, identity direction, uncompressed) written as a DICOM CT
 * series by pydicom, one file per slice, file names in reverse slice order; optionally with rows and
 * columns reversed (ImageOrientationPatient -1,0,0,0,-1,0, the first pixel the MetaImage's last of
 * its row and column). Tool: python3 with numpy and pydicom.
 */
final class PydicomSeries {

	private PydicomSeries() {}

	static final String SCRIPT = String.join("\n",
		"import sys, os, numpy as np, pydicom",
		"from pydicom.dataset import Dataset, FileDataset, FileMetaDataset",
		"from pydicom.uid import ExplicitVRLittleEndian, generate_uid",
		"mhd, out, reverse = sys.argv[1], sys.argv[2], sys.argv[3] == '1'",
		"h = dict(l.split(' = ', 1) for l in open(mhd).read().splitlines() if ' = ' in l)",
		"assert h['ElementType'] == 'MET_SHORT' and h.get('ElementByteOrderMSB', 'False') == 'False', h",
		"nx, ny, nz = (int(v) for v in h['DimSize'].split())",
		"sx, sy, sz = (float(v) for v in h['ElementSpacing'].split())",
		"ox, oy, oz = (float(v) for v in h['Offset'].split())",
		"assert [float(v) for v in h.get('TransformMatrix', '1 0 0 0 1 0 0 0 1').split()] == [1, 0, 0, 0, 1, 0, 0, 0, 1]",
		"a = np.fromfile(os.path.join(os.path.dirname(mhd), h['ElementDataFile']), dtype='<i2').reshape(nz, ny, nx)",
		"series, study, frame = generate_uid(), generate_uid(), generate_uid()",
		"os.makedirs(out, exist_ok=True)",
		"for z in range(nz):",
		"    meta = FileMetaDataset()",
		"    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'",
		"    meta.MediaStorageSOPInstanceUID = generate_uid()",
		"    meta.TransferSyntaxUID = ExplicitVRLittleEndian",
		"    ds = FileDataset(None, {}, file_meta=meta, preamble=b'\\0' * 128)",
		"    ds.is_little_endian, ds.is_implicit_VR = True, False",
		"    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID",
		"    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = 'CT', series, study, frame",
		"    ds.PatientName, ds.PatientID, ds.InstanceNumber = 'Phantom', 'phantom', z + 1",
		"    ds.Rows, ds.Columns, ds.PixelSpacing, ds.SliceThickness = ny, nx, ['%g' % sy, '%g' % sx], '%g' % sz",
		"    pixels = a[z]",
		"    if reverse:",
		"        pixels = pixels[::-1, ::-1]",
		"        ds.ImageOrientationPatient = [-1, 0, 0, 0, -1, 0]",
		"        ds.ImagePositionPatient = ['%.6f' % (ox + (nx - 1) * sx), '%.6f' % (oy + (ny - 1) * sy), '%.6f' % (oz + z * sz)]",
		"    else:",
		"        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]",
		"        ds.ImagePositionPatient = ['%.6f' % ox, '%.6f' % oy, '%.6f' % (oz + z * sz)]",
		"    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'",
		"    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1",
		"    ds.RescaleIntercept, ds.RescaleSlope = 0, 1",
		"    ds.PixelData = np.ascontiguousarray(pixels).astype('<i2').tobytes()",
		"    ds.save_as(os.path.join(out, 'IM%04d' % (nz - z)))",  // file names in reverse order of the slices
		"print(series)", "");

	/** Writes the series into {@code out}; returns its new SeriesInstanceUID. */
	static String write(String python, Path mhd, Path out, boolean reversed) throws IOException, InterruptedException {
		Path script = Files.createTempFile("to_dicom", ".py");
		try {
			Files.writeString(script, SCRIPT);
			return ExternalTools.run(5, python, script.toString(), mhd.toString(), out.toString(), reversed ? "1" : "0").trim();
		}
		finally {
			Files.deleteIfExists(script);
		}
	}
}
