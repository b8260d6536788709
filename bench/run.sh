#!/usr/bin/env bash
# Storage benchmark: starts Azurite and the GCS emulator on 127.0.0.1 (from tests/tools), runs
# the .NET benchmark (corpus throughput, whole-patch fetches) and the GDAL comparison, writes
# bench/results/storage.md, and stops the emulators it started.
#   bench/run.sh [samples=1000] [parallel=8] [patches=200]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAMPLES=${1:-1000}; PARALLEL=${2:-8}; PATCHES=${3:-200}
TOOLS=tests/tools
WORK=$(mktemp -d /tmp/ds-bench.XXXXXX)
mkdir -p bench/results
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_for_url() { # file pattern
    for _ in $(seq 1 180); do
        if grep -qE "$2" "$1" 2>/dev/null; then grep -oE 'http://127\.0\.0\.1:[0-9]+' "$1" | head -1; return; fi
        sleep 0.5
    done
    echo "emulator did not start: $(cat "$1")" >&2; exit 1
}

TMPDIR=$WORK node "$TOOLS/node_modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 --blobPort 0 --inMemoryPersistence --silent --disableTelemetry --skipApiVersionCheck >"$WORK/azurite.log" 2>&1 </dev/null &
pids+=($!)
TMPDIR=$WORK node "$TOOLS/gcs-emulator.js" 0 >"$WORK/gcs.log" 2>&1 </dev/null &
pids+=($!)
AZURITE="$(wait_for_url "$WORK/azurite.log" 'successfully listens')/devstoreaccount1"
GCS=$(wait_for_url "$WORK/gcs.log" 'listening on')

/usr/bin/python3 bench/gdal_vs_ranges.py make "$WORK/patches" "$PATCHES"
dotnet build bench/DeepSentinel.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet bench/DeepSentinel.Bench/bin/Release/net10.0/DeepSentinel.Bench.dll "$AZURITE" "$GCS" "$WORK/patches" "$SAMPLES" "$PARALLEL" "$WORK/dotnet.md"
/usr/bin/python3 bench/gdal_vs_ranges.py read "$WORK/patches" "$AZURITE" "$GCS" "$PARALLEL" > "$WORK/gdal.md"
{ echo "# Storage benchmark, $(date -u +%Y-%m-%d), $(nproc) cores"; echo; cat "$WORK/dotnet.md"; echo; echo "GDAL reading the same patches (open + read all 12 bands):"; echo; cat "$WORK/gdal.md"; } | tee bench/results/storage.md
