"""Sums a DeepSentinel checkpoint's encoder tensors with python3-torch (to tell frozen from trained encoders)."""
import json
import sys

import torch

state = torch.load(sys.argv[1], map_location="cpu")["state_dict"]
encoder = [t.double() for k, t in state.items() if k.startswith("encoder.") and t.is_floating_point()]
print(json.dumps({"checksum": float(sum(t.abs().sum() for t in encoder)), "tensors": len(encoder)}))
