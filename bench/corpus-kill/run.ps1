#Requires -Version 7.4
<#
.SYNOPSIS
    The kill-and-rerun loop at a larger count than the Pester Corpus suite runs: builds a corpus
    with -ThrottleLimit 8 in a child pwsh, SIGKILLs it at a random moment (stratified over 0-110 %
    of an uninterrupted build, so the last moments are hit), reruns it, and compares every file
    with the uninterrupted corpus built first in the same invocation (the baseline). Prints one
    line per try and a summary with the load average; writes the rows as JSON with -OutFile.

    pwsh bench/corpus-kill/run.ps1 [-Tries 12] [-Count 16] [-OutFile bench/results/corpus-kill.json]
#>
param(
    [int] $Tries = 12,
    [int] $Count = 16,
    [int] $ThrottleLimit = 8,
    [int] $RandomSeed = 1,
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' '..' 'out' 'DeepSentinel'),
    [string] $OutFile
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' '..' 'tests' 'Module' 'TestSupport.psm1') -Force
$env:DEEPSENTINEL_MODULE = (Resolve-Path $ModulePath).Path
$fixture = Get-TestFixture
$load = { (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3 }
$before = & $load
$rows = @(Invoke-KillAndRerun -Catalog $fixture.Demo -Count $Count -ThrottleLimit $ThrottleLimit -Tries $Tries -RandomSeed $RandomSeed)
$after = & $load
foreach ($r in $rows) {
    '{0,3}  kill at {1,6} ms of {2} ms  killed={3,-5}  different={4} missing={5} extra={6}' -f $r.Try, $r.DelayMs, $r.BuildMs, $r.Killed, $r.Different.Count, $r.Missing.Count, $r.Extra.Count
}
$bad = @($rows | Where-Object { $_.RerunExit -ne 0 -or $_.Different.Count -or $_.Missing.Count -or $_.Extra.Count })
"tries: $($rows.Count), killed mid-build: $(@($rows | Where-Object Killed).Count), identical to the uninterrupted corpus: $($rows.Count - $bad.Count), load average before $($before -join ' ') after $($after -join ' ')"
if ($OutFile) { $rows | Select-Object * -ExcludeProperty Folder | ConvertTo-Json -Depth 4 | Set-Content $OutFile }
exit [int]($bad.Count -gt 0)
