# The bad-input catalogue (BadInput.Cases.ps1): every case in a child pwsh of its own, in a fresh
# working folder. For each: the process lives (no native crash, no hang), the error carries the
# documented stable id with a fitting category, the message has no stack trace, nothing is left
# half-written (no *.partial, and NoWrite paths absent), and a per-item error lets the rest of
# the batch through.
BeforeDiscovery {
    $cases = & (Join-Path $PSScriptRoot 'BadInput.Cases.ps1')
    # DS_BAD_INPUT=<pattern>[;<pattern>...] runs only the cases whose name matches (while working on one).
    if ($env:DS_BAD_INPUT) {
        $patterns = $env:DS_BAD_INPUT -split ';'
        $cases = $cases | Where-Object { $name = $_.N; $patterns | Where-Object { $name -like $_ } }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $fixture = Get-TestFixture
    $catalog = (Resolve-Path (Join-Path $PSScriptRoot '..' '..' 'examples' 'demo-catalog')).Path
    Import-Module (Get-ModulePath) -Force
    # The ids a user may meet: the module's own, and PowerShell's parameter binding's.
    $known = [DeepSentinel.Core.Errors.ErrorIds].GetFields() | ForEach-Object { $_.GetValue($null) }
    $known += 'ParameterArgumentValidationError', 'ParameterArgumentTransformationError', 'CannotConvertArgumentNoMessage', 'NamedParameterNotFound',
        'MissingMandatoryParameter', 'AmbiguousParameterSet', 'InputObjectNotBound', 'ParameterBindingFailed', 'PositionalParameterNotFound',
        'ParameterArgumentValidationErrorNullNotAllowed'
    # The runner inside the child: run the case, then print one JSON line describing what came out.
    $runner = @'
function Copy-SceneCatalog {
    Copy-Item -Recurse $catalog ./c
    Get-ChildItem ./c -Recurse -Filter *.json | Where-Object { (Get-Content -Raw $_) -match '"Feature"' } | Select-Object -First 1
}
$out = 0
$errors = [System.Collections.Generic.List[object]]::new()
$terminating = $null
try {
    . ([scriptblock]::Create($env:DS_CASE)) 2>&1 | ForEach-Object {
        if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $out++ }
    }
}
catch { $terminating = $_ }
function Describe-Error($e) {
    if ($null -eq $e) { return $null }
    [ordered]@{ Id = "$($e.FullyQualifiedErrorId)"; Category = "$($e.CategoryInfo.Category)"; Message = "$($e.Exception.Message)"; Type = $e.Exception.GetType().FullName }
}
[ordered]@{ Out = $out; Terminating = Describe-Error $terminating; Errors = @($errors | ForEach-Object { Describe-Error $_ }) } | ConvertTo-Json -Depth 5 -Compress | Write-Output
'@
}

Describe 'Bad input: <N>' -ForEach $cases {
    # Each case's folder goes when the case ends: a catalogue's copies of corpora and models add up.
    AfterEach { Remove-TestFolder }

    It 'is a clear error with id <Id>, and nothing half-written' {
        $work = New-TestFolder 'ds-bad-'
        if ($Copy -eq 'corpus') { Copy-Item -Recurse $fixture.Corpus (Join-Path $work 'corpus') }
        if ($Copy -eq 'model') { Copy-Item -Recurse $fixture.Model (Join-Path $work 'model') }
        $env:DS_CASE = $S
        $prelude = "`$fx = Get-Content -Raw '$(Join-Path $fixture.Root 'fixture.json')' | ConvertFrom-Json; `$catalog = '$catalog'; `$ErrorActionPreference = 'Continue'`n"
        if (-not (Test-Path (Join-Path $fixture.Root 'fixture.json'))) { $fixture | ConvertTo-Json | Set-Content (Join-Path $fixture.Root 'fixture.json') }
        $r = Invoke-ChildPwsh -TimeoutSeconds 120 -WorkingDirectory $work -Script ($prelude + $runner)
        Remove-Item Env:DS_CASE
        $r.TimedOut | Should -BeFalse -Because 'a bad input must never hang'
        $r.ExitCode | Should -Be 0 -Because "the process must live: $($r.Error)"
        $line = ($r.Output -split "`n" | Where-Object { $_.StartsWith('{"Out"') } | Select-Object -Last 1)
        $line | Should -Not -BeNullOrEmpty -Because "the runner reports: $($r.Output) $($r.Error)"
        $result = $line | ConvertFrom-Json
        $first = if ($Item) { $result.Errors | Select-Object -First 1 } elseif ($result.Terminating) { $result.Terminating } else { $result.Errors | Select-Object -First 1 }
        $first | Should -Not -BeNullOrEmpty -Because 'the bad input must be reported'
        $id = ($first.Id -split ',')[0]
        $id | Should -Match "^($Id)$" -Because $first.Message
        $id | Should -BeIn $known -Because 'every id is documented'
        $first.Category | Should -Not -Be 'NotSpecified' -Because "$id needs a fitting category"
        $first.Message | Should -Not -Match '\n\s+at \S+\(|   at [A-Z]\w+\.' -Because 'an expected failure shows no stack trace'
        if ($Item) {
            $result.Terminating | Should -BeNullOrEmpty -Because 'a per-item error lets the batch go on'
            if ($Out) { $result.Out | Should -BeGreaterOrEqual $Out }
        }
        Get-ChildItem $work -Recurse -Force -Filter '*.partial' | Should -BeNullOrEmpty -Because 'nothing is left half-written'
        if ($NoWrite) { Join-Path $work $NoWrite | Should -Not -Exist }
    }
}
