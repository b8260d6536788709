"""The independent computation of segmentation metrics: Debian's python3-sklearn on the same
pixels DeepSentinel evaluated. Reads a JSON file {classes, actual, predicted} (class indices per
pixel; -1 = unlabelled, left out) or {classes, actual_file, predicted_file} (int32 arrays) and
prints the metrics as JSON."""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics

warnings.simplefilter("ignore")
case = json.load(open(sys.argv[1]))
labels = list(range(len(case["classes"])))
if "actual_file" in case:
    y, p = np.fromfile(case["actual_file"], dtype="<i4"), np.fromfile(case["predicted_file"], dtype="<i4")
else:
    y, p = np.array(case["actual"]), np.array(case["predicted"])
keep = y >= 0
y, p = y[keep], p[keep]
print(json.dumps({
    "iou": metrics.jaccard_score(y, p, labels=labels, average=None, zero_division=0).tolist(),
    # macro over the classes present in y or p: sklearn's default label set
    "mean_iou": metrics.jaccard_score(y, p, average="macro", zero_division=0),
    "pixel_accuracy": metrics.accuracy_score(y, p),
    "confusion": metrics.confusion_matrix(y, p, labels=labels).tolist(),
    "pixels": int(len(y)),
}))
