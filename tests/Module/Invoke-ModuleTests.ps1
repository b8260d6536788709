#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the module's Pester suites (tests/Module/*.Tests.ps1) against the laid-out module in
    out/DeepSentinel, in this real pwsh, and writes NUnit results and a count for build.sh.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' '..' 'out' 'DeepSentinel'),
    [string] $ResultsFolder = (Join-Path $PSScriptRoot '..' '..' 'out' 'test-results'),
    [string] $PesterVersion = '5.7.1',
    # Only these test files (names without .Tests.ps1), e.g. -Suite Labels.
    [string[]] $Suite
)

$ErrorActionPreference = 'Stop'
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget' 'packages' }
$pester = Join-Path $packages 'pester' $PesterVersion 'tools' 'Pester.psd1'
if (-not (Test-Path $pester)) { throw "Pester $PesterVersion is not restored at $pester (dotnet restore tests/Module/Pester.proj)." }
Import-Module $pester -RequiredVersion $PesterVersion

$env:DEEPSENTINEL_MODULE = (Resolve-Path $ModulePath).Path
$env:DEEPSENTINEL_TEST_FIXTURES = Join-Path ([IO.Path]::GetTempPath()) ('deepsentinel-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
# The suites' working folders (New-TestFolder): each file removes its own, and what a failure
# left behind goes with the run.
$env:DEEPSENTINEL_TEST_WORK = $env:DEEPSENTINEL_TEST_FIXTURES + '-work'
New-Item -ItemType Directory -Force $ResultsFolder | Out-Null
try {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Write-Host '==> Pester fixtures: demo catalog, labelled corpus, model'
    $null = Get-TestFixture

    $config = New-PesterConfiguration
    $config.Run.Path = if ($Suite) { $Suite | ForEach-Object { Join-Path $PSScriptRoot "$_.Tests.ps1" } } else { $PSScriptRoot }
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = Join-Path $ResultsFolder 'pester.xml'
    $result = Invoke-Pester -Configuration $config
    $counts = [ordered]@{ passed = $result.PassedCount; failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount; skipped = $result.SkippedCount + $result.NotRunCount }
    $counts | ConvertTo-Json | Set-Content (Join-Path $ResultsFolder 'pester-counts.json')
    "pester: $($counts.passed) passed, $($counts.failed) failed, $($counts.skipped) skipped"
    $exitCode = [int]($counts.failed -gt 0)
}
finally {
    Remove-Item -Recurse -Force $env:DEEPSENTINEL_TEST_FIXTURES -ErrorAction SilentlyContinue
    if (-not $env:DS_KEEP_TEST_FOLDERS) { Remove-Item -Recurse -Force $env:DEEPSENTINEL_TEST_WORK -ErrorAction SilentlyContinue }
}
exit $exitCode
