"""The independent computation of a few-shot evaluation: Debian's python3-sklearn fitted on the
same support embeddings DeepSentinel drew, predicting the same queries. Reads a JSON file
({"neighbours": k, "classes": [...], "episodes": [{"support": [[...]], "support_classes": [...],
"queries": [[...]], "query_classes": [...]}]}) and prints, per episode, the k-NN and
nearest-centroid predictions with their metrics, the pooled metrics, the mean and sample
standard deviation over episodes, and how many k-NN votes were tied."""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.preprocessing import normalize

warnings.simplefilter("ignore")
case = json.load(open(sys.argv[1]))
k = case["neighbours"]
labels = case["classes"]


def figures(y, p):
    return {
        "overall_accuracy": metrics.accuracy_score(y, p),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, p),
        "macro_f1": metrics.f1_score(y, p, average="macro", zero_division=0),
        "confusion": metrics.confusion_matrix(y, p, labels=labels).tolist(),
    }


out = {"episodes": [], "vote_ties": 0}
pooled = {"knn": ([], []), "centroid": ([], [])}
for episode in case["episodes"]:
    xs = np.array(episode["support"], dtype=np.float64)
    ys = np.array(episode["support_classes"])
    xq = np.array(episode["queries"], dtype=np.float64)
    yq = np.array(episode["query_classes"])
    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine").fit(xs, ys)
    p_knn = knn.predict(xq)
    centroid = NearestCentroid(metric="cosine").fit(normalize(xs), ys)
    p_centroid = centroid.predict(normalize(xq))
    # Ties in the vote: more than one class with the most votes among the k neighbours.
    neighbours = knn.kneighbors(xq, return_distance=False)
    for row in ys[neighbours]:
        _, counts = np.unique(row, return_counts=True)
        out["vote_ties"] += int((counts == counts.max()).sum() > 1)
    out["episodes"].append({
        "knn": p_knn.tolist(), "centroid": p_centroid.tolist(),
        "knn_figures": figures(yq, p_knn), "centroid_figures": figures(yq, p_centroid),
    })
    for name, p in (("knn", p_knn), ("centroid", p_centroid)):
        pooled[name][0].extend(yq.tolist())
        pooled[name][1].extend(p.tolist())

for name in ("knn", "centroid"):
    out[name + "_pooled"] = figures(*pooled[name])
    for figure in ("overall_accuracy", "balanced_accuracy", "macro_f1"):
        values = np.array([e[name + "_figures"][figure] for e in out["episodes"]])
        out[f"{name}_mean_{figure}"] = float(values.mean())
        out[f"{name}_sd_{figure}"] = float(values.std(ddof=1)) if len(values) > 1 else None
print(json.dumps(out))
