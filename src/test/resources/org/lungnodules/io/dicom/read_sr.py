#!/usr/bin/env python3
"""Test fixture: an independent reading of a TID 1500 Measurement Report with pydicom.

Usage: read_sr.py SR.dcm
Prints tab-separated lines:
  root CODE TEMPLATE
  group TRACKING_ID TRACKING_UID SEG_SOP_CLASS SEG_SOP_INSTANCE SEGMENT_NUMBER SOURCE_SERIES
        DIAMETER(mm) VOLUME(mm3) P_NODULE P_MALIGNANT(or nan) X Y Z FOR_UID
  evidence SERIES_UID SOP_INSTANCE   (one per referenced instance)
"""
import sys

import pydicom

ds = pydicom.dcmread(sys.argv[1])
assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34", ds.SOPClassUID
assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def name(item):
    c = item.ConceptNameCodeSequence[0]
    return (c.CodingSchemeDesignator, c.CodeValue)


print("root\t%s\t%s" % (ds.ConceptNameCodeSequence[0].CodeValue, ds.ContentTemplateSequence[0].TemplateIdentifier))
measurements = [i for i in ds.ContentSequence if i.ValueType == "CONTAINER" and name(i) == ("DCM", "126010")]
assert len(measurements) <= 1
for g in (measurements[0].ContentSequence if measurements else []):
    assert name(g) == ("DCM", "125007"), name(g)
    v = {"p_mal": "nan"}
    for i in g.ContentSequence:
        n = name(i)
        if n == ("DCM", "112039"):
            v["tid"] = i.TextValue
        elif n == ("DCM", "112040"):
            v["tuid"] = i.UID
        elif n == ("DCM", "121191"):
            r = i.ReferencedSOPSequence[0]
            v["seg"] = "%s\t%s\t%d" % (r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID, r.ReferencedSegmentNumber)
        elif n == ("DCM", "121232"):
            v["src"] = i.UID
        elif i.ValueType == "NUM":
            m = i.MeasuredValueSequence[0]
            key = {("SCT", "81827009"): "diam", ("SCT", "118565006"): "vol", ("99LUNGNOD", "p_nodule"): "p_nod",
                   ("DCM", "111047"): "p_mal"}[n]
            unit = m.MeasurementUnitsCodeSequence[0].CodeValue
            assert unit == {"diam": "mm", "vol": "mm3", "p_nod": "1", "p_mal": "1"}[key], (key, unit)
            # FloatingPointValue, when present, holds the exact value that DS's 16 characters could not.
            v[key] = repr(float(m.FloatingPointValue) if "FloatingPointValue" in m else float(m.NumericValue))
        elif i.ValueType == "SCOORD3D":
            assert n == ("DCM", "111010") and i.GraphicType == "POINT"
            v["xyz"] = "\t".join(repr(float(x)) for x in i.GraphicData)
            v["for"] = i.ReferencedFrameOfReferenceUID
    print("group\t" + "\t".join(v[k] for k in ["tid", "tuid", "seg", "src", "diam", "vol", "p_nod", "p_mal", "xyz", "for"]))
for study in ds.CurrentRequestedProcedureEvidenceSequence:
    for s in study.ReferencedSeriesSequence:
        for r in s.ReferencedSOPSequence:
            print("evidence\t%s\t%s" % (s.SeriesInstanceUID, r.ReferencedSOPInstanceUID))
