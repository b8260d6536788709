#Requires -Version 7.4
<#
.SYNOPSIS
    The main job, offline: writes a synthetic Sentinel-1 + Sentinel-2 catalog of COGs, builds a
    corpus of matched 256 x 256 px patches from it, and reads the corpus back.

.DESCRIPTION
    Rerun it: the catalog is reused and the corpus is already complete, so nothing is rewritten.
    Interrupt it with Ctrl+C and rerun: the corpus is completed without duplicates.

.EXAMPLE
    ./examples/02-build-demo-corpus.ps1 -WorkFolder ./out/demo
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # Where the catalog and the corpus go.
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'demo'),
    # Samples to build.
    [int] $Count = 16
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$catalog = Join-Path $WorkFolder 'catalog'
$corpus = Join-Path $WorkFolder 'corpus'

New-DemoCatalog $catalog | Format-Table

New-PatchSample $corpus -Catalog $catalog -Start 2019-08-01 -End 2019-08-20 -Count $Count -Seed 1 |
    Format-Table

'{0} samples in the corpus' -f (Get-PatchSample $corpus | Measure-Object).Count

# The five clearest patches, and where their files are.
Get-PatchSample $corpus |
    Sort-Object CloudFraction |
    Select-Object -First 5 Id, DaysApart, @{ n = 'S2'; e = { $_.AssetLocation('s2') } } |
    Format-Table -AutoSize | Out-String -Width 160
