#!/usr/bin/env python3
"""Test fixture: a TID 1500 report changed by pydicom, for MeasurementReportReaderTest.

Usage: edit_sr.py IN.dcm OUT.dcm MODE
  edit      group 1: diameter NumericValue "7.25" (FloatingPointValue removed), tracking identifier "Nodule 42",
            centre (1.5, -2.25, 3.125), malignancy 0.375 (NumericValue and FloatingPointValue);
            group 2 unchanged
  implicit  the same content in implicit VR little endian, every sequence and item of undefined length
  deflate   the same content in deflated explicit VR little endian
"""
import sys

import pydicom
from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
ds = pydicom.dcmread(src)


def name(item):
    c = item.ConceptNameCodeSequence[0]
    return (c.CodingSchemeDesignator, c.CodeValue)


if mode == "edit":
    measurements = [i for i in ds.ContentSequence if name(i) == ("DCM", "126010")][0]
    g1 = measurements.ContentSequence[0]
    found = False
    for i in g1.ContentSequence:
        if name(i) == ("DCM", "112039"):
            i.TextValue = "Nodule 42"
        elif name(i) == ("SCT", "81827009"):
            m = i.MeasuredValueSequence[0]
            m.NumericValue = "7.25"
            if "FloatingPointValue" in m:
                del m.FloatingPointValue
        elif name(i) == ("DCM", "111047"):
            m = i.MeasuredValueSequence[0]
            m.NumericValue = "0.375"
            m.FloatingPointValue = 0.375
            found = True
        elif i.ValueType == "SCOORD3D":
            i.GraphicData = [1.5, -2.25, 3.125]
    assert found, "group 1 has no malignancy to edit"
    ds.save_as(dst)
elif mode == "implicit":
    for elem in ds.iterall():
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.is_implicit_VR, ds.is_little_endian = True, True
    ds.save_as(dst)
elif mode == "deflate":
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.is_implicit_VR, ds.is_little_endian = False, True
    ds.save_as(dst)
else:
    sys.exit("unknown mode " + mode)
print("written\t" + dst)
