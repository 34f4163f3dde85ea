#!/usr/bin/env python3
"""Times the published LUNA16 analysis recipe in real PyTorch on one CT, and optionally ./luna on the same
CT in the same run, and prints the ratio.

The recipe (as our Java engine implements it, see analysis/CtAnalysis.java): the U-Net on every slice with
slices z-3..z+3 as channels (clamped indices), HU clamped to [-1000, 1000], batches of 8; mask =
probability > 0.5, one binary erosion with the 6-connected cross, components labelled with
6-connectivity; each component's centre of mass weighted by clamp(HU) + 1001; the classifier on the
32x48x48 chunk at the rounded centre (shifted inside the volume, not padded).

Needs python3-torch (Debian's 1.13) and python3-scipy. Weights: the book's .state files (torch.load).

  scripts/pytorch-recipe.py --ct CT.mhd [--models ../shared/models/book] [--threads 2]
      [--expected candidates-expected.csv] [--luna ./luna] [--luna-args "fast=true"] [--out DIR]
      [--allocator installed|tuned|both]

With --luna, ./luna analyze runs on the same CT after PyTorch (wall time and peak RSS of the process,
JVM start and model loading included, as for PyTorch's process time here) and the ratio is printed.

--allocator (issue #24): PyTorch as installed pays glibc malloc's page-fault churn (every large activation
is a fresh mmap that is zero-filled on first touch and unmapped when freed); a user removes it with
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296
which glibc reads only at process start. "installed" (the default) runs PyTorch in this process with the
environment as given; "tuned" re-executes this script with that variable set; "both" times PyTorch twice,
as installed and tuned, each in a child process (one after the other, so they do not share the cores), then
./luna if --luna is given, and prints the ratio against each.
"""
import argparse
import csv
import glob
import os
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.ndimage as ndi
import torch
from torch import nn
import torch.nn.functional as F

TUNED_MALLOC = 'glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296'


def read_mhd(path):
    """A MetaImage header and its raw data (uncompressed, little-endian), as an int/float array [z][y][x]."""
    header = {}
    with open(path, 'r', encoding='latin-1') as f:
        for line in f:
            if '=' in line:
                k, v = line.split('=', 1)
                header[k.strip()] = v.strip()
    if header.get('CompressedData', 'False').lower() == 'true':
        sys.exit(path + ': compressed MetaImage is not supported by this script')
    types = {'MET_SHORT': '<i2', 'MET_USHORT': '<u2', 'MET_FLOAT': '<f4', 'MET_INT': '<i4', 'MET_UCHAR': 'u1', 'MET_CHAR': 'i1'}
    dims = [int(v) for v in header['DimSize'].split()]
    data_file = header['ElementDataFile']
    if data_file == 'LOCAL':
        sys.exit(path + ': .mha with local data is not supported by this script')
    raw = os.path.join(os.path.dirname(path), data_file)
    volume = np.fromfile(raw, dtype=types[header['ElementType']]).reshape(dims[2], dims[1], dims[0])
    return volume


class ConvBlock(nn.Module):
    """conv 3x3, ReLU, BatchNorm, conv 3x3, ReLU, BatchNorm; state keys block.0/2/3/5."""

    def __init__(self, cin, cout):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout),
                                   nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.block(x)


class UpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv_block = ConvBlock(cin, cout)

    def forward(self, x, skip):
        return self.conv_block(torch.cat([self.up(x), skip], 1))


class UNet(nn.Module):
    def __init__(self, cin=7, widths=(16, 32, 64)):
        super().__init__()
        self.down_path = nn.ModuleList()
        prev = cin
        for w in widths:
            self.down_path.append(ConvBlock(prev, w))
            prev = w
        self.up_path = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up_path.append(UpBlock(prev, w))
            prev = w
        self.last = nn.Conv2d(prev, 1, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down_path):
            x = block(x)
            if i < len(self.down_path) - 1:
                skips.append(x)
                x = F.avg_pool2d(x, 2)
        for up in self.up_path:
            x = up(x, skips.pop())
        return self.last(x)


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_batchnorm = nn.BatchNorm2d(7)
        self.unet = UNet()

    def forward(self, x):
        return torch.sigmoid(self.unet(self.input_batchnorm(x)))


class ClsBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1)

    def forward(self, x):
        return F.max_pool3d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2, 2)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.tail_batchnorm = nn.BatchNorm3d(1)
        self.block1, self.block2, self.block3, self.block4 = ClsBlock(1, 8), ClsBlock(8, 16), ClsBlock(16, 32), ClsBlock(32, 64)
        self.head_linear = nn.Linear(1152, 2)

    def forward(self, x):
        x = self.tail_batchnorm(x)
        x = self.block4(self.block3(self.block2(self.block1(x))))
        logits = self.head_linear(x.flatten(1))
        return logits, F.softmax(logits, dim=1)


def load(model, path):
    state = torch.load(path, map_location='cpu')
    model.load_state_dict(state['model_state'] if 'model_state' in state else state)
    return model.eval()


def segment(model, hu, batch=8):
    d = hu.shape[0]
    out = np.empty(hu.shape, dtype=np.float32)
    t = torch.from_numpy(hu)
    for start in range(0, d, batch):
        zs = range(start, min(d, start + batch))
        x = torch.stack([t[[min(max(z + c, 0), d - 1) for c in range(-3, 4)]] for z in zs])
        with torch.no_grad():
            out[start:start + len(zs)] = model(x)[:, 0].numpy()
    return out


def crop_start(centre, width, size):
    s = int(round(centre - width / 2))
    return min(max(s, 0), size - width)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ct', required=True, help='CT as .mhd (int16 or float HU)')
    ap.add_argument('--models', default='../shared/models/book')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--expected', help='candidates-expected.csv to compare with (components, centres, p_nodule)')
    ap.add_argument('--luna', help='path of ./luna: also time ./luna analyze on the same CT')
    ap.add_argument('--luna-args', default='', help='extra key=value arguments for ./luna analyze')
    ap.add_argument('--out', default='/tmp/pytorch-recipe', help='folder for our candidates CSV and ./luna output')
    ap.add_argument('--allocator', choices=('installed', 'tuned', 'both'), default='installed',
                    help='PyTorch with glibc malloc as installed, tuned (GLIBC_TUNABLES=%s), or both' % TUNED_MALLOC)
    a = ap.parse_args()
    if a.allocator == 'tuned' and os.environ.get('GLIBC_TUNABLES') != TUNED_MALLOC:
        # glibc reads its tunables only when the process starts: run again with them in the environment
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, GLIBC_TUNABLES=TUNED_MALLOC))
    if a.allocator == 'both':
        both(a)
        return
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    seg_path = sorted(glob.glob(os.path.join(a.models, 'seg_*.state')))[-1]
    cls_path = sorted(glob.glob(os.path.join(a.models, 'cls_*.state')))[-1]

    t0 = time.time()
    hu = np.clip(read_mhd(a.ct).astype(np.float32), -1000, 1000)
    seg, cls = load(Segmenter(), seg_path), load(Classifier(), cls_path)
    t1 = time.time()
    prob = segment(seg, hu)
    t2 = time.time()
    mask = ndi.binary_erosion(prob > 0.5, iterations=1)  # default structure: the 6-connected cross; border erodes
    labels, n = ndi.label(mask)
    centres = ndi.center_of_mass(hu + 1001, labels, index=range(1, n + 1)) if n else []
    sizes = ndi.sum(np.ones_like(labels), labels, index=range(1, n + 1)) if n else []
    t3 = time.time()
    rows = []
    width = (32, 48, 48)
    for start in range(0, n, 16):
        chunks = []
        for c in centres[start:start + 16]:
            s = [crop_start(c[k], width[k], hu.shape[k]) for k in range(3)]
            chunks.append(hu[s[0]:s[0] + 32, s[1]:s[1] + 48, s[2]:s[2] + 48])
        with torch.no_grad():
            logits, p = cls(torch.from_numpy(np.stack(chunks))[:, None])
        for k in range(len(chunks)):
            i = start + k
            rows.append((i + 1, *centres[i], int(sizes[i]), float(logits[k, 0]), float(logits[k, 1]), float(p[k, 1])))
    t4 = time.time()
    with open(os.path.join(a.out, 'pytorch-candidates.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['label', 'index', 'row', 'col', 'voxels', 'logit0', 'logit1', 'p_nodule'])
        for r in rows:
            w.writerow([r[0]] + ['%.4f' % v for v in r[1:4]] + [r[4]] + ['%.6f' % v for v in r[5:]])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = t4 - t0
    print('PyTorch %s, %d threads, CT %s: %d components, %d with p >= 0.5' % (
        torch.__version__, torch.get_num_threads(), 'x'.join(map(str, hu.shape)), n, sum(r[7] >= 0.5 for r in rows)))
    print('PyTorch recipe: total %.1f s (reading and loading %.1f, segmenting %.1f, grouping %.1f, classifying %.1f); '
          'CPU user %.1f s, sys %.1f s; peak RSS %.2f GB' % (
              total, t1 - t0, t2 - t1, t3 - t2, t4 - t3, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 2**20))
    if a.expected:
        compare(rows, a.expected)
    if a.luna:
        ours = run_luna(a, seg_path, cls_path)
        print('ratio ./luna / PyTorch: %.2f' % (ours / total))


def run_child(a, allocator):
    """This script as a child process with --allocator installed or tuned and without --luna; its PyTorch total."""
    args = [sys.executable, os.path.abspath(__file__), '--ct', a.ct, '--models', a.models, '--threads', str(a.threads),
            '--out', os.path.join(a.out, allocator), '--allocator', allocator]
    if a.expected:
        args += ['--expected', a.expected]
    env = dict(os.environ)
    if allocator == 'installed':
        env.pop('GLIBC_TUNABLES', None)
    out = subprocess.run(args, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    total = None
    for line in out.splitlines():
        print('[%s] %s' % (allocator, line))
        if line.startswith('PyTorch recipe: total '):
            total = float(line.split()[3])
    if total is None:
        sys.exit('the %s PyTorch child printed no total' % allocator)
    return total


def both(a):
    installed = run_child(a, 'installed')
    tuned = run_child(a, 'tuned')
    print('PyTorch as installed %.1f s, tuned (GLIBC_TUNABLES=%s) %.1f s' % (installed, TUNED_MALLOC, tuned))
    if a.luna:
        seg_path = sorted(glob.glob(os.path.join(a.models, 'seg_*.state')))[-1]
        cls_path = sorted(glob.glob(os.path.join(a.models, 'cls_*.state')))[-1]
        ours = run_luna(a, seg_path, cls_path)
        print('ratio ./luna / PyTorch as installed: %.2f' % (ours / installed))
        print('ratio ./luna / PyTorch tuned: %.2f' % (ours / tuned))


def run_luna(a, seg_path, cls_path):
    """./luna analyze on the same CT and models, timed as a child process; its wall time."""
    cmd = [a.luna, 'analyze', 'input=' + a.ct, 'seg_model=' + seg_path, 'cls_model=' + cls_path,
           'output=' + os.path.join(a.out, 'luna')] + a.luna_args.split()
    env = dict(os.environ)
    if a.allocator != 'installed':
        env.pop('GLIBC_TUNABLES', None)  # ours, for PyTorch: ./luna tunes its allocator itself
    t = time.time()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # this child's own usage (RUSAGE_CHILDREN's peak RSS would be the largest of all children, PyTorch's too)
    _, status, usage = os.wait4(child.pid, 0)
    ours = time.time() - t
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit('./luna analyze failed (exit code %d): %s' % (child.returncode, ' '.join(cmd)))
    print('./luna analyze %s: total %.1f s; CPU user %.1f s, sys %.1f s; peak RSS %.2f GB' % (
        a.luna_args, ours, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 2**20))
    return ours


def compare(rows, expected):
    """Components, their order and centres (0.01 voxel) and p_nodule (1e-4) against a reference CSV."""
    with open(expected) as f:
        ref = list(csv.DictReader(f))
    bad = 0
    if len(ref) != len(rows):
        print('expected %d components, got %d' % (len(ref), len(rows)))
        bad += 1
    for r, e in zip(rows, ref):
        dc = max(abs(r[k] - float(e[name])) for k, name in ((1, 'index'), (2, 'row'), (3, 'col')))
        if dc > 0.01 or abs(r[7] - float(e['p_nodule'])) > 1e-4:
            bad += 1
            if bad <= 5:
                print('component %s differs: centre by %.4f voxel, p %.6f vs %s' % (e['label'], dc, r[7], e['p_nodule']))
    print('reference %s: %s' % (expected, 'all %d components equal' % len(ref) if bad == 0 else '%d differences' % bad))


if __name__ == '__main__':
    main()
