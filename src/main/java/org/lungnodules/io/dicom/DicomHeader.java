package org.lungnodules.io.dicom;

import java.nio.file.Path;

/**
 * One file's header as {@link Part10} parsed it: what the series assembly needs to place its slice and what
 * {@link PixelData} needs to decode it. Fields are filled by the parser and read in this package only.
 */
final class DicomHeader {
	final Path file;
	String syntax = "", sopClass = "", modality, seriesUid, description, imageType = "", photometric = "";
	double[] position, orientation, pixelSpacing;
	int rows = -1, cols = -1, bitsAllocated = -1, bitsStored = -1, pixelRepresentation, samples = 1, frames = 1;
	double slope = 1, intercept = 0, sliceThickness = Double.NaN;
	boolean bigEndian, deflated, directoryRecords;
	long datasetStart, pixelOffset = -1, pixelLength, fileSize;
	/** Unit slice normal and the position projected on it, set once the orientation is checked. */
	double[] normal;
	double along;

	DicomHeader(Path file) { this.file = file; }

	String name() { return String.valueOf(file.getFileName()); }
}
