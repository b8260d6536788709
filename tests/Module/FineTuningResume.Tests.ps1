# Start-FineTuning robustness in real pwsh (issue 14): Ctrl+C (a runspace's Stop()) saves a
# checkpoint and -Resume finishes the same number of epochs; a child pwsh killed at random moments
# (SIGKILL) and rerun with the same command leaves a complete classifier every time, never a
# half-written one; the checkpoints load in python3-torch.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'

    # The epochs of a fine-tuning.csv, in order.
    function Get-LoggedEpoch([string] $Folder) { @(Import-Csv (Join-Path $Folder 'fine-tuning.csv') | ForEach-Object { [int]$_.epoch }) }

    # Python: the encoder as a model checkpoint and the head, as Start-FineTuning wrote them.
    function Read-WithTorch([string] $Folder) {
        & /usr/bin/python3 -c @'
import sys, torch
e = torch.load(sys.argv[1] + "/checkpoints/encoder.pt", map_location="cpu"); h = torch.load(sys.argv[1] + "/checkpoints/head.pt", map_location="cpu")
print(e["format"], h["format"], list(h["state_dict"]["weight"].shape), h["step"])
'@ $Folder
    }
}

Describe 'Start-FineTuning: Ctrl+C, -Resume, killed runs' {
    BeforeAll {
        $script:splitScript = "`$split = Get-PatchSample '$($fixture.Corpus)' | Split-LabelledCorpus -BlockSize 2560 -Seed 1"
        $script:split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -BlockSize 2560 -Seed 1
    }

    It 'stopped like Ctrl+C saves a checkpoint and no card; -Resume finishes the epochs with the optimizer restored' {
        $folder = Join-Path (New-TestFolder) 'stopped'
        $run = Start-TestRunspace "$script:splitScript; `$split | Start-FineTuning '$folder' -Model (Import-EmbeddingModel '$($fixture.Model)') -Epochs 1000 -BatchSize 4 -IntraOpThreads 2"
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        while (-not (Test-Path (Join-Path $folder 'checkpoints' 'latest.json')) -or (Get-LoggedEpoch $folder).Count -lt 2) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 200
        }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        "$($run.PowerShell.Streams.Warning)" | Should -Match 'Fine-tuning stopped at step \d+, after \d+ of 1000 epochs.*Continue with -Resume'
        $run.PowerShell.Dispose()

        Join-Path $folder 'classifier-card.json' | Should -Not -Exist
        { Import-ClassificationModel $folder } | Should -Throw -ErrorId 'ModelNotFound,DeepSentinel.Cmdlets.Commands.ImportClassificationModelCommand'
        $latest = Get-Content -Raw (Join-Path $folder 'checkpoints' 'latest.json') | ConvertFrom-Json
        $latest.epoch | Should -BeGreaterOrEqual 2
        foreach ($f in $latest.encoder, $latest.head, $latest.optimizer) { Join-Path $folder $f | Should -Exist }
        @(Get-ChildItem -Recurse $folder -Filter '*.partial') | Should -BeNullOrEmpty

        # Without -Resume the unfinished folder is refused, naming -Resume.
        $e = { $script:split | Start-FineTuning $folder -Model (Import-EmbeddingModel $fixture.Model) -Epochs 3 -BatchSize 4 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'ModelFolderNotEmpty,DeepSentinel.Cmdlets.Commands.StartFineTuningCommand'
        $e.Exception.Message | Should -Match '-Resume'

        $total = $latest.epoch + 1
        $out = $script:split | Start-FineTuning $folder -Model (Import-EmbeddingModel $fixture.Model) -Epochs $total -BatchSize 4 -IntraOpThreads 2 -Resume -Verbose 4>&1
        $resumed = $out | Where-Object { $_ -is [DeepSentinel.Core.FineTuning.ClassificationModel] }
        $resumed | Should -BeOfType DeepSentinel.Core.FineTuning.ClassificationModel
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n" | Should -Match "Resuming .* at step $($latest.step), after $($latest.epoch) of $total epochs"
        $resumed.Card.Epochs | Should -Be $total
        $resumed.Card.Steps | Should -BeGreaterThan $latest.step
        Get-LoggedEpoch $folder | Should -Be (1..$total)
        (Read-WithTorch $folder) | Should -Be "deepsentinel-checkpoint deepsentinel-classifier-head [2, 16] $($resumed.Card.Steps)"
        Join-Path $folder 'checkpoints' 'latest.json' | Should -Not -Exist
        @(Get-ChildItem (Join-Path $folder 'checkpoints') -Filter 'step-*') | Should -BeNullOrEmpty
    }

    It 'killed at random moments (SIGKILL) and rerun with the same -Resume command: a complete classifier every time' {
        $work = New-TestFolder 'ds-ft-kill-'
        $command = "$script:splitScript; `$split | Start-FineTuning '{0}' -Model (Import-EmbeddingModel '$($fixture.Model)') -Epochs 3 -BatchSize 4 -IntraOpThreads 2 -Resume -WarningAction SilentlyContinue | Out-Null"
        $loop = Invoke-KillLoop -Command $command -Work $work -Tries 3 -RandomSeed 5
        $reference = Import-ClassificationModel $loop.Reference
        foreach ($t in $loop.Tries) {
            $try = $t.Try
            $folder = $t.Folder
            $t.ExitCode | Should -Be 0 -Because "try $try (killed after $($t.DelayMs) ms): $($t.Error)"
            $model = Import-ClassificationModel $folder
            $model.Card.Epochs | Should -Be 3
            $model.Classes | Should -Be $reference.Classes
            Get-LoggedEpoch $folder | Should -Be 1, 2, 3 -Because "try ${try}: each epoch logged once"
            (Read-WithTorch $folder) | Should -Match '^deepsentinel-checkpoint deepsentinel-classifier-head \[2, 16\] \d+$'
            foreach ($f in 'evaluation.json', 'test-predictions.csv') { Join-Path $folder $f | Should -Exist }
            @(Get-ChildItem -Recurse $folder -Filter '*.partial') | Should -BeNullOrEmpty -Because "try $try"
            Join-Path $folder 'checkpoints' 'latest.json' | Should -Not -Exist
        }
        @($loop.Tries | Where-Object Killed).Count | Should -BeGreaterOrEqual 1
    }
}

AfterAll { Remove-TestFolder }
