# Writes 3 synthetic CT slices (64x64, signed 16-bit) as explicit VR little endian DICOM files.
#   make_synthetic.py OUT               the series behind raw/, rle/, p14/, sv1/
#   make_synthetic.py OUT --fill N      N slices where air (-3024 HU) fills the last rows: dcmcjpeg +e1 then
#                                       ends slice 0's entropy data on a byte boundary followed by a 0xFF
#                                       fill byte before EOI (fill/slice0.dcm)
import struct, sys, os
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
fill = len(sys.argv) > 2 and sys.argv[2] == '--fill'
slices = int(sys.argv[3]) if fill else 3
def el(g, e, vr, val):
    if isinstance(val, str):
        b = val.encode('ascii')
        if len(b) % 2: b += b'\0' if vr == 'UI' else b' '
    else: b = val
    if vr in ('OB', 'OW', 'SQ', 'UN', 'UT'):
        return struct.pack('<HH2sHI', g, e, vr.encode(), 0, len(b)) + b
    return struct.pack('<HH2sH', g, e, vr.encode(), len(b)) + b
def us(g, e, v): return el(g, e, 'US', struct.pack('<H', v))
W = H = 64
def stored(k, y, x):
    # Air, lung, soft tissue, bone above 2000 HU and a ramp: negative values and values > 2000 HU.
    v = ((x * 37 + y * 91 + k * 53) % 700) - 1000          # -1000 .. -301
    if 20 <= x < 40 and 20 <= y < 40: v = 40 + x * y % 97     # soft tissue
    if x >= 56: v = 2100 + y * 31 + k * 7                     # dense bone / metal
    if fill:
        if y >= 60 - k % 7 or x < k % 5: v = -3024                # outside the field of view
    elif y >= 60: v = -3024 + x                               # outside the field of view
    return v + 1024                                           # stored = HU - intercept
for k in range(slices):
    px = b''.join(struct.pack('<h', stored(k, y, x)) for y in range(H) for x in range(W))
    uid = '1.2.826.0.1.3680043.99.7.%d' % (k + 1)
    ds = b''.join([
        el(0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
        el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
        el(0x0008, 0x0018, 'UI', uid),
        el(0x0008, 0x0060, 'CS', 'CT'),
        el(0x0008, 0x103E, 'LO', 'synthetic compressed'),
        el(0x0010, 0x0010, 'PN', 'SYNTHETIC'),
        el(0x0010, 0x0020, 'LO', 'SYN1'),
        el(0x0018, 0x0050, 'DS', '2.5'),
        el(0x0020, 0x000D, 'UI', '1.2.826.0.1.3680043.99.5'),
        el(0x0020, 0x000E, 'UI', '1.2.826.0.1.3680043.99.6'),
        el(0x0020, 0x0013, 'IS', str(k + 1)),
        el(0x0020, 0x0032, 'DS', '-100\\-120\\%s' % (-300 + 2.5 * k)),
        el(0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'),
        us(0x0028, 0x0002, 1),
        el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
        us(0x0028, 0x0010, H), us(0x0028, 0x0011, W),
        el(0x0028, 0x0030, 'DS', '0.8\\0.6'),
        us(0x0028, 0x0100, 16), us(0x0028, 0x0101, 16), us(0x0028, 0x0102, 15), us(0x0028, 0x0103, 1),
        el(0x0028, 0x1052, 'DS', '-1024'), el(0x0028, 0x1053, 'DS', '1'),
        el(0x7FE0, 0x0010, 'OW', px)])
    meta = b''.join([el(0x0002, 0x0001, 'OB', b'\0\1'), el(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
                     el(0x0002, 0x0003, 'UI', uid), el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
                     el(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.99.9')])
    with open(os.path.join(out, 'slice%d.dcm' % k), 'wb') as f:
        f.write(b'\0' * 128 + b'DICM' + el(0x0002, 0x0000, 'UL', struct.pack('<I', len(meta))) + meta + ds)
