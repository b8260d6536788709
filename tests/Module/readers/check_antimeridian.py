"""Independent check of a corpus and its scene catalog near the antimeridian (GDAL/OGR, rasterio).

For every STAC Item (the catalog's scenes and the corpus's samples): the geometry is valid for OGR,
a footprint that crosses 180 degrees is a MultiPolygon split there with no part wider than 180
degrees, and the bbox follows RFC 7946 (west > east exactly when it crosses). For every sample,
the S1 patch equals rasterio's own bilinear warp of the source scene onto the patch grid.
Prints one JSON line of counts; exits 1 with the reason on the first failure.
"""
import glob, json, os, sys
import numpy as np
import rasterio
from rasterio.warp import reproject, Resampling
from osgeo import ogr

catalog, corpus = sys.argv[1], sys.argv[2]

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

def check_item(path):
    item = json.load(open(path))
    geom = ogr.CreateGeometryFromJson(json.dumps(item["geometry"]))
    if geom is None or not geom.IsValid():
        fail(f"{path}: geometry not valid for OGR")
    w, s, e, n = item["bbox"]
    parts = [geom.GetGeometryRef(i) for i in range(geom.GetGeometryCount())] if geom.GetGeometryName() == "MULTIPOLYGON" else [geom]
    for p in parts:
        minx, maxx, _, _ = p.GetEnvelope()
        if maxx - minx > 180 or minx < -180 or maxx > 180:
            fail(f"{path}: a polygon spans {minx}..{maxx}: not split at the antimeridian")
    crosses = len(parts) == 2 and any(abs(p.GetEnvelope()[1] - 180) < 1e-9 for p in parts) and any(abs(p.GetEnvelope()[0] + 180) < 1e-9 for p in parts)
    if crosses != (w > e):
        fail(f"{path}: bbox {item['bbox']} and geometry disagree on crossing the antimeridian")
    if crosses:
        east_part = [p for p in parts if abs(p.GetEnvelope()[1] - 180) < 1e-9][0]
        west_part = [p for p in parts if abs(p.GetEnvelope()[0] + 180) < 1e-9][0]
        if abs(east_part.GetEnvelope()[0] - w) > 1e-6 or abs(west_part.GetEnvelope()[1] - e) > 1e-6:
            fail(f"{path}: bbox {item['bbox']} is not the footprint's")
    return item, crosses

scenes = crossing_scenes = 0
for path in glob.glob(os.path.join(catalog, "sentinel-*", "*", "*.json")):
    _, c = check_item(path)
    scenes += 1
    crossing_scenes += c

samples = crossing_samples = 0
worst = 0.0
for path in sorted(glob.glob(os.path.join(corpus, "samples", "*", "item.json"))):
    item, c = check_item(path)
    samples += 1
    crossing_samples += c
    lon, lat = item["properties"]["deepsentinel:point"]
    w, s, e, n = item["bbox"]
    inside = (w <= lon <= e) if w <= e else (lon >= w or lon <= e)
    if not inside or not s <= lat <= n:
        fail(f"{path}: the sampling point {lon}, {lat} is outside the bbox {item['bbox']}")
    folder = os.path.dirname(path)
    with rasterio.open(os.path.join(folder, "s1.tif")) as ours:
        vv = ours.read(1)
        # A local source is named by its file beside the scene's Item, the scene by its id.
        source = os.path.join(catalog, "sentinel-1-rtc", item["properties"]["deepsentinel:s1_scene"], item["properties"]["deepsentinel:source_assets"]["VV"])
        with rasterio.open(source) as src:
            ref = np.full(vv.shape, np.nan, np.float32)
            reproject(src.read(1), ref, src_transform=src.transform, src_crs=src.crs, dst_transform=ours.transform, dst_crs=ours.crs,
                      resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
    valid = ~np.isnan(ref)
    if valid.mean() < 0.99 or np.isnan(vv).mean() > 0.0:
        fail(f"{path}: S1 has {np.isnan(vv).mean():.3f} nodata, rasterio's warp {1 - valid.mean():.3f}")
    rel = np.abs(vv[valid] - ref[valid]) / ref[valid]
    worst = max(worst, float(rel.mean()))
    if rel.mean() > 0.02:
        fail(f"{path}: S1 differs from rasterio's warp by {rel.mean():.4f} on average")
print(json.dumps({"scenes": scenes, "crossing_scenes": crossing_scenes, "samples": samples, "crossing_samples": crossing_samples, "worst_mean_rel_diff": round(worst, 5)}))
