"""The same pretraining step and embedding pass as the module, in Debian's python3-torch.

ResNet-18 (torchvision's layout: torchvision is not packaged here), 14 input channels, a 128-d
embedding, a 512-64 projection head; SimCLR with two views per patch made of the same
augmentations as the native engine (random resized crop, flips, quarter turns, band gain and
noise, modality dropout), NT-Xent at temperature 0.2, AdamW. Patches are in memory, so no data
loading cost is counted for Python.

    /usr/bin/python3 python_baseline.py <threads> <train-steps> <embed-batches> [--channels-last]
"""
import json
import math
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SIZE, WARMUP, S2, S1 = 32, 128, 3, 12, 2
threads, steps, embed_batches = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
channels_last = "--channels-last" in sys.argv
torch.set_num_threads(threads)
torch.manual_seed(1)
rng = random.Random(1)
fmt = torch.channels_last if channels_last else torch.contiguous_format


class BasicBlock(nn.Module):
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
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        out += self.downsample(x) if self.downsample is not None else x
        return F.relu(out, inplace=True)


class ResNet18(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, c = [], 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(BasicBlock(c, planes, stride), BasicBlock(planes, planes, 1)))
            c = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


encoder = ResNet18(S2 + S1, 128).to(memory_format=fmt)
projector = nn.Sequential(nn.Linear(128, 512), nn.ReLU(inplace=True), nn.Linear(512, 64))
optimizer = torch.optim.AdamW(list(encoder.parameters()) + list(projector.parameters()), lr=1e-3, weight_decay=1e-4)
data = torch.randn(2 * BATCH, S2 + S1, SIZE, SIZE)


def augment(x):
    out = torch.empty_like(x, memory_format=fmt)
    for i in range(x.shape[0]):
        s = x[i]
        scale = math.sqrt(0.35 + 0.65 * rng.random())
        ch, cw = max(8, int(SIZE * scale)), max(8, int(SIZE * scale))
        if ch < SIZE:
            y0, x0 = rng.randrange(SIZE - ch + 1), rng.randrange(SIZE - cw + 1)
            s = F.interpolate(s[:, y0:y0 + ch, x0:x0 + cw].unsqueeze(0), size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0]
        if rng.random() < 0.5:
            s = s.flip(2)
        if rng.random() < 0.5:
            s = s.flip(1)
        s = torch.rot90(s, rng.randrange(4), (1, 2))
        out[i].copy_(s)
    out.mul_(torch.randn(x.shape[0], x.shape[1], 1, 1).mul_(0.05).add_(1)).add_(torch.randn_like(out).mul_(0.05))
    for i in range(x.shape[0]):
        if rng.random() < 0.3:
            if rng.random() < 0.5:
                out[i, S2:].zero_()
            else:
                out[i, :S2].zero_()
    return out


def nt_xent(z, t=0.2):
    n = z.shape[0]
    z = F.normalize(z, dim=1)
    logits = (z @ z.t()) / t
    logits.masked_fill_(torch.eye(n, dtype=torch.bool), -1e9)
    targets = torch.cat([torch.arange(n // 2, n), torch.arange(0, n // 2)])
    return F.cross_entropy(logits, targets)


encoder.train()
projector.train()
start = None
for step in range(WARMUP + steps):
    if step == WARMUP:
        start, cpu = time.perf_counter(), time.process_time()
    x = data[(step % 2) * BATCH:(step % 2 + 1) * BATCH]
    views = torch.cat([augment(x), augment(x)]).contiguous(memory_format=fmt)
    loss = nt_xent(projector(encoder(views)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
train_rate = BATCH * steps / (time.perf_counter() - start)
train_cpu_rate = BATCH * steps / (time.process_time() - cpu)

encoder.eval()
with torch.no_grad():
    for b in range(WARMUP + embed_batches):
        if b == WARMUP:
            start, cpu = time.perf_counter(), time.process_time()
        encoder(data[:BATCH].contiguous(memory_format=fmt))
embed_rate = BATCH * embed_batches / (time.perf_counter() - start)
embed_cpu_rate = BATCH * embed_batches / (time.process_time() - cpu)

print(json.dumps({
    "side": "python" + (" channels-last" if channels_last else ""),
    "threads": threads,
    "torch": torch.__version__,
    "train_images_per_second": round(train_rate, 2),
    "embed_images_per_second": round(embed_rate, 2),
    "train_images_per_cpu_second": round(train_cpu_rate, 3),
    "embed_images_per_cpu_second": round(embed_cpu_rate, 3),
    "final_loss": float(loss),
}))
