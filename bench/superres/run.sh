#!/usr/bin/env bash
# Super-resolution on the demo catalog's scenes: DSen2 trained by Wald's protocol at 2x and 6x on
# the scenes of one tile and measured at reduced scale on a scene of the other tile (RMSE, SRE,
# SAM against bicubic and bilinear, in the same run); training time; and inference throughput of
# the module (Invoke-SuperResolution, tiled) against the same network in python3-torch on the same
# tiles at the same thread count (rounds alternate, so load from other work hits both alike), with
# peak memory over a window and over the whole scene.
#
#   bench/superres/run.sh [threads] [steps-2x] [steps-6x]     (defaults: all cores, 80, 80)
#   WORK=<folder of a previous run> MEMORY_ONLY=1 bench/superres/run.sh [threads]   (peak memory only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
THREADS=${1:-$(nproc)}
STEPS2=${2:-80}
STEPS6=${3:-80}
WORK=${WORK:-$(mktemp -d)}
export PATH="$PATH:${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"
[[ -d out/DeepSentinel ]] || ./build.sh
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
pwsh -NoProfile -NonInteractive -File bench/superres/bench.ps1 -Work "$WORK" -Threads "$THREADS" -Steps2 "$STEPS2" -Steps6 "$STEPS6" -Rounds "${ROUNDS:-2}" ${MEMORY_ONLY:+-MemoryOnly}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
