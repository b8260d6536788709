# Start-Pretraining, Get-Embedding and Import-EmbeddingModel in real pwsh: pipelines by value,
# empty input, missing sensors, step limits, Ctrl+C (a runspace's Stop()), Stop-Job, progress,
# and -OutFile that never leaves a partial file.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    # Patches with Sentinel-2 only (a user's own ITrainingPatchProvider), defined once the module's
    # types are loaded.
    Invoke-Expression @'
class S2OnlyPatch : DeepSentinel.Core.Training.ITrainingPatchProvider {
    [string] $SampleId
    S2OnlyPatch([string] $id) { $this.SampleId = $id }
    [System.Threading.Tasks.ValueTask[DeepSentinel.Core.Training.TrainingPatch]] LoadTrainingPatchAsync([System.Threading.CancellationToken] $token) {
        $pixels = [float[]]::new(12 * 64 * 64)
        $random = [Random]::new($this.SampleId.GetHashCode())
        for ($i = 0; $i -lt $pixels.Length; $i++) { $pixels[$i] = 500 + $random.Next(3000) }
        return [System.Threading.Tasks.ValueTask[DeepSentinel.Core.Training.TrainingPatch]]::new([DeepSentinel.Core.Training.TrainingPatch]::new($this.SampleId, 64, 64, $pixels, $null, $null))
    }
}
'@
    function New-S2OnlyPatch([int] $Count) { 1..$Count | ForEach-Object { [S2OnlyPatch]::new("s2only-$_") } }
}

Describe 'Start-Pretraining' {
    It 'trains on piped PatchSample objects and returns the EmbeddingModel' {
        $folder = New-TestFolder
        $model = Get-PatchSample $fixture.Corpus | Start-Pretraining (Join-Path $folder 'm') -BatchSize 4 -MaxSteps 2 -EmbeddingDimension 8 -IntraOpThreads 2
        $model | Should -BeOfType DeepSentinel.Core.Training.EmbeddingModel
        $model.Steps | Should -Be 2
        Join-Path $folder 'm' 'model-card.json' | Should -Exist
        (Get-Content -Raw (Join-Path $folder 'm' 'model-card.json') | ConvertFrom-Json).bands.Count | Should -Be 14
    }

    It 'with empty pipeline input is a CorpusEmpty error and writes nothing (it said nothing)' {
        $folder = New-TestFolder
        { @() | Start-Pretraining (Join-Path $folder 'm') } | Should -Throw -ErrorId 'CorpusEmpty,DeepSentinel.Cmdlets.Commands.StartPretrainingCommand'
        { Get-PatchSample $fixture.Corpus | Where-Object Id -eq 'none' | Start-Pretraining (Join-Path $folder 'm') } | Should -Throw '*No patches came through the pipeline*'
        Join-Path $folder 'm' | Should -Not -Exist
    }

    It '-Sensor S1 on Sentinel-2-only patches says which sensor is missing and leaves no model card' {
        $folder = New-TestFolder
        $e = { New-S2OnlyPatch 6 | Start-Pretraining (Join-Path $folder 'm') -Sensor S1 -BatchSize 2 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'SensorDataMissing,DeepSentinel.Cmdlets.Commands.StartPretrainingCommand'
        $e.Exception.Message | Should -Match 'Sentinel-1 data \(VV, VH\)'
        $e.Exception.Message | Should -Match '0 of the 6 patches'
        $e.CategoryInfo.Category | Should -Be 'InvalidData'
        Join-Path $folder 'm' 'model-card.json' | Should -Not -Exist
        # The same patches train an S2 model.
        (New-S2OnlyPatch 6 | Start-Pretraining (Join-Path $folder 's2') -Sensor S2 -BatchSize 2 -MaxSteps 1 -EmbeddingDimension 8).Steps | Should -Be 1
    }

    It '-MaxSteps that ends on a pass boundary counts the pass; -Resume -Epochs 1 then trains nothing' {
        $folder = Join-Path (New-TestFolder) 'm'
        # 16 patches in batches of 8: a pass is 2 steps.
        $model = Get-PatchSample $fixture.Corpus | Start-Pretraining $folder -BatchSize 8 -MaxSteps 2 -Epochs 5 -EmbeddingDimension 8
        $model.Steps | Should -Be 2
        $model.Epochs | Should -Be 1
        $again = Get-PatchSample $fixture.Corpus | Start-Pretraining $folder -BatchSize 8 -Epochs 1 -Resume -WarningVariable warn -WarningAction SilentlyContinue
        $again.Steps | Should -Be 2
        "$warn" | Should -Match 'already trained 1 epochs.*nothing was trained'
    }

    It '-WhatIf trains nothing and creates no folder' {
        $folder = Join-Path (New-TestFolder) 'm'
        Get-PatchSample $fixture.Corpus | Start-Pretraining $folder -WhatIf | Should -BeNullOrEmpty
        $folder | Should -Not -Exist
    }

    It 'stopped like Ctrl+C (runspace Stop) saves a checkpoint that -Resume continues' {
        $folder = Join-Path (New-TestFolder) 'm'
        $run = Start-TestRunspace "Get-PatchSample '$($fixture.Corpus)' | Start-Pretraining '$folder' -BatchSize 4 -Epochs 100 -EmbeddingDimension 8 -CheckpointInterval 100000"
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not (Test-Path (Join-Path $folder 'metrics.csv')) -or (Get-Content (Join-Path $folder 'metrics.csv')).Count -lt 3) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 200
        }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $run.PowerShell.Dispose()
        $latest = Get-Content -Raw (Join-Path $folder 'checkpoints' 'latest.json') | ConvertFrom-Json
        $latest.step | Should -BeGreaterOrEqual 2
        $resumed = Get-PatchSample $fixture.Corpus | Start-Pretraining $folder -BatchSize 4 -MaxSteps ($latest.step + 1) -Resume
        $resumed.Steps | Should -Be ($latest.step + 1)
    }

    It 'Stop-Job on a thread job: the "stopped at step N, continue with -Resume" warning reaches the job' {
        $folder = Join-Path (New-TestFolder) 'm'
        $module = Get-ModulePath
        $corpus = $fixture.Corpus
        $job = Start-ThreadJob { Import-Module $using:module; Get-PatchSample $using:corpus | Start-Pretraining $using:folder -BatchSize 4 -Epochs 100 -EmbeddingDimension 8 -CheckpointInterval 100000 }
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not (Test-Path (Join-Path $folder 'metrics.csv')) -or (Get-Content (Join-Path $folder 'metrics.csv')).Count -lt 2) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 200
        }
        Stop-Job $job
        $job.State | Should -Be 'Stopped'
        "$($job.Warning)" | Should -Match 'Pretraining stopped at step \d+.*Continue with -Resume'
        Remove-Job $job
        Join-Path $folder 'checkpoints' 'latest.json' | Should -Exist
    }

    It 'writes progress records' {
        $folder = Join-Path (New-TestFolder) 'm'
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-ModulePath)'; Get-PatchSample '$($fixture.Corpus)' | Start-Pretraining '$folder' -BatchSize 8 -MaxSteps 2 -EmbeddingDimension 8")
        $null = $ps.Invoke()
        $ps.HadErrors | Should -BeFalse
        @($ps.Streams.Progress | Where-Object StatusDescription -match 'step \d+, loss').Count | Should -BeGreaterOrEqual 2
        $ps.Dispose()
    }
}

Describe 'Get-Embedding and Import-EmbeddingModel' {
    It 'Import-EmbeddingModel | Get-Embedding -InputObject: the model binds by value' {
        $patches = Get-PatchSample $fixture.Corpus | Select-Object -First 3
        $e = Import-EmbeddingModel $fixture.Model | Get-Embedding -InputObject $patches
        $e.Count | Should -Be 3
        $e[0] | Should -BeOfType DeepSentinel.Core.Embeddings.PatchEmbedding
        $e[0].Dimension | Should -Be 16
        # Deterministic: the same model and patches give the same vectors.
        $again = Get-PatchSample $fixture.Corpus | Select-Object -First 3 | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model)
        $again[2].Vector | Should -Be $e[2].Vector
    }

    It 'Import-EmbeddingModel binds -Path by property name' {
        ([pscustomobject]@{ Path = $fixture.Model } | Import-EmbeddingModel).Name | Should -Be 'model'
    }

    It '-OutFile writes an .npy that numpy reads, and its ids' {
        $folder = New-TestFolder
        $npy = Join-Path $folder 'e.npy'
        $e = Get-PatchSample $fixture.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model) -OutFile $npy
        $shape = & /usr/bin/python3 -c "import numpy, sys; a = numpy.load(sys.argv[1]); print(a.shape[0], a.shape[1], a.dtype, round(float(a[3, 5]), 5))" $npy
        $shape | Should -Be ('16 16 float32 {0}' -f [math]::Round($e[3].Vector[5], 5).ToString([cultureinfo]::InvariantCulture))
        Get-Content "$npy.ids.txt" | Should -Be $e.SampleId
        Get-ChildItem $folder -Filter '*.partial' | Should -BeNullOrEmpty
    }

    It '-OutFile in a folder that does not exist names the folder, and writes nothing' {
        $folder = New-TestFolder
        $e = { Get-PatchSample $fixture.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model) -OutFile (Join-Path $folder 'nope' 'e.npy') } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'ModelWriteFailed,DeepSentinel.Cmdlets.Commands.GetEmbeddingCommand'
        $e.Exception.Message | Should -Match 'does not exist'
        $e.Exception.Message | Should -Not -Match 'ids\.txt'
        Get-ChildItem -Recurse $folder | Should -BeNullOrEmpty
    }

    It 'stopped mid-run with -OutFile leaves no .npy (it left a valid-looking partial one)' {
        $folder = New-TestFolder
        $npy = Join-Path $folder 'e.npy'
        $run = Start-TestRunspace "`$p = @(Get-PatchSample '$($fixture.Corpus)'); 1..40 | ForEach-Object { `$p } | Get-Embedding -Model (Import-EmbeddingModel '$($fixture.Model)') -OutFile '$npy' -BatchSize 4"
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        # Stopped once the first batches are in the (partial) file.
        while (-not (Get-ChildItem $folder -Filter 'e.npy.*.partial' | Where-Object Length -gt 1024)) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 50
        }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $run.PowerShell.Dispose()
        Get-ChildItem $folder | Should -BeNullOrEmpty
    }

    It 'writes progress, and Select-Object -First 1 stops it early' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-ModulePath)'; Get-PatchSample '$($fixture.Corpus)' | Get-Embedding -Model (Import-EmbeddingModel '$($fixture.Model)') -BatchSize 4")
        $all = $ps.Invoke()
        $all.Count | Should -Be 16
        @($ps.Streams.Progress | Where-Object StatusDescription -match 'patches embedded').Count | Should -BeGreaterOrEqual 4
        $ps.Dispose()
        (Get-PatchSample $fixture.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model) -BatchSize 4 | Select-Object -First 1).SampleId | Should -Match '^ds'
    }

    It 'with empty pipeline input writes nothing and fails nothing' {
        @() | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model) -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }
}

AfterAll { Remove-TestFolder }
