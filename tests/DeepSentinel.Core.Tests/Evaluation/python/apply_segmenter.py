"""A DeepSentinel segmentation model applied independently with Debian's python3-torch.

Rebuilds the UNet (enc1..dec1, parameter names as in the checkpoint) from encoder.pt, normalises
the raw input with the stored statistics, runs an eval-mode forward pass to the decoder's
full-resolution features and applies the 1x1 head from head.pt.

    apply_segmenter.py <encoder.pt> <head.pt> <input.f32> <batch> <height> <width> <output.f32>

input.f32: little-endian float32 [batch, channels, height, width], raw values. Writes the softmax
probabilities [batch, classes, height, width] as float32 to output.f32 and prints a JSON summary.
"""
import json
import sys

import numpy
import torch
import torch.nn as nn
import torch.nn.functional as F


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, cin, w, dim):
        super().__init__()
        self.enc1, self.enc2, self.enc3, self.bottom = double_conv(cin, w), double_conv(w, 2 * w), double_conv(2 * w, 4 * w), double_conv(4 * w, 8 * w)
        self.up3, self.dec3 = nn.ConvTranspose2d(8 * w, 4 * w, 2, stride=2), double_conv(8 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), double_conv(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), double_conv(2 * w, w)
        self.head = nn.Conv2d(w, dim, 1)

    def features(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        b = self.bottom(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat([self.up3(b), e3], 1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], 1))
        return self.dec1(torch.cat([self.up1(d2), e1], 1))


checkpoint = torch.load(sys.argv[1], map_location="cpu")
config, state = checkpoint["config"], checkpoint["state_dict"]
assert config["encoder"] == 2, "not a UNet checkpoint"
channels = config["s2_channels"] + config["s1_channels"]
net = UNet(channels, config["unet_width"], config["embedding_dim"])
net.load_state_dict({k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")})
net.eval()

head = torch.load(sys.argv[2], map_location="cpu")
assert head["format"] == "deepsentinel-segmentation-head", head["format"]
assert head["features"] == "decoder"
weight, bias = head["state_dict"]["weight"], head["state_dict"]["bias"]

batch, height, width = (int(v) for v in sys.argv[4:7])
raw = torch.from_numpy(numpy.fromfile(sys.argv[3], dtype="<f4").reshape(batch, channels, height, width))
x = torch.nan_to_num((raw - state["input_mean"].view(1, -1, 1, 1)) / state["input_std"].view(1, -1, 1, 1), 0.0, 0.0, 0.0)
with torch.no_grad():
    p = torch.softmax(F.conv2d(net.features(x), weight, bias), 1)
p.numpy().astype("<f4").tofile(sys.argv[7])
print(json.dumps({"classes": int(head["classes"]), "weight_shape": list(weight.shape), "class_weights": head["class_weights"].tolist(),
                  "freeze_encoder": int(head["freeze_encoder"]), "keys": sorted(head["state_dict"].keys())}))
