"""Few-shot predictions recomputed by Debian's python3-sklearn from the files the module wrote:
the embeddings (Get-Embedding -OutFile: .npy and .ids.txt) and an exported few-shot evaluation's
few-shot-samples.csv (each episode's support and query samples). Fits KNeighborsClassifier
(metric='cosine') or NearestCentroid (metric='cosine', on L2-normalised embeddings) on each
episode's support set and prints, as JSON, the predictions per episode, the pooled metrics and
the mean and sample standard deviation over episodes.

usage: fewshot_sklearn.py embeddings.npy evaluation-folder Knn|NearestCentroid k"""
import csv
import json
import sys
import warnings

import numpy as np
from sklearn import metrics
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.preprocessing import normalize

warnings.simplefilter("ignore")
npy, folder, method, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
vectors = np.load(npy).astype(np.float64)
ids = [line.strip() for line in open(npy + ".ids.txt") if line.strip()]
row = {sample: i for i, sample in enumerate(ids)}
episodes = {}
for r in csv.DictReader(open(f"{folder}/few-shot-samples.csv")):
    e = episodes.setdefault(int(r["episode"]), {"support": [], "query": []})
    e[r["role"]].append(r)

out = {"episodes": []}
y_all, p_all, figures = [], [], {"overall_accuracy": [], "balanced_accuracy": [], "macro_f1": []}
for index in sorted(episodes):
    e = episodes[index]
    xs = vectors[[row[r["sample_id"]] for r in e["support"]]]
    ys = np.array([r["actual"] for r in e["support"]])
    xq = vectors[[row[r["sample_id"]] for r in e["query"]]]
    yq = np.array([r["actual"] for r in e["query"]])
    if method == "Knn":
        predicted = KNeighborsClassifier(n_neighbors=k, metric="cosine").fit(xs, ys).predict(xq)
    else:
        predicted = NearestCentroid(metric="cosine").fit(normalize(xs), ys).predict(normalize(xq))
    out["episodes"].append({"ids": [r["sample_id"] for r in e["query"]], "predicted": predicted.tolist()})
    figures["overall_accuracy"].append(metrics.accuracy_score(yq, predicted))
    figures["balanced_accuracy"].append(metrics.balanced_accuracy_score(yq, predicted))
    figures["macro_f1"].append(metrics.f1_score(yq, predicted, average="macro", zero_division=0))
    y_all.extend(yq.tolist())
    p_all.extend(predicted.tolist())

out["overall_accuracy"] = metrics.accuracy_score(y_all, p_all)
out["balanced_accuracy"] = metrics.balanced_accuracy_score(y_all, p_all)
out["macro_f1"] = metrics.f1_score(y_all, p_all, average="macro", zero_division=0)
for name, values in figures.items():
    out["mean_" + name] = float(np.mean(values))
    out["sd_" + name] = float(np.std(values, ddof=1)) if len(values) > 1 else None
print(json.dumps(out))
