"""Turns bench/remote-sampling/run.sh's results into the README's table."""
import json
import re
import sys

lines = open(sys.argv[1]).read().splitlines()
cores = int(sys.argv[2])
rows = {}
for line in lines:
    name, rest = line.split(" ", 1)
    rest, _, srvcpu = rest.partition(" srvcpu=")
    server = json.loads(rest.split("server=", 1)[1].split(" load=")[0].split(" wall=")[0]) if "server=" in rest else {}
    if name == "minimum":
        rows[name] = json.loads(rest)
        continue
    if name == "shards":
        parts = dict(re.findall(r"(\w+)=([\d.]+)", rest.split(" server=")[0]))
        # The shard that merges yields the whole corpus (both shards' samples): the corpus size.
        samples = max(int(x) for x in re.findall(r"samples=(\d+)", rest))
        rows[name] = {"samples": samples, "seconds": float(re.search(r"wall=([\d.]+)", rest).group(1)), "server": server}
        continue
    if name.startswith("baseline"):
        b = json.loads(rest.split(" server=")[0])
        rows[name] = {"samples": b["samples"], "seconds": b["seconds"], "steady": b.get("steady_per_s"), "cpu": b.get("cpu_s"), "server": server, "load": rest.rsplit("load=", 1)[1],
                      "srvcpu": float(srvcpu) if srvcpu else None}
    else:
        m = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest.split(" server=")[0])}
        rows[name] = {"samples": int(m["samples"]), "seconds": m["seconds"], "steady": m.get("steady_per_s"), "peak_kb": m["peak_kb"], "gets": m["cog_gets"], "heads": m["cog_heads"],
                      "bytes": m["cog_bytes"], "points": m["points"], "server": server,
                      "cpu": m.get("cpu_s"), "srvcpu": float(srvcpu) if srvcpu else None}


def cog_requests(r):
    s = r["server"]
    return s.get("cog GET", {}).get("requests", 0) + s.get("cog HEAD", {}).get("requests", 0)


def rate(r):
    return r["samples"] / r["seconds"]


def steady(r):
    return r.get("steady") or float("nan")


print("| in flight per core | run | samples | samples/s | ratio | samples/s after the first quarter | ratio | client CPU-s / sample | server CPU-s / sample | COG requests / sample (server) | counted by DeepSentinel | STAC searches / sample | MiB / sample | peak memory |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in (1, 2, 8):
    m, b = rows[f"module-{c}"], rows[f"baseline-{c}"]
    for label, r in ((f"baseline ({cores * c} threads)", b), (f"DeepSentinel ({cores} workers x {c})", m)):
        n = r["samples"]
        s = r["server"]
        searches = s.get("search", {}).get("requests", 0)
        mib = s.get("cog GET", {}).get("bytes", 0) / 1048576 / n
        own = f"{(r['gets'] + r['heads']) / n:.1f}" if "gets" in r else ""
        peak = f"{r['peak_kb'] / 1024:.0f} MiB" if "peak_kb" in r else ""
        ratio = f"{rate(m) / rate(b):.2f}x" if r is m else ""
        sratio = f"{steady(m) / steady(b):.2f}x" if r is m else ""
        cpu = f"{r['cpu'] / n:.3f}" if r.get("cpu") is not None else ""
        srv = f"{r['srvcpu'] / n:.3f}" if r.get("srvcpu") is not None else ""
        print(f"| {c} | {label} | {n} | {rate(r):.2f} | {ratio} | {steady(r):.2f} | {sratio} | {cpu} | {srv} | {cog_requests(r) / n:.1f} | {own} | {searches / n:.1f} | {mib:.2f} | {peak} |")
if "module-default" in rows:
    d = rows["module-default"]
    n = d["samples"]
    print(f"| 8 | DeepSentinel's defaults ({4 * cores} workers x 8) | {n} | {rate(d):.2f} | | {steady(d):.2f} | | {d['cpu'] / n:.3f} | {d['srvcpu'] / n:.3f} | {cog_requests(d) / n:.1f} | {(d['gets'] + d['heads']) / n:.1f} | 0.0 | {d['server'].get('cog GET', {}).get('bytes', 0) / 1048576 / n:.2f} | {d['peak_kb'] / 1024:.0f} MiB |")
m2 = rows["module-8-2x"]
print(f"| 8 | DeepSentinel, twice the samples | {m2['samples']} | {rate(m2):.2f} | | {steady(m2):.2f} | | {m2['cpu'] / m2['samples']:.3f} | | {cog_requests(m2) / m2['samples']:.1f} | {(m2['gets'] + m2['heads']) / m2['samples']:.1f} | | | {m2['peak_kb'] / 1024:.0f} MiB |")
sh = rows["shards"]
print()
best_b = max(rate(rows[f"baseline-{c}"]) for c in (1, 2, 8))
best_m = max(rate(rows[f"module-{c}"]) for c in (1, 2, 8))
mn = rows["minimum"]
# DeepSentinel as a user runs it (no -ThrottleLimit: 4 workers a core over HTTP; -IoConcurrency 8)
# against each baseline.
default = rows.get("module-default", rows["module-8"])
for c in (1, 2, 8):
    b = rows[f"baseline-{c}"]
    print(f"DeepSentinel's defaults / baseline with {cores * c} threads: {rate(default) / rate(b):.2f}x, "
          f"{steady(default) / steady(b):.2f}x after the first quarter")
# No client can beat the bandwidth cap: bytes a sample over the link's rate.
mib = rows["module-8"]["server"].get("cog GET", {}).get("bytes", 0) / rows["module-8"]["samples"]
if len(sys.argv) > 3:
    cap = float(sys.argv[3]) * 1e6 / 8 / mib
    print(f"bandwidth bound: {float(sys.argv[3]):.0f} Mbit/s / {mib / 1048576:.2f} MiB a sample = {cap:.2f} samples/s, "
          f"{cap / rate(rows['baseline-1']):.2f}x the {cores}-thread baseline")
print(f"best DeepSentinel / best baseline: {best_m / best_b:.2f}x; ratio at 8 per core: {rate(rows['module-8']) / rate(rows['baseline-8']):.2f}x")
print(f"fewest COG requests the layout allows: {mn['min_requests_per_sample']} a sample ({mn['tiles_per_sample']} tiles touched); "
      f"DeepSentinel at 8 per core: {cog_requests(rows['module-8']) / rows['module-8']['samples'] / mn['min_requests_per_sample']:.2f}x of it (rejected points' reads and headers included)")
print(f"peak memory at 2N / N: {m2['peak_kb'] / rows['module-8']['peak_kb']:.2f}x")
print(f"two shard processes: {sh['samples']} samples in {sh['seconds']:.1f} s = {sh['samples'] / sh['seconds']:.2f} samples/s, "
      f"{sh['samples'] / sh['seconds'] / rate(rows['module-8']):.2f}x one process (goal >= 1.6x until the server saturates)")
