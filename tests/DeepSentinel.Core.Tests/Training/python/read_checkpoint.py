"""Independent check of a DeepSentinel checkpoint with Debian's python3-torch: prints JSON."""
import json
import sys

import torch

checkpoint = torch.load(sys.argv[1], map_location="cpu")
state = checkpoint["state_dict"]
print(json.dumps({
    "format": checkpoint["format"],
    "step": int(checkpoint["step"]),
    "config": {k: v for k, v in checkpoint["config"].items()},
    "tensors": len(state),
    "parameters": int(sum(t.numel() for k, t in state.items() if t.is_floating_point() and "running" not in k and k not in ("input_mean", "input_std"))),
    "conv1": list(state["encoder.conv1.weight"].shape) if "encoder.conv1.weight" in state else None,
    "input_mean": [float(v) for v in state["input_mean"]],
    "input_std": [float(v) for v in state["input_std"]],
    "finite": all(bool(torch.isfinite(t).all()) for t in state.values() if t.is_floating_point()),
}))
