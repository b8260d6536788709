#!/usr/bin/env bash
# A UNet segmentation fine-tuning step: the module (Core's SegmentationService, as
# Start-SegmentationTraining runs it: one batch of 256 x 256 patches, 14 bands, per-pixel weighted
# cross-entropy with unlabelled pixels ignored, AdamW over decoder + head and encoder) against the
# same step in Debian's python3-torch on the same library, at the same thread count.
#
#   bench/segmentation/run.sh [threads] [steps] [batch] [size] [width]   (defaults: all cores, 6, 8, 256, 32)
#
# Runs alternate (module, python; ROUNDS times, default 2) so that load from other work on the
# machine hits both alike. Reported: seconds per step of each run, the ratio within each round
# (python seconds / module seconds: above 1 the module is faster), peak memory, and the load average.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
THREADS=${1:-$(nproc)}
STEPS=${2:-6}
BATCH=${3:-8}
SIZE=${4:-256}
WIDTH=${5:-32}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[[ -f out/native/libdeepsentinel_torch.so ]] || ./build.sh
dotnet build bench/segmentation/DeepSentinel.SegmentationBench -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
BENCH=bench/segmentation/DeepSentinel.SegmentationBench/bin/Release/net10.0/DeepSentinel.SegmentationBench.dll

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
    dotnet "$BENCH" "$THREADS" "$STEPS" "$BATCH" "$SIZE" "$WIDTH" "$WORK/module" | tee -a "$WORK/results.jsonl"
    /usr/bin/python3 bench/segmentation/python_baseline.py "$THREADS" "$STEPS" "$BATCH" "$SIZE" "$WIDTH" | tee -a "$WORK/results.jsonl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
module = [r for r in rows if r["side"] == "module"]
python = [r for r in rows if r["side"] != "module"]
print(f"\n| side | seconds/step (best) | patches/s (best) | peak memory MB |")
print("|---|---:|---:|---:|")
for name, runs in (("module", module), (python[0]["side"], python)):
    best = min(runs, key=lambda r: r["seconds_per_step"])
    print(f"| {name} | {best['seconds_per_step']:.3f} | {best['patches_per_second']:.2f} | {max(r['peak_working_set_mb'] for r in runs)} |")
ratios = [p["seconds_per_step"] / m["seconds_per_step"] for m, p in zip(module, python)]
print(f"module speed / python speed per round: {', '.join(f'{r:.2f}x' for r in ratios)}; median {statistics.median(ratios):.2f}x")
print("module working set (MB) after warm-up -> end: " + ", ".join(f"{r['working_set_mb_after_warmup']} -> {r['working_set_mb_at_end']}" for r in module))
PY
