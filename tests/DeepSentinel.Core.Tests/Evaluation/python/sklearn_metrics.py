"""The independent computation of classification metrics: Debian's python3-sklearn on the same
predictions DeepSentinel evaluated. Reads a JSON file and prints the metrics as JSON."""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics

warnings.simplefilter("ignore")  # undefined precision/recall are 0 (zero_division), as in DeepSentinel
case = json.load(open(sys.argv[1]))
labels = list(range(len(case["classes"])))
out = {}
if case["task"] == "single":
    y, p = np.array(case["actual"]), np.array(case["predicted"])
    pr, rc, f1, support = metrics.precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    out = {
        "overall_accuracy": metrics.accuracy_score(y, p),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, p),
        # macro over the classes present in y or p: sklearn's default label set
        "macro_f1": metrics.f1_score(y, p, average="macro", zero_division=0),
        "micro_f1": metrics.f1_score(y, p, average="micro", zero_division=0),
        "precision": pr.tolist(), "recall": rc.tolist(), "f1": f1.tolist(), "support": support.tolist(),
        "confusion": metrics.confusion_matrix(y, p, labels=labels).tolist(),
    }
else:
    y = np.array(case["truth"], dtype=int)
    s = np.array(case["scores"], dtype=np.float64)
    p = (s >= case["threshold"]).astype(int)
    with_positives = [c for c in labels if y[:, c].sum() > 0]
    true_or_predicted = [c for c in labels if y[:, c].sum() + p[:, c].sum() > 0]
    pr, rc, f1, support = metrics.precision_recall_fscore_support(y, p, zero_division=0)
    out = {
        "subset_accuracy": metrics.accuracy_score(y, p),
        "micro_f1": metrics.f1_score(y, p, average="micro", zero_division=0),
        "macro_f1": metrics.f1_score(y[:, true_or_predicted], p[:, true_or_predicted], average="macro", zero_division=0),
        "map": metrics.average_precision_score(y[:, with_positives], s[:, with_positives], average="macro"),
        "ap": [metrics.average_precision_score(y[:, c], s[:, c]) if c in with_positives else None for c in labels],
        "precision": pr.tolist(), "recall": rc.tolist(), "f1": f1.tolist(), "support": support.tolist(),
    }
print(json.dumps(out))
