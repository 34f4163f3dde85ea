"""Decodes a DICOM file's first frame with pydicom's GDCM handler (not our code) and writes the stored
values as int32 little-endian, row-major, to OUT. Used by the codec tests as an independent decoder.

usage: gdcm_decode.py IN.dcm OUT.raw
"""
import sys

import numpy as np
import pydicom
from pydicom.pixel_data_handlers import gdcm_handler

pydicom.config.pixel_data_handlers = [gdcm_handler]
ds = pydicom.dcmread(sys.argv[1])
arr = ds.pixel_array
if arr.ndim != 2:
    arr = arr[0]
arr.astype("<i4").tofile(sys.argv[2])
print(arr.shape, arr.dtype, int(arr.min()), int(arr.max()))
