# Scale-out as a Kubernetes Indexed Job runs it, on this machine: N shard processes of the same
# command line, each with its own JOB_COMPLETION_INDEX (what Kubernetes sets in each pod), writing
# one corpus into a real Azurite on loopback; some are killed (SIGKILL) while they write a sample
# and started again (what backoffLimitPerIndex does); the result must be the one-process corpus:
# the same ids in the same order, and the same bytes in every object. Also the manifest in
# deploy/ against the Kubernetes API schemas (kubernetes-models, npm), offline.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    $tools = Join-Path $PSScriptRoot '..' 'tools'

    $info = [Diagnostics.ProcessStartInfo]::new('node')
    foreach ($a in (Join-Path $tools 'node_modules' 'azurite' 'dist' 'src' 'blob' 'main.js'), '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--silent', '--disableTelemetry', '--skipApiVersionCheck') { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.WorkingDirectory = (New-TestFolder)
    $azurite = [Diagnostics.Process]::Start($info)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    $endpoint = $null
    while (-not $endpoint -and [DateTime]::UtcNow -lt $deadline) {
        $line = $azurite.StandardOutput.ReadLine()
        if ($line -match 'listens on (http://127\.0\.0\.1:\d+)') { $endpoint = $Matches[1] }
    }
    # Azurite's well-known development account (public, in Azurite's own source).
    $key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    $connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=$endpoint/devstoreaccount1;"

    # The one command line every shard runs, as a pod's container would.
    $command = "New-PatchSample '{0}' -Catalog '$($fixture.Demo)' -Start 2019-08-01 -End 2019-08-20 -Count 12 -Seed 1 -ThrottleLimit 2 -ShardFromEnvironment -WarningAction SilentlyContinue | Out-Null"

    function Start-Shard([int] $Index, [int] $Count, [string] $Destination, [string] $Temp) {
        $psi = [Diagnostics.ProcessStartInfo]::new((Get-PwshPath))
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$(Get-ModulePath)'; $($command -f $Destination)") { $psi.ArgumentList.Add($a) }
        $psi.Environment['JOB_COMPLETION_INDEX'] = "$Index"
        $psi.Environment['DEEPSENTINEL_SHARD_COUNT'] = "$Count"
        $psi.Environment['AZURE_STORAGE_CONNECTION_STRING'] = $connection
        # Its own TMPDIR: a sample of a cloud corpus is staged there, so a folder appearing under
        # it shows the shard in the middle of writing a sample.
        $psi.Environment['TMPDIR'] = $Temp
        $psi.RedirectStandardError = $true
        $psi.RedirectStandardOutput = $true
        [Diagnostics.Process]::Start($psi)
    }

    function Wait-Exit([Diagnostics.Process] $Process, [int] $Seconds = 300) {
        if (-not $Process.WaitForExit($Seconds * 1000)) { $Process.Kill($true); throw "a shard did not finish in $Seconds s" }
        $Process.WaitForExit()
        $Process.ExitCode
    }

    # Every object of a corpus, downloaded, as relative path -> SHA-256.
    function Get-CorpusHashes([string] $Location) {
        $local = Join-Path (New-TestFolder) 'copy'
        $env:AZURE_STORAGE_CONNECTION_STRING = $connection
        try { Copy-Corpus $Location $local | Out-Null } finally { Remove-Item Env:AZURE_STORAGE_CONNECTION_STRING }
        $hashes = [ordered]@{}
        foreach ($f in Get-ChildItem $local -Recurse -File | Sort-Object FullName) {
            $hashes[[IO.Path]::GetRelativePath($local, $f.FullName)] = (Get-FileHash $f.FullName).Hash
        }
        $hashes
    }
}

AfterAll {
    if ($azurite -and -not $azurite.HasExited) { $azurite.Kill($true) }
    Remove-TestFolder
}

Describe 'Shards from JOB_COMPLETION_INDEX into Azurite, killed and restarted' {
    It '3 shard processes, 2 of them killed while writing a sample and restarted, build the one-process corpus byte for byte' {
        $endpoint | Should -Not -BeNullOrEmpty -Because 'Azurite must be running'
        $shards = "$endpoint/devstoreaccount1/corpora/shards"
        $single = "$endpoint/devstoreaccount1/corpora/single"
        $temps = 0..2 | ForEach-Object { New-TestFolder }
        $running = 0..2 | ForEach-Object { Start-Shard -Index $_ -Count 3 -Destination $shards -Temp $temps[$_] }

        # Kill shards 1 and 2 as soon as each is writing its first sample.
        $killed = @()
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        while ($killed.Count -lt 2) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline -Because 'shards 1 and 2 must reach their first sample'
            foreach ($i in 1, 2) {
                if ($i -in $killed) { continue }
                $staged = @(Get-ChildItem (Join-Path $temps[$i] 'deepsentinel-staging') -Directory -Recurse -ErrorAction SilentlyContinue)
                if ($staged.Count -ge 2) {
                    $running[$i].HasExited | Should -BeFalse -Because "shard $i must be killed mid-run"
                    $running[$i].Kill($true)
                    $running[$i].WaitForExit()
                    $killed += $i
                }
            }
            Start-Sleep -Milliseconds 20
        }
        Wait-Exit $running[0] | Should -Be 0

        # Kubernetes starts a failed index again (backoffLimitPerIndex): the same command, the same index.
        $restarted = 1, 2 | ForEach-Object { Start-Shard -Index $_ -Count 3 -Destination $shards -Temp $temps[$_] }
        foreach ($p in $restarted) {
            $code = Wait-Exit $p
            $code | Should -Be 0 -Because $p.StandardError.ReadToEnd()
        }

        # The reference: one process, no shards.
        $env:AZURE_STORAGE_CONNECTION_STRING = $connection
        try {
            New-PatchSample $single -Catalog $fixture.Demo -Start 2019-08-01 -End 2019-08-20 -Count 12 -Seed 1 -ThrottleLimit 2 | Out-Null
            $ids = (Get-PatchSample $shards).Id
            $reference = (Get-PatchSample $single).Id
        }
        finally { Remove-Item Env:AZURE_STORAGE_CONNECTION_STRING }

        $ids.Count | Should -Be 12
        $ids | Should -Be $reference
        $sharded = Get-CorpusHashes $shards
        $one = Get-CorpusHashes $single
        @($sharded.Keys) | Should -Be @($one.Keys)
        @($sharded.Keys | Where-Object { $_ -like 'samples*item.json' }).Count | Should -Be 12
        $sharded.Keys | Should -Contain 'items.parquet'
        foreach ($k in $one.Keys) { $sharded[$k] | Should -Be $one[$k] -Because $k }
    }

    It '-ShardFromEnvironment without JOB_COMPLETION_INDEX is a clear InvalidParameterValue error' {
        $r = Invoke-ChildPwsh -TimeoutSeconds 120 -Script "New-PatchSample (Join-Path '$(New-TestFolder)' 'c') -Catalog '$($fixture.Demo)' -Start 2019-08-01 -End 2019-08-20 -Count 2 -ShardFromEnvironment -ShardCount 2" -Environment @{ JOB_COMPLETION_INDEX = '' }
        $r.ExitCode | Should -Not -Be 0
        $r.Error + $r.Output | Should -Match 'JOB_COMPLETION_INDEX, which is not set'
    }

    It '-Shard and -ShardFromEnvironment together are refused' {
        { New-PatchSample (Join-Path (New-TestFolder) 'c') -Catalog $fixture.Demo -Start 2019-08-01 -End 2019-08-20 -Count 2 -Shard 1 -ShardCount 2 -ShardFromEnvironment } |
            Should -Throw -ErrorId 'InvalidParameterValue,DeepSentinel.Cmdlets.Commands.NewPatchSampleCommand'
    }
}

Describe 'The Kubernetes manifests in deploy/kubernetes' {
    BeforeAll {
        $manifests = Get-ChildItem (Join-Path $PSScriptRoot '..' '..' 'deploy' 'kubernetes') -Filter '*.yaml'
        $validator = Join-Path $tools 'validate-k8s.mjs'
    }

    It 'validate against the Kubernetes API schemas (kubernetes-models, offline)' {
        $manifests.Count | Should -BeGreaterOrEqual 2
        $json = & node $validator $manifests.FullName
        $LASTEXITCODE | Should -Be 0 -Because ($json -join "`n")
        $docs = $json | ConvertFrom-Json -AsHashtable -Depth 64
        @($docs | Where-Object kind -eq 'Job').Count | Should -Be $manifests.Count
        foreach ($doc in $docs) { $doc.errors | Should -BeNullOrEmpty -Because "$($doc.file) $($doc.kind)" }
    }

    It 'the validator rejects a broken Job (so its silence means something)' {
        $broken = Join-Path (New-TestFolder) 'broken.yaml'
        (Get-Content -Raw $manifests[0].FullName) -replace 'completionMode: Indexed', 'completionMode: Indexd' -replace 'backoffLimitPerIndex: 4', 'backoffLimitPerIndex: four' | Set-Content $broken
        $json = & node $validator $broken
        $LASTEXITCODE | Should -Be 1
        $errors = (($json | ConvertFrom-Json -AsHashtable -Depth 64) | Where-Object kind -eq 'Job').errors
        $errors | Should -Contain '/spec/backoffLimitPerIndex must be integer'
        $errors | Should -Contain '/spec/completionMode must be equal to one of the allowed values'
    }

    It 'each Job maps its completion index to -ShardFromEnvironment, one shard per completion, and runs a command New-PatchSample binds' -ForEach @(
        Get-ChildItem (Join-Path $PSScriptRoot '..' '..' 'deploy' 'kubernetes') -Filter '*.yaml' | ForEach-Object { @{ Manifest = $_.FullName; Name = $_.Name } }
    ) {
        $docs = & node (Join-Path $tools 'validate-k8s.mjs') $Manifest | ConvertFrom-Json -AsHashtable -Depth 64
        $job = ($docs | Where-Object kind -eq 'Job').object
        $job.spec.completionMode | Should -Be 'Indexed'
        $job.spec.backoffLimitPerIndex | Should -BeGreaterThan 0
        $job.spec.template.spec.restartPolicy | Should -Be 'Never'
        $container = $job.spec.template.spec.containers[0]
        $count = ($container.env | Where-Object name -eq 'DEEPSENTINEL_SHARD_COUNT').value
        [int] $count | Should -Be $job.spec.completions
        $job.spec.parallelism | Should -Be $job.spec.completions
        $serviceAccount = ($docs | Where-Object kind -eq 'ServiceAccount').object
        $job.spec.template.spec.serviceAccountName | Should -Be $serviceAccount.metadata.name
        ($container.volumeMounts | Where-Object mountPath -eq '/tmp') | Should -Not -BeNullOrEmpty -Because 'samples are staged in /tmp on a read-only root filesystem'

        # The pod's command line is PowerShell that binds to New-PatchSample's parameters.
        $script = $container.args -join ' '
        $tokens = $parseErrors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($script, [ref] $tokens, [ref] $parseErrors)
        $parseErrors | Should -BeNullOrEmpty
        $call = $ast.Find({ param($a) $a -is [System.Management.Automation.Language.CommandAst] }, $true)
        $call.GetCommandName() | Should -Be 'New-PatchSample'
        $names = $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] } | ForEach-Object ParameterName
        $names | Should -Contain 'ShardFromEnvironment'
        $names | Should -Not -Contain 'Shard'
        $known = (Get-Command New-PatchSample).Parameters.Keys
        foreach ($n in $names) { $known | Should -Contain $n }
    }
}
