"""Baseline for the remote-sampling benchmark: the same job as a skilled Python user writes it.

For every sample of a corpus DeepSentinel built from the loopback server (its index gives the
points and the scenes it matched), with N threads (concurrent samples):
- a STAC search per point for Sentinel-2 (POST /search, the point, the sample's 12-day window), the
  scene DeepSentinel matched taken from the results;
- rasterio windowed reads of the 12 bands and SCL on the S2 tile grid (no warp; 20 m and 60 m
  bands read with out_shape and bilinear resampling, SCL nearest);
- a STAC search for Sentinel-1 within 3 days, and VV, VH through a WarpedVRT onto the patch grid;
- the three GeoTIFFs written locally.
GDAL's HTTP settings are tuned as the GDAL docs advise for COGs: no directory listing, .tif only,
merged consecutive ranges, multiplexing, VSI cache, GDAL's block cache.

    /usr/bin/python3 baseline_remote.py <corpus> <server-url> <out> <threads>

Prints JSON: samples, seconds, samples_per_s, steady_per_s (the samples after the first quarter
over their time), cpu_s (the process's user + system CPU seconds over the
samples, imports and setup excluded).
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

ENV = dict(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", CPL_VSIL_CURL_ALLOWED_EXTENSIONS=".tif",
           GDAL_HTTP_MERGE_CONSECUTIVE_RANGES="YES", GDAL_HTTP_MULTIPLEX="YES", VSI_CACHE="TRUE",
           VSI_CACHE_SIZE=str(64 * 1024 * 1024), GDAL_CACHEMAX="256", GDAL_HTTP_MAX_RETRY="3",
           CPL_VSIL_CURL_CACHE_SIZE=str(128 * 1024 * 1024))
# Process-wide, before GDAL loads: rasterio.Env entered in several threads at once deadlocked here.
os.environ.update(ENV)

import numpy as np
import rasterio
import requests
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import from_bounds

corpus, server, out, threads = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], int(sys.argv[4])
ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
samples = []
for part in sorted(os.listdir(os.path.join(corpus, "index"))):
    with open(os.path.join(corpus, "index", part)) as f:
        samples.extend(json.loads(line) for line in f if line.strip())

local = __import__("threading").local()


def session():
    if not hasattr(local, "s"):
        local.s = requests.Session()
    return local.s


def search(collection, lon, lat, start, end):
    body = {"collections": [collection], "intersects": {"type": "Point", "coordinates": [lon, lat]},
            "datetime": f"{start.isoformat()}/{end.isoformat()}", "limit": 50}
    r = session().post(server + "/search", json=body, timeout=60)
    r.raise_for_status()
    return r.json()["features"]


def when(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def one(s):
    gt = s["geo_transform"]
    transform = Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
    crs = f"EPSG:{s['epsg']}"
    bounds = (gt[0], gt[3] - 2560, gt[0] + 2560, gt[3])
    t2 = when(s["s2_datetime"])
    items = search("sentinel-2-l2a", s["longitude"], s["latitude"], t2 - timedelta(days=6), t2 + timedelta(days=6))
    s2 = next(i for i in items if i["id"] == s["s2_scene_id"])
    bands = {}
    if True:
        for b in ORDER + ["SCL"]:
            with rasterio.open(s2["assets"][b]["href"]) as src:
                window = from_bounds(*bounds, transform=src.transform)
                bands[b] = src.read(1, window=window, out_shape=(256, 256),
                                    resampling=Resampling.nearest if b == "SCL" else Resampling.bilinear)
        items = search("sentinel-1-rtc", s["longitude"], s["latitude"], t2 - timedelta(days=3), t2 + timedelta(days=3))
        s1 = next(i for i in items if i["id"] == s["s1_scene_id"])
        s1bands = []
        for key in ("vv", "vh"):
            asset = s1["assets"].get(key) or s1["assets"][key.upper()]
            with rasterio.open(asset["href"]) as src, WarpedVRT(src, crs=crs, transform=transform, width=256, height=256,
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
    done.append(time.perf_counter())


os.makedirs(out, exist_ok=True)
resource = __import__("resource")
before = resource.getrusage(resource.RUSAGE_SELF)
done = []
start = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(one, samples))
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
# The steady rate, as DeepSentinel's bench reports it: samples after the first quarter over their time.
done.sort()
skip = len(done) // 4
steady = (len(done) - skip) / (done[-1] - done[skip - 1]) if skip > 0 and len(done) - skip >= 2 else float("nan")
print(json.dumps({"samples": len(samples), "seconds": round(elapsed, 3), "samples_per_s": round(len(samples) / elapsed, 3),
                  "steady_per_s": round(steady, 3),
                  "cpu_s": round(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, 3)}))
