"""Independent embeddings of a DeepSentinel ResNet checkpoint with Debian's python3-torch.

Rebuilds the encoder (torchvision's ResNet layout) from the checkpoint's config and state dict,
normalises the raw input with the stored statistics and runs a plain eval-mode forward pass.

    embed_checkpoint.py <checkpoint> <input.f32> <batch> <height> <width>

input.f32: little-endian float32 [batch, S2 channels + S1 channels, height, width], raw values.
Prints {"embeddings": [[...], ...]}.
"""
import json
import sys

import numpy
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, block, counts, cin, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        c = 64
        for index, (planes, count, stride) in enumerate(zip([64, 128, 256, 512], counts, [1, 2, 2, 2])):
            blocks = []
            for k in range(count):
                blocks.append(block(c, planes, stride if k == 0 else 1))
                c = planes * block.expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(c, dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


checkpoint = torch.load(sys.argv[1], map_location="cpu")
config, state = checkpoint["config"], checkpoint["state_dict"]
channels = config["s2_channels"] + config["s1_channels"]
if config["encoder"] == 0:
    net = ResNet(BasicBlock, [2, 2, 2, 2], channels, config["embedding_dim"])
elif config["encoder"] == 1:
    net = ResNet(Bottleneck, [3, 4, 6, 3], channels, config["embedding_dim"])
else:
    sys.exit("not a ResNet checkpoint")
encoder_state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
net.load_state_dict(encoder_state)
net.eval()

batch, height, width = (int(v) for v in sys.argv[3:6])
raw = torch.from_numpy(numpy.fromfile(sys.argv[2], dtype="<f4").reshape(batch, channels, height, width))
x = (raw - state["input_mean"].view(1, -1, 1, 1)) / state["input_std"].view(1, -1, 1, 1)
x = torch.nan_to_num(x, 0.0, 0.0, 0.0)
with torch.no_grad():
    embeddings = net(x)
print(json.dumps({"embeddings": embeddings.tolist()}))
