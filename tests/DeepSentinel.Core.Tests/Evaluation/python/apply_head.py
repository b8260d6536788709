"""A DeepSentinel classifier head applied independently with Debian's python3-torch.

    apply_head.py <head.pt> <embeddings.json>

embeddings.json: {"embeddings": [[...], ...]} as embed_checkpoint.py prints it. Prints
{"probabilities": [[...], ...], "classes": n, "multi_label": 0|1, "keys": [...]}.
"""
import json
import sys

import torch

head = torch.load(sys.argv[1], map_location="cpu")
assert head["format"] == "deepsentinel-classifier-head", head["format"]
weight, bias = head["state_dict"]["weight"], head["state_dict"]["bias"]
e = torch.tensor(json.load(open(sys.argv[2]))["embeddings"], dtype=torch.float32)
assert head["embedding_norm"] == "layer_norm"
logits = torch.nn.functional.layer_norm(e, (e.shape[1],), eps=1e-5) @ weight.t() + bias
p = torch.sigmoid(logits) if head["multi_label"] else torch.softmax(logits, 1)
print(json.dumps({"probabilities": p.tolist(), "classes": int(head["classes"]), "multi_label": int(head["multi_label"]),
                  "class_weights": head["class_weights"].tolist(), "keys": sorted(head["state_dict"].keys())}))
