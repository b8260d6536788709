#!/usr/bin/env bash
# The corpus table (items.parquet) at corpus sizes a test never reaches: bytes per sample, rows/s and
# the peak memory of one process per size, against the ndjson index of the same samples written in
# the same process (the baseline). Flat memory across sizes means the writer streams.
#
#   bench/corpus-table/run.sh [rows ...]          (default: 20000 200000 600000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SIZES=("${@:-20000 200000 600000}")
WORK=${BENCH_WORK:-/tmp/deepsentinel-table-bench}
dotnet build bench/corpus-table/DeepSentinel.TableBench -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
RUNNER="dotnet bench/corpus-table/DeepSentinel.TableBench/bin/Release/net10.0/DeepSentinel.TableBench.dll"
# GDAL (the WGS 84 footprints) from Debian, as the module loads it.
for n in ${SIZES[*]}; do
    echo "$($RUNNER "$n" "$WORK") load_average=$(cut -d' ' -f1 /proc/loadavg)"
done
