# Shared helpers of the module's Pester suites: where the module and the shared fixtures are,
# temporary folders, and child pwsh processes for cases that may hang or crash.
Set-StrictMode -Version Latest

$script:Repository = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path

function Get-ModulePath {
    if ($env:DEEPSENTINEL_MODULE) { return $env:DEEPSENTINEL_MODULE }
    Join-Path $script:Repository 'out' 'DeepSentinel'
}

# The pwsh of this run: as a dotnet global tool the process is `dotnet`, so take the apphost
# beside $PSHOME, or the pwsh on PATH.
function Get-PwshPath {
    $beside = Join-Path $PSHOME 'pwsh'
    if (Test-Path $beside) { return $beside }
    (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
}

<#
.SYNOPSIS
    The shared read-only fixtures (demo catalog with its CLC and OSM sources, a labelled
    16-sample corpus, a small model), made once per test run by Invoke-ModuleTests.ps1 or, when a
    suite runs alone, here on first use.
#>
function Get-TestFixture {
    $root = $env:DEEPSENTINEL_TEST_FIXTURES
    if (-not $root) {
        $root = Join-Path ([IO.Path]::GetTempPath()) 'deepsentinel-pester-fixtures'
        $env:DEEPSENTINEL_TEST_FIXTURES = $root
    }
    if (-not (Test-Path (Join-Path $root 'ready'))) {
        New-TestFixture -Root $root
    }
    [pscustomobject]@{
        Root    = $root
        Demo    = Join-Path $root 'demo'
        Clc     = Join-Path $root 'demo' 'labels' 'clc2018.tif'
        Osm     = Join-Path $root 'demo' 'labels' 'osm.osm'
        Corpus  = Join-Path $root 'corpus'
        Model   = Join-Path $root 'model'
    }
}

function New-TestFixture([string] $Root) {
    Import-Module (Get-ModulePath)
    $ProgressPreference = 'SilentlyContinue'
    New-Item -ItemType Directory -Force $Root | Out-Null
    $demo = New-DemoCatalog (Join-Path $Root 'demo')
    $corpus = Join-Path $Root 'corpus'
    New-PatchSample $corpus -Catalog (Join-Path $Root 'demo') -Start 2019-08-01 -End 2019-08-20 -Count 16 -Seed 1 | Out-Null
    Get-PatchSample $corpus | Add-CorineLabel $demo.ClcPath | Add-OsmLabel $demo.OsmPath | Out-Null
    Get-PatchSample $corpus | Start-Pretraining (Join-Path $Root 'model') -Epochs 1 -BatchSize 8 -EmbeddingDimension 16 | Out-Null
    Set-Content (Join-Path $Root 'ready') 'ok'
}

# A writable copy of the shared corpus, for tests that label, damage or extend it.
function Copy-TestCorpus {
    $folder = New-TestFolder
    Copy-Item -Recurse (Get-TestFixture).Corpus (Join-Path $folder 'corpus')
    Join-Path $folder 'corpus'
}

# The folders New-TestFolder made for the test file that imported this module (each imports it
# afresh), for Remove-TestFolder.
$script:TestFolders = [Collections.Generic.List[string]]::new()

<#
.SYNOPSIS
    A new empty working folder: under the run's work folder when Invoke-ModuleTests.ps1 runs the
    suites (removed when the run ends), else under the system's temporary folder.
#>
function New-TestFolder([string] $Prefix = 'ds-pester-') {
    $parent = if ($env:DEEPSENTINEL_TEST_WORK) { $env:DEEPSENTINEL_TEST_WORK } else { [IO.Path]::GetTempPath() }
    $path = Join-Path $parent ($Prefix + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $path | Out-Null
    $script:TestFolders.Add($path)
    $path
}

<#
.SYNOPSIS
    Removes the folders New-TestFolder made for this test file (its AfterAll calls it), so that a
    whole run's corpora, models and copies never pile up on the disk at once; -Path removes one
    now. DS_KEEP_TEST_FOLDERS=1 keeps them, to look at after a failure.
#>
function Remove-TestFolder([string] $Path) {
    if ($env:DS_KEEP_TEST_FOLDERS) { return }
    $folders = if ($Path) { @($Path) } else { @($script:TestFolders) }
    foreach ($f in $folders) {
        Remove-Item -LiteralPath $f -Recurse -Force -ErrorAction SilentlyContinue
        $null = $script:TestFolders.Remove($f)
    }
}

<#
.SYNOPSIS
    Runs a script in a child pwsh with the module imported, with a time limit: a hang or a native
    crash fails the test instead of the whole run. Returns ExitCode, TimedOut, Output and Error.
#>
function Invoke-ChildPwsh {
    param(
        [Parameter(Mandatory)] [string] $Script,
        [int] $TimeoutSeconds = 120,
        [string] $WorkingDirectory = (Get-Location).Path,
        # Extra environment variables of the child (e.g. TMPDIR, to watch its temporary files).
        [hashtable] $Environment = @{}
    )
    $prelude = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$(Get-ModulePath)'`n"
    $info = [Diagnostics.ProcessStartInfo]::new((Get-PwshPath))
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', ($prelude + $Script)) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.WorkingDirectory = $WorkingDirectory
    $info.Environment['NO_COLOR'] = '1'
    foreach ($name in $Environment.Keys) { $info.Environment[$name] = $Environment[$name] }
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $timedOut = -not $process.WaitForExit($TimeoutSeconds * 1000)
    if ($timedOut) { $process.Kill($true); $process.WaitForExit() }
    [pscustomobject]@{
        ExitCode = $process.ExitCode
        TimedOut = $timedOut
        Output   = $stdout.Result
        Error    = $stderr.Result
    }
}

<#
.SYNOPSIS
    Starts a script in a new runspace with the module imported; the caller stops it with
    $handle.PowerShell.Stop() (what Ctrl+C does) and disposes it.
#>
function Start-TestRunspace([string] $Script) {
    $ps = [powershell]::Create()
    $null = $ps.AddScript("`$ProgressPreference = 'SilentlyContinue'; Import-Module '$(Get-ModulePath)'`n" + $Script)
    [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
}

<#
.SYNOPSIS
    Starts a child pwsh that imports the module and runs a command, standard error redirected; the
    caller waits for it, or kills it ($p.Kill($true): SIGKILL to the whole tree) to test a killed run.
#>
function Start-ChildPwsh([string] $Command, [string] $ErrorPreference = 'Stop') {
    $info = [Diagnostics.ProcessStartInfo]::new((Get-PwshPath))
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "`$ProgressPreference = 'SilentlyContinue'; `$ErrorActionPreference = '$ErrorPreference'; Import-Module '$(Get-ModulePath)'; $Command") { $info.ArgumentList.Add($a) }
    $info.RedirectStandardError = $true
    [Diagnostics.Process]::Start($info)
}

<#
.SYNOPSIS
    A Parquet file as hyparquet (npm, pure JavaScript: an independent reader) reads it, through
    tests/tools/read-parquet.mjs: metadata (key/value), schema, row_groups and rows, as a hashtable.
#>
function Read-ParquetTable([string] $Path) {
    $script = Join-Path $script:Repository 'tests' 'tools' 'read-parquet.mjs'
    $json = & node $script $Path
    if ($LASTEXITCODE -ne 0) { throw "hyparquet could not read $Path (exit $LASTEXITCODE)" }
    # -DateKind String: timestamps stay the strings hyparquet printed (with microseconds).
    $json | ConvertFrom-Json -AsHashtable -Depth 64 -DateKind String
}


<#
.SYNOPSIS
    Every file under a corpus folder (hidden ones too) as relative path -> SHA-256: what "same
    bytes, nothing extra on disk" is compared on.
#>
function Get-CorpusFileHash([string] $Root) {
    $files = [ordered]@{}
    foreach ($f in Get-ChildItem $Root -Recurse -File -Force | Sort-Object FullName) {
        $files[[IO.Path]::GetRelativePath($Root, $f.FullName)] = (Get-FileHash $f.FullName -Algorithm SHA256).Hash
    }
    $files
}

<#
.SYNOPSIS
    The kill-and-rerun loop the robustness tests share. Runs a command ({0} standing for its folder)
    in a child pwsh to completion in <Work>/reference, timing it (start-up included); then, for each
    try, starts it in <Work>/try-N, SIGKILLs the whole process tree after a random delay and reruns
    the same command there to completion. The delays are stratified: try i of n falls at random in
    the i-th n-th of Span x the reference's duration, so the last try lands in a run's last moments
    (or, with Span above 1, just after it finished). Returns the reference run and one row per try;
    the caller checks the folders.
#>
function Invoke-KillLoop {
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)] [string] $Work,
        [int] $Tries = 3,
        [int] $RandomSeed = 7,
        [double] $Span = 1.0,
        [string] $ErrorPreference = 'Stop'
    )
    function Complete([Diagnostics.Process] $Process) {
        # Standard error read while the child runs: a full pipe must not stall it.
        $stderr = $Process.StandardError.ReadToEndAsync()
        $Process.WaitForExit()
        [pscustomobject]@{ ExitCode = $Process.ExitCode; Error = $stderr.Result }
    }
    $random = [Random]::new($RandomSeed)
    $reference = Join-Path $Work 'reference'
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $run = Complete (Start-ChildPwsh ($Command -f $reference) $ErrorPreference)
    $duration = $clock.Elapsed.TotalMilliseconds
    if ($run.ExitCode -ne 0) { throw "The uninterrupted run failed (exit $($run.ExitCode)): $($run.Error)" }
    $rows = for ($try = 1; $try -le $Tries; $try++) {
        $folder = Join-Path $Work "try-$try"
        $delay = [int]((($try - 1) + $random.NextDouble()) / $Tries * $Span * $duration)
        $p = Start-ChildPwsh ($Command -f $folder) $ErrorPreference
        $finished = $p.WaitForExit($delay)
        if (-not $finished) { $p.Kill($true); $p.WaitForExit() }
        $rerun = Complete (Start-ChildPwsh ($Command -f $folder) $ErrorPreference)
        [pscustomobject]@{
            Try      = $try
            Folder   = $folder
            DelayMs  = $delay
            RunMs    = [int]$duration
            Killed   = -not $finished
            ExitCode = $rerun.ExitCode
            Error    = $rerun.Error
        }
    }
    [pscustomobject]@{ Reference = $reference; DurationMs = [int]$duration; Tries = @($rows) }
}

<#
.SYNOPSIS
    The corpus kill-and-rerun loop: builds a corpus in a child pwsh, SIGKILLs it after a random
    delay between 0 and 110 % of an uninterrupted build's duration (Invoke-KillLoop), reruns it to
    completion, and compares every file with the uninterrupted corpus. Returns one row per try: the
    delay, whether the build had finished before the kill, and the paths that differ, are missing or
    are extra.
#>
function Invoke-KillAndRerun {
    param(
        [Parameter(Mandatory)] [string] $Catalog,
        [int] $Count = 8,
        [int] $ThrottleLimit = 8,
        [int] $Tries = 4,
        [int] $Seed = 7,
        [string] $Start = '2019-08-01',
        [string] $End = '2019-08-20',
        [int] $RandomSeed = 11
    )
    $build = "New-PatchSample '{0}' -Catalog '$Catalog' -Start $Start -End $End -Count $Count -Seed $Seed -ThrottleLimit $ThrottleLimit -WarningAction SilentlyContinue | Out-Null"
    $loop = Invoke-KillLoop -Command $build -Work (New-TestFolder 'ds-kill-') -Tries $Tries -RandomSeed $RandomSeed -Span 1.1 -ErrorPreference Continue
    $expected = Get-CorpusFileHash $loop.Reference
    foreach ($t in $loop.Tries) {
        $actual = Get-CorpusFileHash $t.Folder
        [pscustomobject]@{
            Try        = $t.Try
            DelayMs    = $t.DelayMs
            BuildMs    = $t.RunMs
            Killed     = $t.Killed
            RerunExit  = $t.ExitCode
            Different  = @($expected.Keys | Where-Object { $actual.Contains($_) -and $actual[$_] -ne $expected[$_] })
            Missing    = @($expected.Keys | Where-Object { -not $actual.Contains($_) })
            Extra      = @($actual.Keys | Where-Object { -not $expected.Contains($_) })
            Folder     = $t.Folder
        }
    }
}

Export-ModuleMember -Function Get-ModulePath, Get-PwshPath, Get-TestFixture, Copy-TestCorpus, New-TestFolder, Remove-TestFolder, Invoke-ChildPwsh, Start-TestRunspace, Read-ParquetTable, Get-CorpusFileHash, Invoke-KillLoop, Invoke-KillAndRerun, Start-ChildPwsh
