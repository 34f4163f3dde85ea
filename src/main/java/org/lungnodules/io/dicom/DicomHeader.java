package org.lungnodules.io.dicom;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One file's header as {@link Part10} parsed it: what the series assembly needs to place its slice(s) and what
 * {@link PixelData} needs to decode them. Fields are filled by the parser and read in this package only. A
 * multi-frame file (Enhanced CT, Legacy Converted Enhanced CT) also carries its Shared and Per-frame Functional
 * Groups' geometry in {@link #shared} and {@link #perFrame}.
 */
final class DicomHeader {
	final Path file;
	String syntax = "", sopClass = "", modality, seriesUid, description, imageType = "", photometric = "";
	String sopInstanceUid = "", studyUid = "", frameOfReferenceUid = "", lossyCompression = "", lossyMethod = "";
	/** The patient and study attributes derived objects copy, by DICOM keyword (top level only). */
	final Map<String, String> patientAndStudy = new LinkedHashMap<>();
	double[] position, orientation, pixelSpacing;
	int rows = -1, cols = -1, bitsAllocated = -1, bitsStored = -1, pixelRepresentation, samples = 1, frames = 1;
	double slope = 1, intercept = 0, sliceThickness = Double.NaN, gantryTilt = Double.NaN;
	boolean bigEndian, deflated, directoryRecords;
	/** Bytes skipped before a dataset that has no preamble (stray bytes some writers leave). */
	int strayLeadingBytes;
	long datasetStart, pixelOffset = -1, pixelLength, fileSize;
	/** Functional groups (multi-frame): the shared item, and one item per frame (empty for single-frame files). */
	Plane shared;
	final List<Plane> perFrame = new ArrayList<>();

	DicomHeader(Path file) { this.file = file; }

	String name() { return String.valueOf(file.getFileName()); }

	/** True when the file holds functional groups, i.e. its frames' geometry lives there (Enhanced / Legacy Converted). */
	boolean hasFunctionalGroups() {
		return shared != null || !perFrame.isEmpty();
	}

	/** What a functional groups item says about a frame (null or NaN where it says nothing). */
	static final class Plane {
		double[] position, orientation, pixelSpacing;
		double sliceThickness = Double.NaN, slope = Double.NaN, intercept = Double.NaN;
		String stackId, frameType;
		int inStackPosition = -1;
	}
}
