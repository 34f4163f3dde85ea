"""Test fixtures for the DICOM reader, made with pydicom at test time (test tool only, never a runtime need).

  enhanced SRC_FOLDER OUT.dcm      one Enhanced CT multi-frame file holding every slice of a single-frame CT series,
                                   frames in a shuffled order, PlanePosition per frame, orientation, pixel measures and
                                   rescale shared (the rescale of frame 0 given per frame instead, to test overrides)
  stacks OUT.dcm                   a 16x16 Enhanced CT file of 300 frames in two stacks (StackID 1 and 2) of 150
                                   frames, 1 mm apart, stack 2 offset by 500 mm; HU = stack * 1000 + in-stack index
  bare SRC.dcm OUT.dcm             SRC's dataset written without preamble and file meta, implicit VR little endian
  sourceinfo FOLDER                JSON on stdout: pydicom's reading of the series (UIDs, patient and study, and per
                                   file the SOP UIDs and the position along the slice normal), for SourceImages
"""
import json
import os
import random
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def new_enhanced(rows, cols, frames):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ENHANCED_CT
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = ENHANCED_CT
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.PatientName = "Fixture^Enhanced"
    ds.PatientID = "MF-1"
    ds.Rows = rows
    ds.Columns = cols
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    return ds


def enhanced(src, out):
    files = [pydicom.dcmread(os.path.join(src, f)) for f in sorted(os.listdir(src))]
    files = [f for f in files if "PixelData" in f]
    random.Random(21).shuffle(files)
    first = files[0]
    ds = new_enhanced(first.Rows, first.Columns, len(files))
    ds.SeriesInstanceUID = first.SeriesInstanceUID
    ds.StudyInstanceUID = first.StudyInstanceUID
    shared = item(
        PixelMeasuresSequence=Sequence([item(PixelSpacing=first.PixelSpacing, SliceThickness=first.SliceThickness)]),
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=first.ImageOrientationPatient)]),
        PixelValueTransformationSequence=Sequence([item(RescaleIntercept=first.RescaleIntercept,
                                                        RescaleSlope=first.RescaleSlope, RescaleType="HU")]))
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    pixels = []
    for i, f in enumerate(files):
        fg = item(PlanePositionSequence=Sequence([item(ImagePositionPatient=f.ImagePositionPatient)]),
                  FrameContentSequence=Sequence([item(InStackPositionNumber=i + 1)]))
        hu = f.pixel_array.astype(np.int32) * int(f.RescaleSlope) + int(f.RescaleIntercept)
        if i == 0:
            # This frame's rescale given per frame (intercept -1000, slope 1) overrides the shared one.
            fg.PixelValueTransformationSequence = Sequence([item(RescaleIntercept=-1000, RescaleSlope=1, RescaleType="HU")])
            stored = hu + 1000
        else:
            stored = hu - int(first.RescaleIntercept)
        pixels.append(stored.astype(np.int16))
        per.append(fg)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.PixelData = np.stack(pixels).astype("<i2").tobytes()
    ds.save_as(out, write_like_original=False)


def stacks(out):
    n = 150
    ds = new_enhanced(16, 16, 2 * n)
    ds.SharedFunctionalGroupsSequence = Sequence([item(
        PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.5, 0.5], SliceThickness=1)]),
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
        PixelValueTransformationSequence=Sequence([item(RescaleIntercept=0, RescaleSlope=1, RescaleType="HU")]))])
    per, pixels = [], []
    order = [(s, k) for s in (1, 2) for k in range(n)]
    random.Random(7).shuffle(order)
    for s, k in order:
        z = (s - 1) * 500.0 + k
        per.append(item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[-4.0, -4.0, z])]),
                        FrameContentSequence=Sequence([item(StackID=str(s), InStackPositionNumber=k + 1)])))
        pixels.append(np.full((16, 16), s * 1000 + k, dtype=np.int16))
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.PixelData = np.stack(pixels).astype("<i2").tobytes()
    ds.save_as(out, write_like_original=False)


def bare(src, out):
    ds = pydicom.dcmread(src)
    ds.file_meta = FileMetaDataset()
    ds.preamble = None
    ds.is_little_endian = True
    ds.is_implicit_VR = True
    from pydicom.filebase import DicomFileLike
    with open(out, "wb") as raw:
        fp = DicomFileLike(raw)
        fp.is_little_endian = True
        fp.is_implicit_VR = True
        pydicom.filewriter.write_dataset(fp, ds)


def sourceinfo(folder):
    out = {"images": []}
    for name in sorted(os.listdir(folder)):
        d = pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
        iop = [float(v) for v in d.ImageOrientationPatient]
        n = np.cross(iop[:3], iop[3:])
        along = float(np.dot([float(v) for v in d.ImagePositionPatient], n))
        out["images"].append({"along": along, "sop_class": d.SOPClassUID, "sop_instance": d.SOPInstanceUID})
        for key in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "PatientName", "PatientID",
                    "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
                    "ReferringPhysicianName"):
            if key in d:
                out[key] = str(d.data_element(key).value).strip()
    out["images"].sort(key=lambda i: i["along"])
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "enhanced":
        enhanced(sys.argv[2], sys.argv[3])
    elif cmd == "stacks":
        stacks(sys.argv[2])
    elif cmd == "bare":
        bare(sys.argv[2], sys.argv[3])
    elif cmd == "sourceinfo":
        sourceinfo(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)
