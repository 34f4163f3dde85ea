#!/usr/bin/env python3
"""Test fixture: an independent reading of a DICOM Segmentation with pydicom.

Usage: read_seg.py SEG.dcm
Prints tab-separated lines:
  segments N
  segment NUMBER LABEL CATEGORY_CODE TYPE_CODE REGION_CODE ALGORITHM_TYPE TRACKING_UID ALGO_NAME ALGO_VERSION ALGO_PARAMETERS CIELAB
  frame INDEX SEGMENT REF_SOP_INSTANCE X Y Z SET_PIXELS SHA256(uint8 frame, row-major) REF_FRAME(0: none)
  orientation R1 R2 R3 C1 C2 C3 / spacing ROW COL THICKNESS
  refseries SERIES_UID N_INSTANCES
"""
import hashlib
import sys

import numpy as np
import pydicom

ds = pydicom.dcmread(sys.argv[1])
assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4", ds.SOPClassUID
assert ds.SegmentationType == "BINARY"
assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
print("for\t" + ds.FrameOfReferenceUID)
print("segments\t%d" % len(ds.SegmentSequence))
for s in ds.SegmentSequence:
    a = s.SegmentationAlgorithmIdentificationSequence[0]
    print("segment\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
        s.SegmentNumber, s.SegmentLabel, s.SegmentedPropertyCategoryCodeSequence[0].CodeValue,
        s.SegmentedPropertyTypeCodeSequence[0].CodeValue, s.AnatomicRegionSequence[0].CodeValue,
        s.SegmentAlgorithmType, s.TrackingUID, a.AlgorithmName, a.AlgorithmVersion, a.get("AlgorithmParameters", ""),
        " ".join(str(int(v)) for v in s.RecommendedDisplayCIELabValue)))
pixels = ds.pixel_array
if pixels.ndim == 2:
    pixels = pixels[np.newaxis]
assert pixels.shape[0] == int(ds.NumberOfFrames)
for i, f in enumerate(ds.PerFrameFunctionalGroupsSequence):
    seg = f.SegmentIdentificationSequence[0].ReferencedSegmentNumber
    src = f.DerivationImageSequence[0].SourceImageSequence[0]
    ref = src.ReferencedSOPInstanceUID
    refframe = int(src.get("ReferencedFrameNumber", 0))
    p = [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]
    frame = np.ascontiguousarray(pixels[i].astype(np.uint8))
    print("frame\t%d\t%d\t%s\t%r\t%r\t%r\t%d\t%s\t%d" % (i, seg, ref, p[0], p[1], p[2], int(frame.sum()),
                                                          hashlib.sha256(frame.tobytes()).hexdigest(), refframe))
shared = ds.SharedFunctionalGroupsSequence[0]
print("orientation\t" + "\t".join(repr(float(v)) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient))
pm = shared.PixelMeasuresSequence[0]
print("spacing\t%r\t%r\t%r" % (float(pm.PixelSpacing[0]), float(pm.PixelSpacing[1]), float(pm.SliceThickness)))
for r in ds.ReferencedSeriesSequence:
    print("refseries\t%s\t%d" % (r.SeriesInstanceUID, len(r.ReferencedInstanceSequence)))
