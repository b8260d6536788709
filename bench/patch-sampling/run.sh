#!/usr/bin/env bash
# Patch-sampling benchmark: DeepSentinel's corpus builder against the straightforward baseline
# (a bilinear warp per band per patch with rasterio), on a synthetic catalog whose scenes are at
# least 5000 x 5000 px, in one invocation. Reports samples/s, the ratio, scaling to 2 workers,
# and peak memory at two corpus sizes.
#
#   bench/patch-sampling/run.sh [samples]        (default 120)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
N=${1:-120}
WORK=${BENCH_WORK:-/tmp/deepsentinel-bench}
mkdir -p "$WORK"
CONFIGURATION=Release ./build.sh build >/dev/null
RUNNER="dotnet bench/patch-sampling/DeepSentinel.PatchBench/bin/Release/net10.0/DeepSentinel.PatchBench.dll"
START=2019-08-01T00:00:00Z
END=2019-08-12T00:00:00Z

echo "== catalog: 1 tile of 5490 x 5490 px (10 m), 2 S2 + 2 S1 scenes (reused when present)"
$RUNNER catalog "$WORK/catalog" 5490 1 2 2
/usr/bin/env gdalinfo "$(find "$WORK/catalog/sentinel-2-l2a" -name B04.tif | head -1)" | grep -E "^Size" | sed 's/^/   S2 B04 /'
/usr/bin/env gdalinfo "$(find "$WORK/catalog/sentinel-1-rtc" -name vv.tif | head -1)" | grep -E "^Size" | sed 's/^/   S1 VV  /'

run() { # name count throttle
    rm -rf "$WORK/$1"
    $RUNNER corpus "$WORK/catalog" "$WORK/$1" "$2" 11 "$3" "$START" "$END" 2>&1 >/dev/null | grep '^done' | sed "s/^/   $1: /"
}

echo "== DeepSentinel"
M1=$(run module-1w "$N" 1)
echo "$M1"
M2=$(run module-2w "$N" 2)
echo "$M2"
M1B=$(run module-1w-2x "$((N * 2))" 1)
echo "$M1B"

echo "== baseline: rasterio bilinear warp per band, same samples, same grids"
B=$(/usr/bin/python3 bench/patch-sampling/baseline_rasterio.py "$WORK/module-1w" "$WORK/catalog" "$WORK/baseline")
echo "   $B"
echo "== stronger baseline: rasterio windowed reads for S2 (no warp), a WarpedVRT for S1, files kept open"
W=$(/usr/bin/python3 bench/patch-sampling/baseline_rasterio_windowed.py "$WORK/module-1w" "$WORK/catalog" "$WORK/baseline-windowed")
echo "   $W   load $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$M1" "$M2" "$M1B" "$B" "$W" <<'PY'
import json, re, sys
def parse(line):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
m1, m2, m1b, b, w = parse(sys.argv[1]), parse(sys.argv[2]), parse(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
r1 = m1["samples"] / m1["seconds"]; r2 = m2["samples"] / m2["seconds"]; rb = b["samples_per_s"]
print()
print("| run | samples | samples/s | peak memory |")
print("|---|---:|---:|---:|")
print(f"| baseline (rasterio bilinear warp per band, 1 process) | {b['samples']} | {rb:.2f} | |")
print(f"| stronger baseline (rasterio windowed S2, WarpedVRT S1, 1 process) | {w['samples']} | {w['samples_per_s']:.2f} | |")
print(f"| DeepSentinel, 1 worker | {int(m1['samples'])} | {r1:.2f} | {m1['peak_kb']/1024:.0f} MiB |")
print(f"| DeepSentinel, 2 workers | {int(m2['samples'])} | {r2:.2f} | {m2['peak_kb']/1024:.0f} MiB |")
print(f"| DeepSentinel, 1 worker, twice the samples | {int(m1b['samples'])} | {m1b['samples']/m1b['seconds']:.2f} | {m1b['peak_kb']/1024:.0f} MiB |")
print()
print(f"speed-up over the stronger baseline, 1 worker: {r1/w['samples_per_s']:.2f}x")
print(f"speed-up over baseline, 1 worker: {r1/rb:.2f}x; scaling 1 -> 2 workers: {r2/r1:.2f}x; peak memory at 2N vs N: {m1b['peak_kb']/m1['peak_kb']:.2f}x")
PY
