#!/usr/bin/env python3
"""Nodule-level recall of an analysis: a nodule counts as found by the segmentation + grouping when a
component centre (any probability) lies inside it (within its radius), and as detected when such a
component also has nodule probability >= 0.5.

    scripts/nodule-recall.py ANNOTATIONS.csv CANDIDATES_FOLDER [MIN_DIAMETER_MM]
"""
import csv, glob, math, os, sys

annotations, folder = sys.argv[1], sys.argv[2]
min_mm = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
marks = {}
for f in glob.glob(os.path.join(folder, "*_candidates.csv")):
    with open(f, newline="") as fh:
        for r in csv.DictReader(fh):
            marks.setdefault(r["seriesuid"], []).append((float(r["coordX"]), float(r["coordY"]), float(r["coordZ"]), float(r["probability"])))
total = segmented = detected = 0
with open(annotations, newline="") as fh:
    for a in csv.DictReader(fh):
        d = float(a["diameter_mm"])
        if d < min_mm:
            continue
        total += 1
        c = (float(a["coordX"]), float(a["coordY"]), float(a["coordZ"]))
        inside = [m for m in marks.get(a["seriesuid"], []) if math.dist(c, m[:3]) <= d / 2]
        segmented += bool(inside)
        detected += any(m[3] >= 0.5 for m in inside)
print(f"nodules >= {min_mm:g} mm: {total}; found by segmentation + grouping: {segmented} "
      f"(recall {segmented / max(total, 1):.3f}); detected with p >= 0.5: {detected} ({detected / max(total, 1):.3f})")
