"""The same fine-tuning step as the module, in Debian's python3-torch.

ResNet-18 (torchvision's layout: torchvision is not packaged here) on 13 x 64 x 64 input with a
128-d embedding, a linear head of 10 classes on the layer-normalised embedding (as the engine's
head), class-weighted cross-entropy, AdamW with the head at 1e-3 and the encoder at 1e-4, and the
engine's augmentation (a random flip of each axis and a random quarter turn per sample). 64
patches in memory, replayed two batches of 32 in turn: no data loading is counted.

    /usr/bin/python3 python_baseline.py <threads> <steps> [--no-augment]
"""
import json
import os
import random
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, SIZE, BANDS, CLASSES, WARMUP = 32, 64, 13, 10, 3
threads, steps = int(sys.argv[1]), int(sys.argv[2])
augment = "--no-augment" not in sys.argv
torch.set_num_threads(threads)
torch.manual_seed(1)
rng = random.Random(1)


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


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


encoder = ResNet18(BANDS, 128)
head = nn.Linear(128, CLASSES)
optimizer = torch.optim.AdamW([
    {"params": head.parameters(), "lr": 1e-3},
    {"params": encoder.parameters(), "lr": 1e-4},
], weight_decay=1e-4)
class_weights = torch.tensor([0.5 + 0.1 * c for c in range(CLASSES)])
data = torch.rand(2 * BATCH, BANDS, SIZE, SIZE) * 2 - 1
targets = torch.arange(2 * BATCH) % CLASSES


def flips_rotations(x):
    out = torch.empty_like(x)
    for i in range(x.shape[0]):
        s = x[i]
        if rng.random() < 0.5:
            s = s.flip(2)
        if rng.random() < 0.5:
            s = s.flip(1)
        s = torch.rot90(s, rng.randrange(4), (1, 2))
        out[i].copy_(s)
    return out


encoder.train()
head.train()
rss, step_seconds = [], []
for step in range(WARMUP + steps):
    if step == WARMUP:
        start, cpu = time.perf_counter(), time.process_time()
    t0 = time.perf_counter()
    first = (step % 2) * BATCH
    x = data[first:first + BATCH]
    if augment:
        x = flips_rotations(x)
    embedding = encoder(x)
    logits = head(F.layer_norm(embedding, (embedding.shape[1],), eps=1e-5))
    loss = F.cross_entropy(logits, targets[first:first + BATCH], weight=class_weights)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    loss_value = float(loss)
    if step >= WARMUP:
        step_seconds.append(time.perf_counter() - t0)
        rss.append(rss_mb())
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu
step_seconds.sort()

print(json.dumps({
    "side": "python",
    "threads": threads,
    "torch": torch.__version__,
    "augment": augment,
    "steps_measured": steps,
    "images_per_second": round(BATCH * steps / elapsed, 2),
    "images_per_cpu_second": round(BATCH * steps / cpu, 3),
    "median_step_seconds": round(step_seconds[len(step_seconds) // 2], 4),
    "rss_mb_first": rss[0],
    "rss_mb_last": rss[-1],
    "rss_mb_max": max(rss),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "final_loss": round(loss_value, 4),
}))
