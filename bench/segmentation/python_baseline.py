"""The same UNet segmentation fine-tuning step as the module, in Debian's python3-torch.

The engine's UNet (four levels, double 3x3 convolutions with batch norm, transposed-convolution
upsampling, skip connections) with a 1x1 class head on the decoder's full-resolution features,
14 input channels normalised per band, per-pixel cross-entropy with class weights and
ignore_index=-1 (the top rows unlabelled), AdamW (decoder + head and encoder groups). Patches are
in memory, so no data loading cost is counted for Python.

    /usr/bin/python3 python_baseline.py <threads> <steps> <batch> <size> <width>
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP, CLASSES, CHANNELS = 2, 4, 14
threads, steps, batch, size, width = (int(v) for v in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(1)


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, cin, w, classes):
        super().__init__()
        self.enc1, self.enc2, self.enc3, self.bottom = double_conv(cin, w), double_conv(w, 2 * w), double_conv(2 * w, 4 * w), double_conv(4 * w, 8 * w)
        self.up3, self.dec3 = nn.ConvTranspose2d(8 * w, 4 * w, 2, stride=2), double_conv(8 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), double_conv(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), double_conv(2 * w, w)
        self.classes = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        b = self.bottom(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat([self.up3(b), e3], 1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], 1))
        return self.classes(self.dec1(torch.cat([self.up1(d2), e1], 1)))


net = UNet(CHANNELS, width, CLASSES)
encoder = [p for m in (net.enc1, net.enc2, net.enc3, net.bottom) for p in m.parameters()]
rest = [p for n, p in net.named_parameters() if not n.startswith(("enc", "bottom"))]
optimizer = torch.optim.AdamW([{"params": rest, "lr": 1e-3}, {"params": encoder, "lr": 1e-3}], weight_decay=1e-4)
raw = torch.rand(batch, CHANNELS, size, size) * 400 + 800
mean, std = raw.mean((0, 2, 3)), raw.std((0, 2, 3))
targets = (torch.arange(size).view(1, 1, size).expand(batch, size, size) * 4 // size).long()
targets[:, :4, :] = -1
weights = torch.tensor([1.0, 1.1, 0.9, 1.2])
net.train()
times = []
start = time.perf_counter()
for step in range(WARMUP + steps):
    x = (raw - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)  # the engine normalises each batch too
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), targets, weight=weights, ignore_index=-1)
    loss.backward()
    optimizer.step()
    times.append(time.perf_counter() - start)
seconds = times[-1] - times[WARMUP - 1]
print(json.dumps({
    "side": "python3-torch " + torch.__version__,
    "threads": threads, "batch": batch, "size": size, "unet_width": width, "steps_measured": steps,
    "seconds_per_step": round(seconds / steps, 4),
    "patches_per_second": round(batch * steps / seconds, 3),
    "peak_working_set_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
