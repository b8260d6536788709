#!/usr/bin/env bash
# Fine-tuning step throughput: the module's classifier step (the engine path Start-FineTuning
# runs) against Debian's python3-torch on the same library, at the same thread count.
# ResNet-18 classifier, batch 32, 13 x 64 x 64, 10 classes, whole network trained, flips/turns.
#
#   bench/finetune/run.sh [threads] [steps]     (defaults: all cores, 20)
#
# Runs alternate (module, python; ROUNDS times, default 3) so that load from other work on the
# machine hits both sides alike. Reported: the best run of each side with the ratio, in images
# per wall-clock second and per CPU-second of the process; the median over rounds of the ratio
# within each round (the figure to trust on a shared machine); the resident memory over the
# measured steps (first -> last, max, peak) of each run; and the load average before and after.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
THREADS=${1:-$(nproc)}
STEPS=${2:-20}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[[ -f out/native/libdeepsentinel_torch.so ]] || ./build.sh
dotnet build bench/finetune/DeepSentinel.FineTuneBench -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
BENCH=bench/finetune/DeepSentinel.FineTuneBench/bin/Release/net10.0/DeepSentinel.FineTuneBench.dll

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; threads $THREADS; $STEPS steps"
for ((round = 1; round <= ${ROUNDS:-3}; round++)); do
    dotnet "$BENCH" "$THREADS" "$STEPS" ${BENCH_ARGS:-} | tee -a "$WORK/results.jsonl"
    /usr/bin/python3 bench/finetune/python_baseline.py "$THREADS" "$STEPS" ${BENCH_ARGS:-} | tee -a "$WORK/results.jsonl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
keys = ["images_per_second", "images_per_cpu_second"]
best = {}
for r in rows:
    b = best.setdefault(r["side"], dict.fromkeys(keys, 0.0))
    for k in keys:
        b[k] = max(b[k], r[k])
print("\n| side | fine-tuning images/s | images/CPU-s |")
print("|---|---:|---:|")
for side, b in best.items():
    print(f"| {side} | {b[keys[0]]:.1f} | {b[keys[1]]:.2f} |")
m, p = best["module"], best["python"]
print(f"module / python (best runs): {m[keys[0]] / p[keys[0]]:.2f}x wall, {m[keys[1]] / p[keys[1]]:.2f}x CPU")
pairs = [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2) if rows[i]["side"] == "module" and rows[i + 1]["side"] == "python"]
for k, label in zip(keys, ["wall", "CPU"]):
    ratios = sorted(a[k] / b[k] for a, b in pairs)
    print(f"module / python, median of {len(pairs)} paired rounds ({label}): {statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})")
for r in rows:
    print(f"{r['side']}: resident MB over the measured steps {r['rss_mb_first']} -> {r['rss_mb_last']} (max {r['rss_mb_max']}, process peak {r['peak_rss_mb']})")
PY
