#!/usr/bin/env python3
"""Test fixture: what a derived DICOM object needs of a CT series, read with pydicom.

Usage: source_images.py FOLDER
Prints tab-separated lines:
  study UID / series UID / for UID
  attr KEYWORD VALUE          (patient and study attributes present with a value)
  image SOPCLASS SOPINSTANCE FRAME X Y Z   (one per slice, sorted along the slice normal)
"""
import os
import sys

import numpy as np
import pydicom

folder = sys.argv[1]
slices = []
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        continue
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        continue
    if "ImagePositionPatient" not in ds:
        continue
    slices.append(ds)
iop = np.array([float(v) for v in slices[0].ImageOrientationPatient])
normal = np.cross(iop[:3], iop[3:])
slices.sort(key=lambda d: float(np.dot(normal, [float(v) for v in d.ImagePositionPatient])))
first = slices[0]
print("study\t" + first.StudyInstanceUID)
print("series\t" + first.SeriesInstanceUID)
print("for\t" + first.get("FrameOfReferenceUID", ""))
for kw in ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "StudyDate", "StudyTime",
           "StudyID", "AccessionNumber", "ReferringPhysicianName", "StudyDescription",
           "PatientIdentityRemoved", "DeidentificationMethod"]:
    v = first.get(kw)
    if v is not None and str(v) != "":
        print("attr\t%s\t%s" % (kw, str(v)))
for d in slices:
    p = [float(v) for v in d.ImagePositionPatient]
    print("image\t%s\t%s\t0\t%r\t%r\t%r" % (d.SOPClassUID, d.SOPInstanceUID, p[0], p[1], p[2]))
