"""The DSen2 network of a DeepSentinel checkpoint in Debian's python3-torch, run over the same
tiles as the module's tiled inference (Invoke-SuperResolution), at the same thread count.

    /usr/bin/python3 python_baseline.py <checkpoint> <scene-folder> <module-output.tif> <threads> <tile> <context>

Reads the 10 m and 20 m bands of the window the module wrote (plus its context, clipped to the
scene) with rasterio, times the forward passes only (reading excluded, as the module's Seconds),
checks the result against the module's file, and prints one JSON line.
"""
import json, sys, time
import numpy as np, rasterio, torch, torch.nn.functional as F
from rasterio.windows import Window

checkpoint, folder, module_file, threads, tile, context = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
ck = torch.load(checkpoint)
c, sd = ck["config"], ck["state_dict"]
scale = c["input_scale"]

def forward(fine, mid):
    conv = lambda x, n: F.conv2d(x, sd[n + ".weight"], sd[n + ".bias"], padding=1)
    h, w = fine.shape[-2:]
    up = F.interpolate(mid, size=(h, w), mode="bilinear", align_corners=False)
    y = F.relu(conv(torch.cat([fine, up], 1) / scale, "head"))
    for i in range(c["blocks"]):
        y = y + 0.1 * conv(F.relu(conv(y, f"blocks.{i}.conv1")), f"blocks.{i}.conv2")
    return (conv(y, "tail") + up / scale) * scale

out = rasterio.open(module_file)
b04 = rasterio.open(f"{folder}/B04.tif")
x0 = int(round((out.transform.c - b04.transform.c) / 10)); y0 = int(round((b04.transform.f - out.transform.f) / 10))
W, H = out.width, out.height
L, T = max(0, x0 - context), max(0, y0 - context)
R, B = min(b04.width // 6 * 6, x0 + W + context), min(b04.height // 6 * 6, y0 + H + context)
read = lambda b, f: torch.from_numpy(rasterio.open(f"{folder}/{b}.tif").read(1, window=Window(L // f, T // f, (R - L) // f, (B - T) // f)).astype("float32"))
fine = torch.stack([read(b, 1) for b in ["B02", "B03", "B04", "B08"]])[None]
mid = torch.stack([read(b, 2) for b in ["B05", "B06", "B07", "B8A", "B11", "B12"]])[None]
w, h = R - L, B - T
result = torch.zeros(6, h, w)
start = time.perf_counter()
with torch.no_grad():
    for ty in range(0, h, tile):
        for tx in range(0, w, tile):
            cw, ch = min(tile, w - tx), min(tile, h - ty)
            # The module's plan: every input window one shape, edge tiles shifted inwards.
            iw, ih = min(w, tile + 2 * context), min(h, tile + 2 * context)
            ix, iy = min(max(0, tx - context), w - iw), min(max(0, ty - context), h - ih)
            ix2, iy2 = ix + iw, iy + ih
            y = forward(fine[..., iy:iy2, ix:ix2], mid[..., iy // 2:iy2 // 2, ix // 2:ix2 // 2])[0]
            result[:, ty:ty + ch, tx:tx + cw] = y[:, ty - iy:ty - iy + ch, tx - ix:tx - ix + cw]
seconds = time.perf_counter() - start
mine = result[:, y0 - T:y0 - T + H, x0 - L:x0 - L + W].numpy()
theirs = out.read([5, 6, 7, 9, 11, 12]).astype("float64")
valid = theirs[0] > 0
diff = float(np.abs(np.clip(np.rint(mine), 1, 65535)[:, valid] - theirs[:, valid]).max())
# VmHWM: this process's own peak (ru_maxrss would include the parent's peak from before exec).
peak_mb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({"kind": "infer", "side": "python", "window": f"{W}x{H}", "seconds": round(seconds, 2), "mp_per_s": round(w * h / 1e6 / seconds, 4), "peak_mb": round(peak_mb), "max_dn_difference_vs_module": diff}))
