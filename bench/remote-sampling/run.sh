#!/usr/bin/env bash
# Remote-sampling benchmark (issue 16): DeepSentinel's corpus builder reading COGs over HTTP from
# a loopback STAC API + COG server that adds latency to every request and caps the bandwidth,
# against a skilled Python user's baseline (rasterio windowed reads, a WarpedVRT for S1, GDAL's
# HTTP settings tuned, a STAC search per point), in one invocation, at 1, 2 and 8 requests in
# flight per core. Reports samples/s, ratios, COG requests per sample (counted at the server, and
# by DeepSentinel itself), the fewest the COG layout allows, peak memory at N and 2N, two shard
# processes against one, and the load average.
#
#   bench/remote-sampling/run.sh [samples] [latency-ms] [bandwidth-mbps]     (default 30 30 400)
#
# Data (kept out of git, reused when present): one 10980 x 10980 px Sentinel-2 tile (2 scenes;
# 512 px tiles, DEFLATE, overviews) and 2 Sentinel-1 scenes on their EPSG:4326 grid, in $WORK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
N=${1:-30}
LATENCY=${2:-30}
BANDWIDTH=${3:-400}
WORK=${BENCH_WORK:-/tmp/deepsentinel-remote-bench}
CORES=$(nproc)
mkdir -p "$WORK"
dotnet build bench/patch-sampling/DeepSentinel.PatchBench -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
RUNNER="dotnet bench/patch-sampling/DeepSentinel.PatchBench/bin/Release/net10.0/DeepSentinel.PatchBench.dll"
PY=/usr/bin/python3
START=2019-08-01T00:00:00Z
END=2019-08-12T00:00:00Z

echo "== catalog: 1 tile of 10980 x 10980 px (10 m), 2 S2 + 2 S1 scenes (reused when present)"
$RUNNER catalog "$WORK/catalog" 10980 1 2 2

$PY bench/remote-sampling/server.py "$WORK/catalog" --latency-ms "$LATENCY" --bandwidth-mbps "$BANDWIDTH" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/server.log" 2>/dev/null && break; sleep 0.2; done
PORT=$(awk '/listening/ {print $2}' "$WORK/server.log")
URL="http://127.0.0.1:$PORT"
echo "== server $URL: ${LATENCY} ms a request, ${BANDWIDTH} Mbit/s shared; $CORES cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

stats() { curl -s "$URL/_stats"; }
# The server's own CPU seconds so far (it shares the cores with the client under test).
srvcpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' /proc/$SERVER/stat; }
reset() { curl -s -X POST "$URL/_reset" >/dev/null; }
module() { # name count io [throttle: default the cores; 0 = DeepSentinel's own default]
    reset
    local line c0
    c0=$(srvcpu)
    line=$($RUNNER corpus "$URL/catalog.json" "$WORK/$1" "$2" 11 "${4:-$CORES}" "$START" "$END" "$3" 2>&1 >/dev/null | grep '^done')
    echo "$1 $line server=$(stats) srvcpu=$(echo "$(srvcpu) - $c0" | bc)"
}
RESULTS="$WORK/results.txt"
: > "$RESULTS"
for C in 1 2 8; do
    rm -rf "$WORK/module-$C"
    module "module-$C" "$N" "$C" | tee -a "$RESULTS"
    rm -rf "$WORK/baseline-$C"
    reset
    C0=$(srvcpu)
    B=$($PY bench/remote-sampling/baseline_remote.py "$WORK/module-1" "$URL" "$WORK/baseline-$C" $((CORES * C)))
    echo "baseline-$C $B server=$(stats) load=$(cut -d' ' -f1 /proc/loadavg) srvcpu=$(echo "$(srvcpu) - $C0" | bc)" | tee -a "$RESULTS"
done
# DeepSentinel as a user runs it: no -ThrottleLimit (4 workers a core over HTTP), -IoConcurrency 8.
rm -rf "$WORK/module-default"
module "module-default" "$N" 8 0 | tee -a "$RESULTS"
rm -rf "$WORK/module-8-2x"
module "module-8-2x" $((N * 2)) 8 | tee -a "$RESULTS"

echo "== two shard processes into one corpus, at the same time (8 in flight per core each)"
rm -rf "$WORK/shards"
reset
T0=$(date +%s.%N)
PIDS=()
for S in 0 1; do
    ($RUNNER corpus "$URL/catalog.json" "$WORK/shards" $((N * 2)) 11 "$CORES" "$START" "$END" 8 "$S" 2 2>&1 >/dev/null | grep '^done' > "$WORK/shard-$S.txt") &
    PIDS+=($!)
done
wait "${PIDS[@]}"
T1=$(date +%s.%N)
echo "shards $(cat "$WORK/shard-0.txt") | $(cat "$WORK/shard-1.txt") wall=$(echo "$T1 - $T0" | bc) server=$(stats)" | tee -a "$RESULTS"
MIN=$($PY bench/remote-sampling/min_requests.py "$WORK/module-1" "$WORK/catalog")
echo "minimum $MIN" | tee -a "$RESULTS"
$PY bench/remote-sampling/report.py "$RESULTS" "$CORES" "$BANDWIDTH"
