#Requires -Version 7.4
<#
.SYNOPSIS
    Scene lookup from a STAC-GeoParquet item table against the static catalog holding the same
    Items (the baseline), for the same query, in one invocation.

.DESCRIPTION
    Writes -Items copies of the real Planetary Computer Sentinel-2 item in shared/data (ids, dates,
    footprints spread over Europe and a year; every property and asset kept) as a static catalog
    (one JSON file per Item, as stac-geoparquet's users start from) and as an item table written by
    hyparquet-writer (tests/tools/write-item-table.mjs, row groups of 1000 in time order). Then runs
    Get-SentinelScene with the same query (two months, a 15 x 15 degree box, cloud <= 30 %) against
    both, -Repeat times each, alternating, and reports the median seconds, the ratio and the load
    average. Needs the built module (out/DeepSentinel) and tests/tools/node_modules.

    pwsh -NoProfile -File bench/scene-table/run.ps1 [-Items 5000] [-Repeat 3]
#>
param([int] $Items = 5000, [int] $Repeat = 3, [string] $Work = (Join-Path ([IO.Path]::GetTempPath()) 'deepsentinel-scene-table-bench'))
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).ProviderPath
Import-Module (Join-Path $repo 'out' 'DeepSentinel') -Force
if (Test-Path $Work) { Remove-Item $Work -Recurse -Force }
$catalog = Join-Path $Work 'catalog'
$collectionDir = Join-Path $catalog 'sentinel-2-l2a'
New-Item -ItemType Directory -Force $collectionDir | Out-Null

$template = Get-Content -Raw (Join-Path $repo '..' 'shared' 'data' 'stac-examples' 'planetary-computer.sentinel-2-l2a.item.json')
$random = [Random]::new(16)
$start = [datetime]::new(2023, 1, 1, 10, 30, 0, [DateTimeKind]::Utc)
$links = [Collections.Generic.List[object]]::new()
$all = [Collections.Generic.List[object]]::new()
for ($i = 0; $i -lt $Items; $i++) {
    $item = $template | ConvertFrom-Json -Depth 64 -DateKind String
    $when = $start.AddMinutes([Math]::Floor($i * 525600 / $Items))
    $west = -10 + $random.NextDouble() * 35; $south = 36 + $random.NextDouble() * 30
    $item.id = 'S2B_MSIL2A_{0:yyyyMMddTHHmmss}_{1:000000}' -f $when, $i
    $item.properties.datetime = $when.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'")
    $item.properties.'eo:cloud_cover' = [Math]::Round($random.NextDouble() * 100, 2)
    $east = $west + 1.4; $north = $south + 1.0
    $item.bbox = @($west, $south, $east, $north)
    $item.geometry = [ordered]@{ type = 'Polygon'; coordinates = @(, @(@($west, $south), @($east, $south), @($east, $north), @($west, $north), @($west, $south))) }
    $item.links = @()
    $all.Add($item)
    ConvertTo-Json $item -Depth 64 -Compress | Set-Content (Join-Path $collectionDir "$($item.id).json")
    $links.Add(@{ rel = 'item'; href = "./$($item.id).json" })
}
@{ type = 'Collection'; id = 'sentinel-2-l2a'; stac_version = '1.0.0'; description = 'bench'; license = 'proprietary'; extent = @{}; links = $links } | ConvertTo-Json -Depth 5 -Compress | Set-Content (Join-Path $collectionDir 'collection.json')
@{ type = 'Catalog'; id = 'bench'; stac_version = '1.0.0'; description = 'bench'; links = @(@{ rel = 'child'; href = './sentinel-2-l2a/collection.json' }) } | ConvertTo-Json -Depth 5 -Compress | Set-Content (Join-Path $catalog 'catalog.json')
$json = Join-Path $Work 'items.json'
ConvertTo-Json @($all) -Depth 64 -Compress | Set-Content $json
$table = Join-Path $Work 'items.parquet'
& node (Join-Path $repo 'tests' 'tools' 'write-item-table.mjs') $json $table --row-group-size 1000 --lists-as-json | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'write-item-table.mjs failed' }

$query = @{ BoundingBox = 0, 40, 15, 55; Start = '2023-06-01'; End = '2023-07-31'; MaxCloudCover = 30 }
$catalogTimes = @(); $tableTimes = @(); $counts = @{}
for ($r = 0; $r -lt $Repeat; $r++) {
    $t = [Diagnostics.Stopwatch]::StartNew(); $a = @(Get-SentinelScene -Catalog $catalog @query -WarningAction SilentlyContinue); $catalogTimes += $t.Elapsed.TotalSeconds
    $t = [Diagnostics.Stopwatch]::StartNew(); $b = @(Get-SentinelScene -ItemTable $table @query -NoSign); $tableTimes += $t.Elapsed.TotalSeconds
    $counts.Catalog = $a.Count; $counts.Table = $b.Count
    if ($a.Count -eq 0 -or (Compare-Object @($a.Id | Sort-Object) @($b.Id | Sort-Object))) { throw 'The table and the catalog gave different (or no) scenes.' }
}
$median = { param($v) ($v | Sort-Object)[[int][Math]::Floor($v.Count / 2)] }
$c = & $median $catalogTimes; $s = & $median $tableTimes
'items={0} scenes={1} catalog_s={2:F3} table_s={3:F3} speedup={4:F1}x table_bytes={5} load_average={6}' -f $Items, $counts.Table, $c, $s, ($c / $s), (Get-Item $table).Length, (Get-Content /proc/loadavg).Split(' ')[0]
