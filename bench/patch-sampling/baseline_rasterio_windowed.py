"""The stronger baseline for the patch-sampling benchmark: the same patches the way an expert
writes them with rasterio.

For every sample of a corpus built by DeepSentinel: Sentinel-2 by windowed reads on the tile's own
grid, no warp (10 m bands as whole-pixel windows, 20 m and 60 m bands with out_shape and bilinear
resampling, SCL nearest), each file opened once per scene and kept open; Sentinel-1 through a
WarpedVRT onto the patch grid (bilinear), VV and VH; then the three GeoTIFFs written.

Run with Debian's interpreter: /usr/bin/python3 baseline_rasterio_windowed.py <corpus> <catalog> <out>
"""
import json
import os
import sys
import time

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import from_bounds

corpus, catalog, out = sys.argv[1], sys.argv[2], sys.argv[3]
ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
samples = []
for part in sorted(os.listdir(os.path.join(corpus, "index"))):
    with open(os.path.join(corpus, "index", part)) as f:
        samples.extend(json.loads(line) for line in f if line.strip())
opened = {}


def dataset(path):
    if path not in opened:
        opened[path] = rasterio.open(path)
    return opened[path]


os.makedirs(out, exist_ok=True)
start = time.perf_counter()
with rasterio.Env(GDAL_CACHEMAX=256):
    for s in samples:
        gt = s["geo_transform"]
        transform = Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
        crs = f"EPSG:{s['epsg']}"
        bounds = (gt[0], gt[3] - 256 * gt[1], gt[0] + 256 * gt[1], gt[3])
        s2 = os.path.join(catalog, "sentinel-2-l2a", s["s2_scene_id"])
        s1 = os.path.join(catalog, "sentinel-1-rtc", s["s1_scene_id"])
        bands = {}
        for b in ORDER + ["SCL"]:
            src = dataset(os.path.join(s2, b + ".tif"))
            bands[b] = src.read(1, window=from_bounds(*bounds, transform=src.transform), out_shape=(256, 256),
                                resampling=Resampling.nearest if b == "SCL" else Resampling.bilinear)
        s1bands = []
        for b in ("vv", "vh"):
            with WarpedVRT(dataset(os.path.join(s1, b + ".tif")), crs=crs, transform=transform, width=256, height=256,
                           resampling=Resampling.bilinear, nodata=np.nan) as vrt:
                s1bands.append(vrt.read(1))
        folder = os.path.join(out, s["id"])
        os.makedirs(folder, exist_ok=True)
        profile = dict(driver="GTiff", width=256, height=256, crs=crs, transform=transform, tiled=True,
                       blockxsize=256, blockysize=256, compress="deflate")
        with rasterio.open(os.path.join(folder, "s2.tif"), "w", count=12, dtype="uint16", nodata=0, **profile) as d:
            d.write(np.stack([bands[b] for b in ORDER]))
        with rasterio.open(os.path.join(folder, "scl.tif"), "w", count=1, dtype="uint8", nodata=0, **profile) as d:
            d.write(bands["SCL"], 1)
        with rasterio.open(os.path.join(folder, "s1.tif"), "w", count=2, dtype="float32", nodata=np.nan, **profile) as d:
            d.write(np.stack(s1bands))
elapsed = time.perf_counter() - start
print(json.dumps({"samples": len(samples), "seconds": round(elapsed, 3), "samples_per_s": round(len(samples) / elapsed, 3)}))
