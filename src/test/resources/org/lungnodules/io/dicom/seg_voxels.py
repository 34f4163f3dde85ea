#!/usr/bin/env python3
"""Test fixture: every set voxel of a DICOM Segmentation, read with pydicom, with its world position
computed from the frame's own plane position, the shared orientation and pixel spacing.

Usage: seg_voxels.py SEG.dcm
Prints tab-separated lines:
  voxel SEGMENT REF_SOP_INSTANCE REF_FRAME(0: none) ROW COL X Y Z
"""
import sys

import numpy as np
import pydicom

ds = pydicom.dcmread(sys.argv[1])
pixels = ds.pixel_array
if pixels.ndim == 2:
    pixels = pixels[np.newaxis]
shared = ds.SharedFunctionalGroupsSequence[0]
iop = np.array([float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient])
along_row, along_col = iop[:3], iop[3:]
row_spacing, col_spacing = (float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing)
for i, f in enumerate(ds.PerFrameFunctionalGroupsSequence):
    seg = f.SegmentIdentificationSequence[0].ReferencedSegmentNumber
    src = f.DerivationImageSequence[0].SourceImageSequence[0]
    ipp = np.array([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient])
    for r, c in zip(*np.nonzero(pixels[i])):
        w = ipp + c * col_spacing * along_row + r * row_spacing * along_col
        print("voxel\t%d\t%s\t%d\t%d\t%d\t%r\t%r\t%r" % (seg, src.ReferencedSOPInstanceUID, int(src.get("ReferencedFrameNumber", 0)),
                                                      r, c, w[0], w[1], w[2]))
