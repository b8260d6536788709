"""The fewest COG requests the layout allows for a corpus's samples (bench/remote-sampling/run.sh).

For each sample of the corpus index: in each of the 15 files it reads (12 bands, SCL, VV, VH), the
tiles its patch touches, where the tiles of one tile row, stored one after another in a COG, are
one range (what GDAL_HTTP_MERGE_CONSECUTIVE_RANGES fetches in one request); headers are taken as
cached (read once per file, not per sample). Sentinel-1 is read over the patch's bounding box in
the scene's own grid. Prints JSON: samples, tiles_per_sample, min_requests_per_sample.

    /usr/bin/python3 min_requests.py <corpus> <catalog-folder>
"""
import json
import math
import os
import sys

import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds

corpus, catalog = sys.argv[1], sys.argv[2]
ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12", "SCL"]
samples = []
for part in sorted(os.listdir(os.path.join(corpus, "index"))):
    with open(os.path.join(corpus, "index", part)) as f:
        samples.extend(json.loads(line) for line in f if line.strip())
meta = {}


def layout(path):
    if path not in meta:
        with rasterio.open(path) as src:
            meta[path] = (src.transform, src.block_shapes[0], src.width, src.height, src.crs)
    return meta[path]


def touched(path, bounds, crs):
    transform, (bh, bw), width, height, src_crs = layout(path)
    if str(src_crs) != crs:
        bounds = transform_bounds(crs, src_crs, *bounds)
    w = from_bounds(*bounds, transform=transform)
    c0, c1 = max(0, math.floor(w.col_off)), min(width, math.ceil(w.col_off + w.width))
    r0, r1 = max(0, math.floor(w.row_off)), min(height, math.ceil(w.row_off + w.height))
    rows = (r1 - 1) // bh - r0 // bh + 1
    cols = (c1 - 1) // bw - c0 // bw + 1
    return rows * cols, rows


tiles = requests = 0
for s in samples:
    gt = s["geo_transform"]
    bounds = (gt[0], gt[3] - 2560, gt[0] + 2560, gt[3])
    crs = f"EPSG:{s['epsg']}"
    s2 = os.path.join(catalog, "sentinel-2-l2a", s["s2_scene_id"])
    s1 = os.path.join(catalog, "sentinel-1-rtc", s["s1_scene_id"])
    for path in [os.path.join(s2, b + ".tif") for b in ORDER] + [os.path.join(s1, b + ".tif") for b in ("vv", "vh")]:
        t, r = touched(path, bounds, crs)
        tiles += t
        requests += r
n = max(1, len(samples))
print(json.dumps({"samples": len(samples), "tiles_per_sample": round(tiles / n, 2), "min_requests_per_sample": round(requests / n, 2)}))
