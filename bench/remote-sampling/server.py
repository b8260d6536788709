"""Loopback STAC API + COG server for the remote-sampling benchmark (bench/remote-sampling/run.sh).

Serves a static STAC catalog folder (as New-DemoCatalog / DeepSentinel.PatchBench write it) over
HTTP/1.1 with keep-alive:

- files under the folder, with single byte ranges (206) and HEAD, so GDAL's /vsicurl/ and
  rasterio read the COGs exactly as they read them from a cloud bucket;
- a STAC API: GET / (landing page), GET /collections, POST or GET /search (intersects, bbox,
  datetime, collections, limit; items' asset hrefs made absolute URLs of this server);
- GET /_stats (JSON: requests and bytes per kind: cog GET, cog HEAD, search, other) and
  POST /_reset (zeroes the counters), for the benchmark and the tests.

Every request waits --latency-ms before its response starts (a round trip to a cloud region), and
all response bodies together are sent no faster than --bandwidth-mbps (a token bucket shared by
all connections; 0 = no cap).

    python3 server.py <catalog-folder> [--port 0] [--latency-ms 30] [--bandwidth-mbps 0]

Prints "listening <port>" on stdout once it accepts connections.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ap = argparse.ArgumentParser()
ap.add_argument("root")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--latency-ms", type=float, default=30)
ap.add_argument("--bandwidth-mbps", type=float, default=0, help="megabits per second for all bodies together; 0 = no cap")
args = ap.parse_args()
ROOT = os.path.abspath(args.root)
LATENCY = args.latency_ms / 1000.0
RATE = args.bandwidth_mbps * 1e6 / 8  # bytes per second

lock = threading.Lock()
stats = {}
in_flight = [0, 0]  # now, peak


def count(kind, nbytes):
    with lock:
        s = stats.setdefault(kind, {"requests": 0, "bytes": 0})
        s["requests"] += 1
        s["bytes"] += nbytes


class Bucket:
    """Shared bandwidth cap: every chunk waits until the bucket has sent fewer bytes than RATE x t."""

    def __init__(self, rate):
        self.rate, self.next_free, self.gate = rate, time.monotonic(), threading.Lock()

    def take(self, n):
        if self.rate <= 0:
            return
        with self.gate:
            now = time.monotonic()
            start = max(now, self.next_free)
            self.next_free = start + n / self.rate
            wait = self.next_free - now
        if wait > 0:
            time.sleep(wait)


bucket = Bucket(RATE)


def parse_time(s):
    if s in ("..", "", None):
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def load_items():
    items = []
    for folder, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".json") or f in ("catalog.json", "collection.json"):
                continue
            path = os.path.join(folder, f)
            with open(path) as fh:
                try:
                    item = json.load(fh)
                except ValueError:
                    continue
            if item.get("type") != "Feature":
                continue
            rel = os.path.relpath(folder, ROOT).replace(os.sep, "/")
            for asset in item.get("assets", {}).values():
                href = asset.get("href", "")
                if not re.match(r"^[a-z]+://", href):
                    asset["href"] = rel + "/" + href[2:] if href.startswith("./") else rel + "/" + href
            props = item["properties"]
            item["_t"] = parse_time(props.get("datetime") or props.get("start_datetime"))
            items.append(item)
    return items


ITEMS = load_items()


def bbox_of(geometry):
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(geometry["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def point_in_ring(x, y, ring):
    inside = False
    for i in range(len(ring) - 1):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[i + 1][0], ring[i + 1][1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def intersects(item, query_geometry, query_bbox):
    ib = item.get("bbox") or bbox_of(item["geometry"])
    qb = query_bbox or bbox_of(query_geometry)
    if ib[0] > qb[2] or ib[2] < qb[0] or ib[1] > qb[3] or ib[3] < qb[1]:
        return False
    if query_geometry is not None and query_geometry["type"] == "Point" and item["geometry"]["type"] == "Polygon":
        x, y = query_geometry["coordinates"][:2]
        return point_in_ring(x, y, item["geometry"]["coordinates"][0])
    return True


def search(body, base):
    collections = body.get("collections")
    geometry = body.get("intersects")
    bbox = body.get("bbox")
    lo = hi = None
    if body.get("datetime"):
        parts = body["datetime"].split("/")
        lo, hi = parse_time(parts[0]), parse_time(parts[-1])
    limit = int(body.get("limit") or 100)
    out = []
    for item in ITEMS:
        if collections and item.get("collection") not in collections:
            continue
        if (lo is not None and item["_t"] < lo) or (hi is not None and item["_t"] > hi):
            continue
        if (geometry or bbox) and not intersects(item, geometry, bbox):
            continue
        copy = {k: v for k, v in item.items() if k != "_t"}
        copy["assets"] = {k: dict(v, href=v["href"] if re.match(r"^[a-z]+://", v["href"]) else base + "/" + v["href"]) for k, v in item["assets"].items()}
        copy["links"] = []
        out.append(copy)
        if len(out) >= limit:
            break
    return {"type": "FeatureCollection", "features": out, "numberReturned": len(out), "links": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def base(self):
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def send_body(self, status, data, content_type, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            for i in range(0, len(data), 65536):
                chunk = data[i:i + 65536]
                bucket.take(len(chunk))
                self.wfile.write(chunk)

    def json(self, obj, kind):
        data = json.dumps(obj).encode()
        count(kind, len(data))
        self.send_body(200, data, "application/json")

    def handle_one(self):
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            url = urlparse(self.path)
            if url.path == "/_stats":
                with lock:
                    body = dict(stats, peak_in_flight=in_flight[1])
                data = json.dumps(body).encode()
                return self.send_body(200, data, "application/json")
            if url.path == "/_reset":
                with lock:
                    stats.clear()
                    in_flight[1] = 0
                return self.send_body(200, b"{}", "application/json")
            time.sleep(LATENCY)
            if url.path in ("/", "/stac", "/stac/"):
                return self.json({"type": "Catalog", "id": "bench", "stac_version": "1.0.0", "description": "loopback STAC API",
                                  "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
                                  "links": [{"rel": "search", "href": self.base() + "/search", "type": "application/geo+json", "method": "POST"}]}, "other")
            if url.path == "/search":
                if self.command == "POST":
                    n = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(n) or b"{}")
                else:
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    body = {"datetime": q.get("datetime"), "limit": q.get("limit"),
                            "collections": q["collections"].split(",") if q.get("collections") else None,
                            "bbox": [float(v) for v in q["bbox"].split(",")] if q.get("bbox") else None,
                            "intersects": json.loads(q["intersects"]) if q.get("intersects") else None}
                return self.json(search(body, self.base()), "search")
            path = os.path.normpath(os.path.join(ROOT, url.path.lstrip("/")))
            if not path.startswith(ROOT) or not os.path.isfile(path):
                count("other", 0)
                return self.send_body(404, b"not found", "text/plain")
            size = os.path.getsize(path)
            kind = "cog" if path.endswith(".tif") else "file"
            rng = self.headers.get("Range")
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip()) if rng else None
            if self.command == "HEAD":
                count(kind + " HEAD", 0)
                return self._head(size)
            if m:
                a, b = m.group(1), m.group(2)
                start = int(a) if a else max(0, size - int(b))
                end = min(size - 1, int(b)) if a and b else size - 1
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read(end - start + 1)
                count(kind + " GET", len(data))
                return self.send_body(206, data, "image/tiff", {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"})
            with open(path, "rb") as f:
                data = f.read()
            count(kind + " GET", len(data))
            return self.send_body(200, data, "application/json" if path.endswith(".json") else "application/octet-stream", {"Accept-Ranges": "bytes"})
        finally:
            with lock:
                in_flight[0] -= 1

    def _head(self, size):
        self.send_response(200)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Content-Length", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    do_GET = do_POST = do_HEAD = handle_one


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


server = Server(("127.0.0.1", args.port), Handler)
print(f"listening {server.server_address[1]} items={len(ITEMS)}", flush=True)
server.serve_forever()
