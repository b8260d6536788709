#!/usr/bin/env bash
# DeepSentinel build script for Debian 12 (the project's machines and CI).
#
#   ./build.sh          install what is missing, build, lay out the module in out/DeepSentinel
#   ./build.sh demo     the above, then run the main job in pwsh, offline, on the built-in demo data
#   ./build.sh test     the above, then run every test: xunit (Core) and Pester (the module in pwsh)
#
# Idempotent: system packages, PowerShell and Pester are installed only when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

ROOT=$(pwd)
OUT="$ROOT/out"
MODULE_OUT="$OUT/DeepSentinel"
CONFIGURATION=${CONFIGURATION:-Release}

# Debian packages the project needs at build, run or test time.
# libgdal32: raster I/O through GDAL's C API. gdal-bin, python3-rasterio, python3-gdal:
# independent readers the tests and benchmarks check our files with.
# nodejs: the storage emulators (Azurite, firebase-tools' GCS emulator) the tests start.
SYSTEM_PACKAGES=(ca-certificates libgdal32 gdal-bin python3-rasterio python3-gdal nodejs)
# Training engine (src/native): libtorch and a C++ toolchain to build it; Python torch and numpy
# to check its checkpoints and .npy files independently in tests and to run bench/.
SYSTEM_PACKAGES+=(libtorch-dev cmake make g++ python3-torch python3-numpy)
# scikit-learn: the independent computation the evaluation metrics are tested against.
SYSTEM_PACKAGES+=(python3-sklearn)
NATIVE_OUT="$OUT/native"
# Real PowerShell, pinned: the module is tested and its main job runs in it. The global tool lands
# in ~/.dotnet/tools; Pester comes from NuGet as a package download (tests/Module/Pester.proj).
POWERSHELL_VERSION=7.6.9
DOTNET_TOOLS="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"
export PATH="$PATH:$DOTNET_TOOLS"

log() { printf '\n==> %s\n' "$*"; }

install_system_packages() {
    local missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "Installing system packages: ${missing[*]}"
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    command -v dotnet >/dev/null || { echo "The .NET SDK (dotnet) is required and not on PATH." >&2; exit 1; }
}

install_powershell() {
    if [[ "$(pwsh -NoProfile -NoLogo -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null)" == "$POWERSHELL_VERSION" ]]; then
        return
    fi
    log "Installing PowerShell $POWERSHELL_VERSION (dotnet global tool)"
    if dotnet tool list --global | grep -qi '^powershell '; then
        dotnet tool update --global PowerShell --version "$POWERSHELL_VERSION" >/dev/null
    else
        dotnet tool install --global PowerShell --version "$POWERSHELL_VERSION" >/dev/null
    fi
    pwsh -NoProfile -NoLogo -Command '$PSVersionTable.PSVersion.ToString()' | grep -qx "$POWERSHELL_VERSION" \
        || { echo "pwsh $POWERSHELL_VERSION did not install into $DOTNET_TOOLS" >&2; exit 1; }
}

# The native training engine over libtorch, into out/native (Core copies the .so from there).
# LIBTORCH=/path/to/libtorch builds against another libtorch, e.g. a CUDA one.
# libtorch's headers are precompiled once (a file of about 600 MiB) unless the disk is short of
# room for it: then each file parses them itself, which makes the engine build several times slower.
# NATIVE_PCH=ON|OFF decides instead of the free space.
NATIVE_PCH_MIN_FREE_MIB=${NATIVE_PCH_MIN_FREE_MIB:-3072}
NATIVE_PCH_FILE="$NATIVE_OUT/CMakeFiles/deepsentinel_torch.dir/cmake_pch.hxx.gch"

free_mib() { df -Pm "$1" | awk 'NR==2 {print $4}'; }

configure_native() {
    local disable=OFF
    [[ $1 == OFF ]] && disable=ON
    cmake -S src/native -B "$NATIVE_OUT" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_PRECOMPILE_HEADERS=$disable \
        ${LIBTORCH:+-DLIBTORCH="$LIBTORCH"} >/dev/null
}

build_native() {
    mkdir -p "$NATIVE_OUT"
    local free pch=${NATIVE_PCH:-} why="NATIVE_PCH=OFF"
    free=$(free_mib "$NATIVE_OUT")
    if [[ -z $pch ]]; then
        pch=ON
        if [[ ! -f $NATIVE_PCH_FILE ]] && ((free < NATIVE_PCH_MIN_FREE_MIB)); then
            pch=OFF
            why="$free MiB free, under $NATIVE_PCH_MIN_FREE_MIB"
        fi
    fi
    if [[ $pch == ON ]]; then
        log "Building the native training engine in $NATIVE_OUT ($free MiB free)"
    else
        log "Building the native training engine in $NATIVE_OUT without precompiled headers ($why): slower, and 600 MiB less on disk"
        rm -f "$NATIVE_PCH_FILE"
    fi
    configure_native "$pch"
    if cmake --build "$NATIVE_OUT" -j "${NATIVE_JOBS:-2}"; then
        return
    fi
    # A disk that filled up while the headers were precompiled: once more without them.
    free=$(free_mib "$NATIVE_OUT")
    if [[ $pch == ON && -z ${NATIVE_PCH:-} ]] && ((free < NATIVE_PCH_MIN_FREE_MIB)); then
        log "The native build failed with $free MiB free: building again without precompiled headers"
        rm -f "$NATIVE_PCH_FILE"
        configure_native OFF
        cmake --build "$NATIVE_OUT" -j "${NATIVE_JOBS:-2}"
        return
    fi
    return 1
}

build() {
    build_native
    log "Building ($CONFIGURATION)"
    dotnet build DeepSentinel.sln -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly
    log "Laying out the module in $MODULE_OUT"
    rm -rf "$MODULE_OUT"
    mkdir -p "$MODULE_OUT/en-US"
    local bin="src/DeepSentinel.Cmdlets/bin/$CONFIGURATION/net8.0"
    # The module assembly, Core and their dependencies; never System.Management.Automation
    # (PowerShell provides it).
    find "$bin" -maxdepth 1 -name '*.dll' ! -name 'System.Management.Automation.dll' -exec cp {} "$MODULE_OUT/" \;
    cp "$bin"/DeepSentinel.*.xml "$MODULE_OUT/" 2>/dev/null || true
    cp "$bin"/*.so "$MODULE_OUT/" 2>/dev/null || true
    cp module/DeepSentinel.psd1 module/DeepSentinel.Format.ps1xml "$MODULE_OUT/"
    cp module/en-US/* "$MODULE_OUT/en-US/"
    log "Compiling cmdlet help (docs/en-US/*.md -> MAML)"
    pwsh -NoProfile -NonInteractive -File tools/help/Build-MamlHelp.ps1 -ModulePath "$MODULE_OUT"
}

demo() {
    log "Main job (pwsh, offline): demo catalog -> corpus -> CORINE + OSM labels -> pretraining -> embeddings"
    pwsh -NoProfile -NonInteractive -File examples/01-search-scenes.ps1 -ModulePath "$MODULE_OUT" -Catalog "$ROOT/examples/demo-catalog"
    pwsh -NoProfile -NonInteractive -File examples/02-build-demo-corpus.ps1 -ModulePath "$MODULE_OUT" -WorkFolder "$OUT/demo"
    pwsh -NoProfile -NonInteractive -File examples/03-label-corpus.ps1 -ModulePath "$MODULE_OUT" -WorkFolder "$OUT/demo"
    pwsh -NoProfile -NonInteractive -File examples/04-pretrain-and-embed.ps1 -ModulePath "$MODULE_OUT" -WorkFolder "$OUT/demo"
}

# Storage emulators the tests start on loopback (Azurite, the GCS emulator): npm packages pinned
# in tests/tools/package-lock.json. Reinstalled only when the lock file changes.
install_test_tools() {
    local tools="$ROOT/tests/tools"
    command -v npm >/dev/null || { log "Installing npm"; local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"; $sudo apt-get update -qq; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm; }
    if [[ -f "$tools/node_modules/.package-lock.json" ]] && cmp -s "$tools/package-lock.json" "$tools/node_modules/.deepsentinel-lock"; then
        return
    fi
    log "Installing test tools (npm ci in tests/tools)"
    # --ignore-scripts: the only install scripts are protobufjs's version check and the optional
    # re2 native build (firebase-tools hosting, unused by the storage emulator), minutes of C++.
    (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    cp "$tools/package-lock.json" "$tools/node_modules/.deepsentinel-lock"
}

install_pester() {
    dotnet restore tests/Module/Pester.proj -nologo -v quiet >/dev/null
}

run_tests() {
    log "Running all tests: xunit (Core, Cmdlets)"
    local results="$OUT/test-results"
    rm -rf "$results"
    mkdir -p "$results"
    local status=0
    dotnet test DeepSentinel.sln -c "$CONFIGURATION" --no-build -nologo \
        --logger "trx" --results-directory "$results" --logger "console;verbosity=minimal" || status=$?
    log "Running all tests: Pester (the module in pwsh $POWERSHELL_VERSION)"
    pwsh -NoProfile -NonInteractive -File tests/Module/Invoke-ModuleTests.ps1 -ModulePath "$MODULE_OUT" -ResultsFolder "$results" || status=$?
    # One summary line over xunit and Pester, in the plain form CI reads.
    /usr/bin/env python3 - "$results" <<'PY' || true
import sys, glob, json, os, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error")) + int(c.get("timeout")) + int(c.get("aborted"))
    skipped += int(c.get("notExecuted")) + int(c.get("inconclusive"))
pester = os.path.join(sys.argv[1], "pester-counts.json")
if os.path.exists(pester):
    c = json.load(open(pester))
    passed += c["passed"]; failed += c["failed"]; skipped += c["skipped"]
else:
    failed += 1  # Pester did not report: count the run itself as a failure
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
    return $status
}

case "${1:-build}" in
    build) install_system_packages; install_powershell; build ;;
    demo) install_system_packages; install_powershell; build; demo ;;
    test) install_system_packages; install_powershell; build; install_test_tools; install_pester; run_tests ;;
    *) echo "usage: $0 [build|demo|test]" >&2; exit 2 ;;
esac
