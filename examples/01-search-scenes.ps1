#Requires -Version 7.4
<#
.SYNOPSIS
    Finds Sentinel-2 scenes with little cloud, and Sentinel-1 VV+VH scenes, over the Paris
    region in August 2019 - offline, in the demo catalog that ships with the module.

.DESCRIPTION
    The same pipeline works against a live STAC API: drop -Catalog (Planetary Computer is the
    default provider) or give -Provider EarthSearch / CopernicusDataSpace / -StacUrl.

.EXAMPLE
    ./examples/01-search-scenes.ps1
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # The catalog to search.
    [string] $Catalog = (Join-Path $PSScriptRoot 'demo-catalog')
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$area = @{ BoundingBox = 1.5, 48.4, 3.5, 49.5; Start = '2019-08-01'; End = '2019-08-31' }

# Sentinel-2 with at most 30 % cloud, newest first.
$optical = Get-SentinelScene -Catalog $Catalog @area -Mission S2 -MaxCloudCover 30
$optical | Sort-Object Datetime -Descending | Format-Table | Out-String -Width 120

# Sentinel-1 that acquired both VV and VH, grouped by pass direction.
$radar = Get-SentinelScene -Catalog $Catalog @area -Mission S1 -Polarization VV, VH
$radar | Group-Object OrbitState | Format-Table Count, Name | Out-String

# For every optical scene, the radar scenes acquired within 3 days of it.
foreach ($s2 in $optical) {
    $nearby = $radar | Where-Object { [math]::Abs(($_.Datetime - $s2.Datetime).TotalDays) -le 3 }
    '{0}  {1} S1 scene(s) within 3 days' -f $s2.Id, @($nearby).Count
}
