#!/usr/bin/python3
"""GDAL reading corpus patches straight from the cloud (/vsiaz/, /vsigs/) vs decoding bytes the
storage layer fetched whole. Run with Debian's python3-gdal (/usr/bin/python3).

  gdal_vs_ranges.py make <folder> <count>                      writes <count> GeoTIFF patches
  gdal_vs_ranges.py read <folder> <azurite-endpoint> <gcs-endpoint> <parallel>   times the reads
"""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def make(folder, count):
    """256 x 256 px, 12 bands Int16, tiled 256, DEFLATE: a Sentinel-2 patch as New-PatchSample writes it."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(20261121)
    driver = gdal.GetDriverByName("GTiff")
    y, x = np.mgrid[0:256, 0:256]
    for i in range(count):
        path = os.path.join(folder, f"p{i:04d}.tif")
        ds = driver.Create(path, 256, 256, 12, gdal.GDT_Int16, ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "PREDICTOR=2"])
        ds.SetGeoTransform([500000 + i * 2560, 10, 0, 5400000, 0, -10])
        for b in range(12):
            field = 1500 + 800 * np.sin((x + i * 7) / (20 + b)) * np.cos((y - b * 5) / 31) + rng.normal(0, 60, (256, 256))
            ds.GetRasterBand(b + 1).WriteArray(field.astype(np.int16))
        ds = None


def read_all(path):
    ds = gdal.Open(path)
    data = ds.ReadRaster()
    assert len(data) == 256 * 256 * 12 * 2, path
    ds = None


def timed(paths, parallel):
    start = time.perf_counter()
    if parallel == 1:
        for p in paths:
            read_all(p)
    else:
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(read_all, paths))
    return (time.perf_counter() - start) * 1000 / len(paths)


def decode_from_memory(files, parallel):
    """The storage layer's path after its one GET: GDAL decodes bytes already in memory (/vsimem/)."""
    blobs = [(f"/vsimem/{os.path.basename(f)}", open(f, "rb").read()) for f in files]
    for name, data in blobs:
        gdal.FileFromMemBuffer(name, data)
    result = timed([n for n, _ in blobs], parallel)
    for name, _ in blobs:
        gdal.Unlink(name)
    return result


def set_options(options):
    for key, value in options.items():
        gdal.SetConfigOption(key, value)


def count_requests(path):
    """HTTP requests GDAL sends to open one patch and read all its pixels (curl verbose lines)."""
    import subprocess
    env = dict(os.environ, CPL_CURL_VERBOSE="YES")
    out = subprocess.run(["gdal_translate", "-q", "-of", "MEM", path, "/dev/null"], env=env, capture_output=True, text=True).stderr
    return sum(1 for line in out.splitlines() if line.startswith("> GET") or line.startswith("> HEAD"))


def read(folder, azurite, gcs, parallel):
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".tif"))
    names = [os.path.basename(f) for f in files]
    azure_conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};BlobEndpoint={azurite.rstrip('/')};"
    os.environ["AZURE_STORAGE_CONNECTION_STRING"] = azure_conn
    set_options({"AZURE_STORAGE_CONNECTION_STRING": azure_conn, "CPL_GS_ENDPOINT": gcs.rstrip("/") + "/", "GS_NO_SIGN_REQUEST": "YES"})
    os.environ["CPL_GS_ENDPOINT"] = gcs.rstrip("/") + "/"
    os.environ["GS_NO_SIGN_REQUEST"] = "YES"
    tuned = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif", "GDAL_HTTP_MULTIRANGE": "YES", "GDAL_INGESTED_BYTES_AT_OPEN": "65536"}
    rows = []
    local = {p: decode_from_memory(files, p) for p in (1, parallel)}
    rows.append(("decode only, bytes in memory (baseline)", local[1], local[parallel], "-"))
    for store, prefix in (("Azurite", "/vsiaz/gdalbench/patches/"), ("GCS emulator", "/vsigs/gdalbench/patches/")):
        paths = [prefix + n for n in names]
        for label, opts in (("defaults", {}), ("tuned", tuned)):
            set_options({k: None for k in tuned})
            set_options(opts)
            gdal.VSICurlClearCache()
            for k, v in tuned.items():
                os.environ.pop(k, None)
            os.environ.update(opts)
            seq = timed(paths, 1)
            gdal.VSICurlClearCache()
            par = timed(paths, parallel)
            rows.append((f"GDAL {prefix.split('/')[1]} on {store}, {label}", seq, par, count_requests(paths[0])))
    print(f"| path | sequential | parallel x{parallel} | HTTP requests per patch |")
    print("|---|---|---|---|")
    for label, seq, par, requests in rows:
        print(f"| {label} | {seq:.2f} ms/patch | {par:.2f} ms/patch | {requests} |")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        read(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
