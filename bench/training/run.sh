#!/usr/bin/env bash
# Pretraining and embedding throughput: the module (through Core's services, as the cmdlets run
# them) against Debian's python3-torch 1.13 on the same library, at the same thread count.
# ResNet-18, batch 32, 14 x 128 x 128, SimCLR step; embedding: forward pass of batches of 32.
#
#   bench/training/run.sh [threads] [train-steps] [embed-batches]     (defaults: all cores, 12, 12)
#
# Runs alternate (module, python, python channels-last; ROUNDS times, default 3) so that load from
# other work on the machine hits each side alike (MODULE_FORMATS="ChannelsLast" adds module runs in
# other memory formats). Reported: the best run of each side with the ratios, in images per
# wall-clock second and per CPU-second of the process, and the median over rounds of the ratio
# within each round (the module against the Python run right after it), which is the figure to
# trust on a machine whose speed drifts from minute to minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
THREADS=${1:-$(nproc)}
STEPS=${2:-12}
EMBED=${3:-12}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[[ -f out/native/libdeepsentinel_torch.so ]] || ./build.sh
dotnet build bench/training/DeepSentinel.TrainingBench -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
BENCH=bench/training/DeepSentinel.TrainingBench/bin/Release/net10.0/DeepSentinel.TrainingBench.dll

for ((round = 1; round <= ${ROUNDS:-3}; round++)); do
    dotnet "$BENCH" "$THREADS" "$STEPS" "$EMBED" "$WORK/module" | tee -a "$WORK/results.jsonl"
    for format in ${MODULE_FORMATS:-}; do
        dotnet "$BENCH" "$THREADS" "$STEPS" "$EMBED" "$WORK/module" "$format" | tee -a "$WORK/results.jsonl"
    done
    /usr/bin/python3 bench/training/python_baseline.py "$THREADS" "$STEPS" "$EMBED" | tee -a "$WORK/results.jsonl"
    /usr/bin/python3 bench/training/python_baseline.py "$THREADS" "$STEPS" "$EMBED" --channels-last | tee -a "$WORK/results.jsonl"
done

/usr/bin/python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
keys = ["train_images_per_second", "embed_images_per_second", "train_images_per_cpu_second", "embed_images_per_cpu_second"]
best = {}
for r in rows:
    b = best.setdefault(r["side"], dict.fromkeys(keys, 0.0))
    for k in keys:
        b[k] = max(b[k], r[k])
m = best["module"]
print("\n| side | pretraining images/s | embedding images/s | pretraining images/CPU-s | embedding images/CPU-s |")
print("|---|---:|---:|---:|---:|")
for side, b in best.items():
    print(f"| {side} | {b[keys[0]]:.1f} | {b[keys[1]]:.1f} | {b[keys[2]]:.2f} | {b[keys[3]]:.2f} |")
for side in [s for s in best if s != "module"]:
    o = best[side]
    print(f"module / {side}: pretraining {m[keys[0]] / o[keys[0]]:.2f}x wall, {m[keys[2]] / o[keys[2]]:.2f}x CPU; "
          f"embedding {m[keys[1]] / o[keys[1]]:.2f}x wall, {m[keys[3]] / o[keys[3]]:.2f}x CPU")
# Paired ratios: within each round, the module run against the same round's run of each other side.
import statistics
rounds, current = [], {}
for r in rows:
    if r["side"] == "module" and current:
        rounds.append(current)
        current = {}
    current[r["side"]] = r
rounds.append(current)
for side in [s for s in best if s != "module"]:
    pairs = [(c["module"], c[side]) for c in rounds if "module" in c and side in c]
    parts = []
    for k, label in zip(keys, ["pretraining wall", "embedding wall", "pretraining CPU", "embedding CPU"]):
        ratios = sorted(m[k] / o[k] for m, o in pairs)
        parts.append(f"{label} {statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})")
    print(f"module / {side}, median of {len(pairs)} paired rounds (range): " + "; ".join(parts))
mem = [r for r in rows if r["side"] == "module"]
print("module working set (MB) after warm-up -> end: " + ", ".join(f"{r['working_set_mb_after_warmup']} -> {r['working_set_mb_at_end']}" for r in mem))
PY
