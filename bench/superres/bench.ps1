# Driven by run.sh; prints one JSON line per measurement and a summary.
param([string] $Work, [int] $Threads, [int] $Steps2, [int] $Steps6, [int] $Rounds = 2,
    # Memory: only the module's inference over a window and over the whole scene, each in a child
    # pwsh of its own (so its peak is the inference's, not the training's), on the models in $Work.
    [switch] $MemoryOnly)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $PSScriptRoot '..' '..' 'out' 'DeepSentinel')
$demo = New-DemoCatalog (Join-Path $Work 'catalog')
$scenes = Get-SentinelScene -Catalog $demo.CatalogPath -Mission S2 | Sort-Object Datetime
$tiles = $scenes | Group-Object MgrsTile | Sort-Object Name
$train = $tiles[0].Group
# The held-out scene: the other tile's clearest.
$test = $tiles[1].Group | Sort-Object CloudCover | Select-Object -First 1
"train: $($train.Id -join ', ')"
"test:  $($test.Id) (cloud $($test.CloudCover) %)"

$models = @{}
$module = Join-Path $PSScriptRoot '..' '..' 'out' 'DeepSentinel'
function Measure-InChild([string] $Box, [string] $Name) {
    $code = "`$ProgressPreference = 'SilentlyContinue'; Import-Module '$module'; `$s = Get-SentinelScene -Catalog '$($demo.CatalogPath)' -Mission S2 | Where-Object Id -eq '$($test.Id)'; " +
        "`$r = `$s | Invoke-SuperResolution '$(Join-Path $Work 'dsen2-2x')' $Box -OutFile '$(Join-Path $Work "$Name.tif")' -IntraOpThreads $Threads -Force; " +
        "[ordered]@{ kind = 'memory'; window = ""`$(`$r.Width)x`$(`$r.Height)""; seconds = [math]::Round(`$r.Seconds, 2); mp_per_s = [math]::Round(`$r.MegapixelsPerSecond, 4); peak_mb = [math]::Round([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB) } | ConvertTo-Json -Compress"
    & pwsh -NoProfile -NonInteractive -Command $code
}
if ($MemoryOnly) {
    $b = $test.BoundingBox
    Measure-InChild "-BoundingBox $($b.West + 0.02), $($b.South + 0.02), $($b.West + 0.094), $($b.South + 0.069)" 'memory-window'
    Measure-InChild '' 'memory-whole'
    return
}
foreach ($f in @(@{ Factor = 2; Steps = $Steps2 }, @{ Factor = 6; Steps = $Steps6 })) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $m = $train | Start-SuperResolutionTraining (Join-Path $Work "dsen2-$($f.Factor)x") -Factor $f.Factor -Steps $f.Steps -BatchSize 4 -PatchSize 48 -IntraOpThreads $Threads -CheckpointInterval 100000
    $models[$f.Factor] = $m
    [ordered]@{ kind = 'train'; factor = $f.Factor; steps = $m.Steps; batch = 4; patch = 48; seconds = [math]::Round($clock.Elapsed.TotalSeconds, 1); loss = $m.Loss; parameters = $m.Card.Parameters } | ConvertTo-Json -Compress
    $rows = $test | Measure-SuperResolution $m -IntraOpThreads $Threads -QuicklookPath (Join-Path $Work "quicklook-$($f.Factor)x.png")
    foreach ($r in $rows) {
        [ordered]@{ kind = 'metric'; factor = $f.Factor; method = "$($r.Method)"; band = $r.Band; rmse = [math]::Round($r.Rmse, 2); sre = [math]::Round($r.Sre, 2); sam = [math]::Round($r.Sam, 3); pixels = $r.Pixels } | ConvertTo-Json -Compress
    }
}

# Inference: a 540 x 540 px window (plus the context the module reads around it), then the whole scene.
$b = $test.BoundingBox
$box = ($b.West + 0.02), ($b.South + 0.02), ($b.West + 0.094), ($b.South + 0.069)
$python = Join-Path $PSScriptRoot 'python_baseline.py'
$folder = Split-Path $test.FindBand('B04').Href.LocalPath
for ($round = 1; $round -le $Rounds; $round++) {
    $file = Join-Path $Work "sr-$round.tif"
    $r = $test | Invoke-SuperResolution $models[2] -BoundingBox $box -OutFile $file -IntraOpThreads $Threads -Force
    $peak = [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
    [ordered]@{ kind = 'infer'; side = 'module'; round = $round; window = "$($r.Width)x$($r.Height)"; seconds = [math]::Round($r.Seconds, 2); mp_per_s = [math]::Round($r.MegapixelsPerSecond, 4); peak_mb = [math]::Round($peak / 1MB) } | ConvertTo-Json -Compress
    # The same tiles (the module's plan: 384 px cores, 18 px context) over the same padded window.
    & /usr/bin/python3 $python $models[2].CheckpointPath $folder $file $Threads 384 18
}
# Peak memory of inference alone, over a window and over the whole scene (one child pwsh each).
$b = $test.BoundingBox
Measure-InChild "-BoundingBox $($b.West + 0.02), $($b.South + 0.02), $($b.West + 0.094), $($b.South + 0.069)" 'memory-window'
Measure-InChild '' 'memory-whole'
