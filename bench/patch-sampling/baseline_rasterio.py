"""Baseline for the patch-sampling benchmark: the straightforward way to build the same patches.

For every sample of a corpus built by DeepSentinel, reproject each band group of the same source
scenes onto the same 256 x 256, 10 m grid with a bilinear warp (rasterio.warp.reproject, i.e.
GDAL's warper): the 10 m, 20 m and 60 m Sentinel-2 groups, SCL (nearest) and Sentinel-1 VV/VH;
then write the three GeoTIFFs. Prints JSON with the samples/s of the loop.

Run with Debian's interpreter: /usr/bin/python3 baseline_rasterio.py <corpus> <catalog> <out>
"""
import json
import os
import sys
import time

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.warp import reproject

corpus, catalog, out = sys.argv[1], sys.argv[2], sys.argv[3]
GROUPS = [("B02", "B03", "B04", "B08"), ("B05", "B06", "B07", "B8A", "B11", "B12"), ("B01", "B09")]
ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]

samples = []
for part in sorted(os.listdir(os.path.join(corpus, "index"))):
    with open(os.path.join(corpus, "index", part)) as f:
        samples.extend(json.loads(line) for line in f if line.strip())


def scene_folder(collection, scene_id):
    return os.path.join(catalog, collection, scene_id)


def warp(path, transform, crs, dtype, resampling):
    dst = np.zeros((256, 256), dtype=dtype)
    with rasterio.open(path) as src:
        reproject(rasterio.band(src, 1), dst, dst_transform=transform, dst_crs=crs, resampling=resampling,
                  src_nodata=src.nodata, dst_nodata=0 if dtype != "float32" else np.nan)
    return dst


os.makedirs(out, exist_ok=True)
start = time.perf_counter()
for s in samples:
    gt = s["geo_transform"]
    transform = Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
    crs = f"EPSG:{s['epsg']}"
    s2 = scene_folder("sentinel-2-l2a", s["s2_scene_id"])
    s1 = scene_folder("sentinel-1-rtc", s["s1_scene_id"])
    bands = {}
    for group in GROUPS:  # one bilinear warp per band of each group
        for b in group:
            bands[b] = warp(os.path.join(s2, b + ".tif"), transform, crs, "uint16", Resampling.bilinear)
    scl = warp(os.path.join(s2, "SCL.tif"), transform, crs, "uint8", Resampling.nearest)
    vv = warp(os.path.join(s1, "vv.tif"), transform, crs, "float32", Resampling.bilinear)
    vh = warp(os.path.join(s1, "vh.tif"), transform, crs, "float32", Resampling.bilinear)
    folder = os.path.join(out, s["id"])
    os.makedirs(folder, exist_ok=True)
    profile = dict(driver="GTiff", width=256, height=256, crs=crs, transform=transform, tiled=True,
                   blockxsize=256, blockysize=256, compress="deflate")
    with rasterio.open(os.path.join(folder, "s2.tif"), "w", count=12, dtype="uint16", nodata=0, **profile) as d:
        d.write(np.stack([bands[b] for b in ORDER]))
    with rasterio.open(os.path.join(folder, "scl.tif"), "w", count=1, dtype="uint8", nodata=0, **profile) as d:
        d.write(scl, 1)
    with rasterio.open(os.path.join(folder, "s1.tif"), "w", count=2, dtype="float32", nodata=np.nan, **profile) as d:
        d.write(np.stack([vv, vh]))
elapsed = time.perf_counter() - start
print(json.dumps({"samples": len(samples), "seconds": round(elapsed, 3), "samples_per_s": round(len(samples) / elapsed, 3)}))
