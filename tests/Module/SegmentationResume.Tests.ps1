# Start-SegmentationTraining robustness in real pwsh (issue 14), as FineTuningResume is
# Start-FineTuning's: Ctrl+C (a runspace's Stop()) saves a checkpoint and -Resume finishes the same
# number of epochs, each logged once; a child pwsh killed at random moments (SIGKILL) and rerun with
# the same command leaves a complete segmentation model every time, never a half-written one; the
# checkpoints load in python3-torch.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'

    # The epochs of a fine-tuning.csv, in order.
    function Get-LoggedEpoch([string] $Folder) { @(Import-Csv (Join-Path $Folder 'fine-tuning.csv') | ForEach-Object { [int]$_.epoch }) }

    # Python: the UNet as a model checkpoint and the per-pixel head, as given (relative to the folder).
    function Read-WithTorch([string] $Folder, [string] $Encoder = 'checkpoints/encoder.pt', [string] $Head = 'checkpoints/head.pt') {
        & /usr/bin/python3 -c @'
import sys, torch
e = torch.load(sys.argv[1] + "/" + sys.argv[2], map_location="cpu"); h = torch.load(sys.argv[1] + "/" + sys.argv[3], map_location="cpu")
print(e["format"], e["config"]["unet_width"], h["format"], list(h["state_dict"]["weight"].shape), h["step"], h["features"])
'@ $Folder $Encoder $Head
    }
}

Describe 'Start-SegmentationTraining: Ctrl+C, -Resume, killed runs' {
    BeforeAll {
        $script:splitScript = "`$split = Get-PatchSample '$($fixture.Corpus)' | Split-LabelledCorpus -ClcLevel 1 -BlockSize 2560 -Seed 1"
        $script:split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -ClcLevel 1 -BlockSize 2560 -Seed 1
        $script:train = '-UNetWidth 8 -BatchSize 4 -Seed 1 -IntraOpThreads 2'
    }

    It 'stopped like Ctrl+C saves a checkpoint and no card; -Resume finishes the epochs with the optimizer restored' {
        $folder = Join-Path (New-TestFolder) 'stopped'
        $run = Start-TestRunspace "$script:splitScript; `$split | Start-SegmentationTraining '$folder' -Epochs 1000 $script:train"
        $deadline = [DateTime]::UtcNow.AddSeconds(240)
        while (-not (Test-Path (Join-Path $folder 'checkpoints' 'latest.json')) -or (Get-LoggedEpoch $folder).Count -lt 1) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 200
        }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        "$($run.PowerShell.Streams.Warning)" | Should -Match 'Segmentation training stopped at step \d+, after \d+ of 1000 epochs.*Continue with -Resume'
        $run.PowerShell.Dispose()

        Join-Path $folder 'segmenter-card.json' | Should -Not -Exist
        { Import-SegmentationModel $folder } | Should -Throw -ErrorId 'ModelNotFound,DeepSentinel.Cmdlets.Commands.ImportSegmentationModelCommand'
        $latest = Get-Content -Raw (Join-Path $folder 'checkpoints' 'latest.json') | ConvertFrom-Json
        $latest.model | Should -Be 'segmenter'
        $latest.epoch | Should -BeGreaterOrEqual 1
        $latest.labels | Should -Be 'Clc'
        $latest.clcLevel | Should -Be 1
        foreach ($f in $latest.encoder, $latest.head, $latest.optimizer) { Join-Path $folder $f | Should -Exist }
        @(Get-ChildItem -Recurse $folder -Filter '*.partial') | Should -BeNullOrEmpty
        # The resume checkpoint itself is what python3-torch reads: a UNet of width 8 and the head at its step.
        (Read-WithTorch $folder $latest.encoder $latest.head) | Should -Match "^deepsentinel-checkpoint 8 deepsentinel-segmentation-head \[\d+, 8, 1, 1\] $($latest.step) decoder$"

        # Without -Resume the unfinished folder is refused, naming -Resume; another level with -Resume is a mismatch.
        $e = { $script:split | Start-SegmentationTraining $folder -Epochs 3 -UNetWidth 8 -BatchSize 4 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'ModelFolderNotEmpty,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        $e.Exception.Message | Should -Match '-Resume'
        { $script:split | Start-SegmentationTraining $folder -Epochs 3 -UNetWidth 8 -BatchSize 4 -ClcLevel 2 -Resume } |
            Should -Throw -ErrorId 'ModelInputMismatch,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        { $script:split | Start-FineTuning $folder -Epochs 1 -BatchSize 4 -Resume } |
            Should -Throw -ErrorId 'ModelInputMismatch,DeepSentinel.Cmdlets.Commands.StartFineTuningCommand'

        $total = $latest.epoch + 1
        $out = $script:split | Start-SegmentationTraining $folder -Epochs $total -UNetWidth 8 -BatchSize 4 -Seed 1 -IntraOpThreads 2 -Resume -Verbose 4>&1
        $resumed = $out | Where-Object { $_ -is [DeepSentinel.Core.FineTuning.SegmentationModel] }
        $resumed | Should -BeOfType DeepSentinel.Core.FineTuning.SegmentationModel
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n" | Should -Match "Resuming .* at step $($latest.step), after $($latest.epoch) of $total epochs"
        $resumed.Card.Epochs | Should -Be $total
        $resumed.Card.Steps | Should -BeGreaterThan $latest.step
        $resumed.Evaluation.MeanIoU | Should -BeGreaterOrEqual 0
        Get-LoggedEpoch $folder | Should -Be (1..$total)
        (Read-WithTorch $folder) | Should -Match "^deepsentinel-checkpoint 8 deepsentinel-segmentation-head \[\d+, 8, 1, 1\] $($resumed.Card.Steps) decoder$"
        Join-Path $folder 'checkpoints' 'latest.json' | Should -Not -Exist
        @(Get-ChildItem (Join-Path $folder 'checkpoints') -Filter 'step-*') | Should -BeNullOrEmpty
        (Import-SegmentationModel $folder).Card.Epochs | Should -Be $total
    }

    It 'killed at random moments (SIGKILL) and rerun with the same -Resume command: a complete segmentation model every time' {
        $work = New-TestFolder 'ds-seg-kill-'
        $command = "$script:splitScript; `$split | Start-SegmentationTraining '{0}' -Epochs 2 $script:train -Resume -WarningAction SilentlyContinue | Out-Null"
        $loop = Invoke-KillLoop -Command $command -Work $work -Tries 3 -RandomSeed 7
        $reference = Import-SegmentationModel $loop.Reference
        foreach ($t in $loop.Tries) {
            $try = $t.Try
            $folder = $t.Folder
            $t.ExitCode | Should -Be 0 -Because "try $try (killed after $($t.DelayMs) ms): $($t.Error)"
            $model = Import-SegmentationModel $folder
            $model.Card.Epochs | Should -Be 2
            $model.Classes | Should -Be $reference.Classes
            Get-LoggedEpoch $folder | Should -Be 1, 2 -Because "try ${try}: each epoch logged once"
            (Read-WithTorch $folder) | Should -Match "^deepsentinel-checkpoint 8 deepsentinel-segmentation-head \[$($reference.Classes.Count), 8, 1, 1\] $($model.Card.Steps) decoder$"
            foreach ($f in 'evaluation.json', 'evaluation-classes.csv', 'confusion-matrix.csv') { Join-Path $folder $f | Should -Exist }
            @(Get-ChildItem -Recurse $folder -Filter '*.partial') | Should -BeNullOrEmpty -Because "try $try"
            Join-Path $folder 'checkpoints' 'latest.json' | Should -Not -Exist
        }
        @($loop.Tries | Where-Object Killed).Count | Should -BeGreaterOrEqual 1
    }
}

AfterAll { Remove-TestFolder }
