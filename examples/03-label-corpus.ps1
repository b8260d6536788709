#Requires -Version 7.4
<#
.SYNOPSIS
    Labels the demo corpus with CORINE Land Cover 2018 and OpenStreetMap, offline, from the
    label sources New-DemoCatalog writes beside its catalog.

.DESCRIPTION
    The demo's label sources are synthetic, drawn from the same landscape as its imagery: a CLC
    raster (level-3 codes, 100 m, EPSG:3035) and an .osm extract. With real data the pipeline is
    the same: give Add-CorineLabel the CLC 2018 GeoTIFF or GeoPackage, and Add-OsmLabel a
    Geofabrik .osm.pbf extract. Rerun it: labelled samples are passed on unchanged.

.EXAMPLE
    ./examples/03-label-corpus.ps1 -WorkFolder ./out/demo
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # The folder of 02-build-demo-corpus.ps1 (catalog/ and corpus/).
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'demo')
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath -Force

$demo = New-DemoCatalog (Join-Path $WorkFolder 'catalog')      # reused: written by 02-build-demo-corpus.ps1
$corpus = Join-Path $WorkFolder 'corpus'

'PS> Get-PatchSample $corpus | Add-CorineLabel $demo.ClcPath | Add-OsmLabel $demo.OsmPath'
$labelled = Get-PatchSample $corpus | Add-CorineLabel $demo.ClcPath | Add-OsmLabel $demo.OsmPath
'{0} samples labelled with: {1}' -f $labelled.Count, (($labelled.Labels.Keys | Sort-Object -Unique) -join ', ')

# What the corpus holds, by the CLC class that covers most of each patch.
Get-PatchSample $corpus |
    Group-Object DominantClc |
    Sort-Object Count -Descending |
    Select-Object @{ n = 'Samples'; e = { $_.Count } }, @{ n = 'CLC'; e = { $_.Name } }, @{ n = 'Class'; e = { $_.Group[0].DominantClcName } } |
    Format-Table -AutoSize | Out-String -Width 160

# The three most built-up patches by their OpenStreetMap building and road masks.
Get-PatchSample $corpus | ForEach-Object {
    $item = Get-Content -Raw $_.AssetLocation('item') | ConvertFrom-Json
    $osm = $item.properties.'deepsentinel:osm_shares'
    [pscustomobject]@{ Id = $_.Id; 'Built-up %' = [math]::Round(100 * $osm.built_up, 1); 'Roads %' = [math]::Round(100 * $osm.road, 1); 'Water %' = [math]::Round(100 * $osm.water, 1); CLC = $_.DominantClcName }
} | Sort-Object 'Built-up %' -Descending | Select-Object -First 3 | Format-Table -AutoSize | Out-String -Width 160
