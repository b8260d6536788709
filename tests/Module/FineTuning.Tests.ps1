# Split-LabelledCorpus, Measure-Classification and Export-ClassificationEvaluation in real pwsh:
# splits of the labelled demo corpus (deterministic, blocked, held-out classes, split files and
# their errors), metrics checked against Debian's python3-sklearn, the files written into a folder
# (read back by numpy/GDAL), -WhatIf, errors with stable ids.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
}

Describe 'Split-LabelledCorpus' {
    It 'splits the labelled corpus 70/30 in blocks, the same way for the same seed in any order' {
        $split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -BlockSize 2560 -Seed 1
        $split | Should -BeOfType DeepSentinel.Core.FineTuning.CorpusSplit
        ($split.TrainCount + $split.TestCount) | Should -Be 16
        $split.ActualTrainFraction | Should -BeGreaterThan 0.5
        $split.ActualTrainFraction | Should -BeLessThan 0.9
        @($split.TrainIds | Where-Object { $_ -in $split.TestIds }) | Should -BeNullOrEmpty
        $again = Get-PatchSample $fixture.Corpus | Sort-Object Id -Descending | Split-LabelledCorpus -BlockSize 2560 -Seed 1
        ($again.TrainIds | Sort-Object) -join ',' | Should -Be (($split.TrainIds | Sort-Object) -join ',')
        $split.ClassCounts.Class | Should -Be '211', '311'
        # No 2560 m grid cell has samples on both sides.
        $cell = { '{0}/{1}' -f [math]::Floor($_.X / 2560), [math]::Floor($_.Y / 2560) }
        $trainCells = $split.Train | ForEach-Object $cell
        $split.Test | ForEach-Object $cell | Where-Object { $_ -in $trainCells } | Should -BeNullOrEmpty
    }

    It '-HoldOutClass at -ClcLevel 1 keeps the class out of training' {
        $split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -ClcLevel 1 -HoldOutClass 3 -BlockBy Sample
        $split.Train.DominantClass | Should -Not -Contain '3'
        ($split.ClassCounts | Where-Object Class -eq '3').HeldOut | Should -BeTrue
        ($split.ClassCounts | Where-Object Class -eq '3').Test | Should -BeGreaterThan 0
    }

    It 'split files round-trip, and an unknown id is SplitIdUnknown naming it' {
        $folder = New-TestFolder
        $split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -BlockSize 2560 -Seed 2
        $split.TrainIds | Set-Content (Join-Path $folder 'train.txt')
        $split.TestIds | Set-Content (Join-Path $folder 'test.txt')
        $read = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -TrainIdFile (Join-Path $folder 'train.txt') -TestIdFile (Join-Path $folder 'test.txt')
        $read.TestIds | Should -Be $split.TestIds
        $read.Source | Should -Be 'files train.txt, test.txt'

        @($split.TestIds) + 'ds99999999_31UDQ_20190801' | Set-Content (Join-Path $folder 'test.txt')
        $e = { Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -TrainIdFile (Join-Path $folder 'train.txt') -TestIdFile (Join-Path $folder 'test.txt') } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'SplitIdUnknown,DeepSentinel.Cmdlets.Commands.SplitLabelledCorpusCommand'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.Exception.Message | Should -Match 'ds99999999_31UDQ_20190801'

        { Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -TrainIdFile (Join-Path $folder 'none.txt') -TestIdFile (Join-Path $folder 'test.txt') } |
            Should -Throw -ErrorId 'SplitFileInvalid,DeepSentinel.Cmdlets.Commands.SplitLabelledCorpusCommand'
    }

    It 'leaves unlabelled samples out with a warning; no label at all is CorpusEmpty; one block is SplitEmpty' {
        $corpus = Copy-TestCorpus
        $samples = @(Get-PatchSample $corpus)
        $samples[0].ClcShares.Clear()
        $samples[1].ClcShares.Clear()
        $split = $samples | Split-LabelledCorpus -BlockBy Sample -WarningVariable warn -WarningAction SilentlyContinue
        $split.Unlabelled.Count | Should -Be 2
        ($split.TrainCount + $split.TestCount) | Should -Be 14
        "$warn" | Should -Match '2 of 16 sample\(s\) have no class label.*Add-CorineLabel'

        $samples | ForEach-Object { $_.ClcShares.Clear() }
        { $samples | Split-LabelledCorpus -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'CorpusEmpty,DeepSentinel.Cmdlets.Commands.SplitLabelledCorpusCommand'
        { Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -BlockSize 1000000 } | Should -Throw -ErrorId 'SplitEmpty,DeepSentinel.Cmdlets.Commands.SplitLabelledCorpusCommand'
    }
}

Describe 'Measure-Classification and Export-ClassificationEvaluation' {
    BeforeAll {
        # Noisy predictions over 6 classes, one of them never true and one never predicted.
        $random = [Random]::new(5)
        $classes = 'AnnualCrop', 'Forest', 'River', 'Pasture', 'Highway', 'SeaLake'
        $script:predictions = foreach ($i in 1..300) {
            $actual = $classes[$random.Next(5)]
            $predicted = if ($random.NextDouble() -lt 0.7) { $actual } else { $classes[$random.Next(6)] }
            if ($predicted -eq 'Highway') { $predicted = 'SeaLake' }
            [pscustomobject]@{ SampleId = "p$i"; Actual = $actual; Predicted = $predicted }
        }
    }

    It 'equals scikit-learn on the same predictions, as the object and as the files it exports' {
        $folder = New-TestFolder
        $csv = Join-Path $folder 'predictions.csv'
        $script:predictions | Export-Csv $csv -NoTypeInformation
        $evaluation = Import-Csv $csv | Measure-Classification -Class 'AnnualCrop', 'Forest', 'River', 'Pasture', 'Highway', 'SeaLake'
        $evaluation | Should -BeOfType DeepSentinel.Core.Evaluation.ClassificationEvaluation
        $evaluation | Export-ClassificationEvaluation (Join-Path $folder 'model')

        $sk = & /usr/bin/python3 -c @'
import csv, json, sys, warnings
from sklearn import metrics
warnings.simplefilter("ignore")
rows = list(csv.DictReader(open(sys.argv[1])))
labels = ["AnnualCrop", "Forest", "River", "Pasture", "Highway", "SeaLake"]
y = [r["Actual"] for r in rows]; p = [r["Predicted"] for r in rows]
pr, rc, f1, s = metrics.precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
print(json.dumps({"oa": metrics.accuracy_score(y, p), "ba": metrics.balanced_accuracy_score(y, p),
    "macro": metrics.f1_score(y, p, average="macro", zero_division=0), "f1": f1.tolist(), "precision": pr.tolist(),
    "cm": metrics.confusion_matrix(y, p, labels=labels).tolist()}))
'@ $csv | ConvertFrom-Json
        $evaluation.OverallAccuracy | Should -BeLessThan 0.9
        [math]::Abs($evaluation.OverallAccuracy - $sk.oa) | Should -BeLessThan 1e-12
        [math]::Abs($evaluation.BalancedAccuracy - $sk.ba) | Should -BeLessThan 1e-12
        [math]::Abs($evaluation.MacroF1 - $sk.macro) | Should -BeLessThan 1e-12
        foreach ($c in 0..5) {
            [math]::Abs($evaluation.PerClass[$c].F1 - $sk.f1[$c]) | Should -BeLessThan 1e-12
            [math]::Abs($evaluation.PerClass[$c].Precision - $sk.precision[$c]) | Should -BeLessThan 1e-12
        }
        ($evaluation.ConfusionRows() | ForEach-Object { $_ -join ' ' }) | Should -Be ($sk.cm | ForEach-Object { $_ -join ' ' })

        # The files say the same, read by other readers.
        $json = Get-Content -Raw (Join-Path $folder 'model' 'evaluation.json') | ConvertFrom-Json
        [math]::Abs($json.macroF1 - $sk.macro) | Should -BeLessThan 1e-12
        $json.confusionMatrix[2] -join ' ' | Should -Be ($sk.cm[2] -join ' ')
        $perClass = Import-Csv (Join-Path $folder 'model' 'evaluation-classes.csv')
        $perClass.class | Should -Be 'AnnualCrop', 'Forest', 'River', 'Pasture', 'Highway', 'SeaLake'
        [math]::Abs([double]$perClass[1].f1 - $sk.f1[1]) | Should -BeLessThan 1e-12
        $matrix = & /usr/bin/python3 -c "import numpy, sys; print(int(numpy.loadtxt(sys.argv[1], delimiter=',', skiprows=1, usecols=range(1, 7)).sum()))" (Join-Path $folder 'model' 'confusion-matrix.csv')
        $matrix | Should -Be '300'
        $png = & /usr/bin/python3 -c "from osgeo import gdal; import sys; d = gdal.Open(sys.argv[1]); b = d.GetRasterBand(2).ReadAsArray(); print(d.RasterCount, d.RasterXSize > 300, int(b.min()), int(b.max()))" (Join-Path $folder 'model' 'confusion-matrix.png')
        $png | Should -Be '3 True 0 255'
        Get-ChildItem (Join-Path $folder 'model') -Filter '*.partial' | Should -BeNullOrEmpty
    }

    It 'multi-label: micro-F1 and mAP' {
        $e = @(
            [pscustomobject]@{ ActualLabel = '211', '311'; Probability = @{ '211' = 0.9; '311' = 0.6; '112' = 0.1 } }
            [pscustomobject]@{ ActualLabel = '211'; Probability = @{ '211' = 0.7; '311' = 0.55; '112' = 0.3 } }
            [pscustomobject]@{ ActualLabel = '112'; Probability = @{ '211' = 0.2; '311' = 0.1; '112' = 0.8 } }
        ) | Measure-Classification
        $e.Task | Should -Be 'MultiLabel'
        $e.Classes | Should -Be '112', '211', '311'
        # One false positive (311 on the second sample) among 4 true positives: 2*4 / (2*4 + 1).
        [math]::Round($e.MicroF1, 12) | Should -Be ([math]::Round(8 / 9, 12))
        $e.MeanAveragePrecision | Should -Be 1
        $e.OverallAccuracy | Should -BeLessThan 1
    }

    It 'a sample without a prediction is a non-terminating error; a class -Class lacks and no input are terminating' {
        $e = @(
            [pscustomobject]@{ Actual = '211'; Predicted = '211' }
            [pscustomobject]@{ Actual = '311'; Predicted = '' }
            [pscustomobject]@{ Actual = '311'; Predicted = '311' }
        ) | Measure-Classification -ErrorAction SilentlyContinue -ErrorVariable problems
        $e.Samples | Should -Be 2
        $problems[0].FullyQualifiedErrorId | Should -Be 'EvaluationInputInvalid,DeepSentinel.Cmdlets.Commands.MeasureClassificationCommand'
        { $script:predictions | Measure-Classification -Class Forest, River } | Should -Throw '*AnnualCrop*'
        { @() | Measure-Classification } | Should -Throw -ErrorId 'EvaluationInputInvalid,DeepSentinel.Cmdlets.Commands.MeasureClassificationCommand'
    }

    It 'Export -WhatIf writes nothing; -PassThru returns the evaluation with its Path' {
        $folder = Join-Path (New-TestFolder) 'out'
        $e = $script:predictions | Measure-Classification
        $e | Export-ClassificationEvaluation $folder -WhatIf | Should -BeNullOrEmpty
        $folder | Should -Not -Exist
        $e | Export-ClassificationEvaluation $folder | Should -BeNullOrEmpty
        ($e | Export-ClassificationEvaluation $folder -PassThru).Path | Should -Be $folder
        (Get-ChildItem $folder).Name | Sort-Object | Should -Be 'confusion-matrix.csv', 'confusion-matrix.png', 'evaluation-classes.csv', 'evaluation.json'
    }
}

Describe 'Start-FineTuning, Invoke-ClassPrediction and Import-ClassificationModel' {
    BeforeAll {
        $script:split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -BlockSize 2560 -Seed 1
        $script:probeFolder = Join-Path (New-TestFolder) 'probe'
        $script:probe = $script:split | Start-FineTuning $script:probeFolder -Model (Import-EmbeddingModel $fixture.Model) -Mode LinearProbe -Epochs 2 -BatchSize 8 -IntraOpThreads 2
    }

    It 'a linear probe from the pipeline writes a classifier folder whose evaluation equals scikit-learn on its test predictions' {
        $script:probe | Should -BeOfType DeepSentinel.Core.FineTuning.ClassificationModel
        $script:probe.Mode | Should -Be 'LinearProbe'
        $script:probe.Classes | Should -Be '211', '311'
        $script:probe.Evaluation.Samples | Should -Be $script:split.TestCount
        foreach ($f in 'classifier-card.json', 'checkpoints/encoder.pt', 'checkpoints/head.pt', 'fine-tuning.csv', 'test-predictions.csv', 'evaluation.json', 'confusion-matrix.png') {
            Join-Path $script:probeFolder $f | Should -Exist
        }
        $sk = & /usr/bin/python3 -c @'
import csv, json, sys, warnings
from sklearn import metrics
warnings.simplefilter("ignore")
rows = list(csv.DictReader(open(sys.argv[1])))
y = [r["actual"] for r in rows]; p = [r["predicted"] for r in rows]
print(json.dumps({"oa": metrics.accuracy_score(y, p), "macro": metrics.f1_score(y, p, average="macro", zero_division=0), "n": len(rows)}))
'@ (Join-Path $script:probeFolder 'test-predictions.csv') | ConvertFrom-Json
        $json = Get-Content -Raw (Join-Path $script:probeFolder 'evaluation.json') | ConvertFrom-Json
        $sk.n | Should -Be $script:split.TestCount
        [math]::Abs($json.overallAccuracy - $sk.oa) | Should -BeLessThan 1e-12
        [math]::Abs($json.macroF1 - $sk.macro) | Should -BeLessThan 1e-12
    }

    It 'the checkpoints load in python3-torch: the encoder as a model checkpoint, the head with one row per class' {
        $out = & /usr/bin/python3 -c @'
import sys, torch
e = torch.load(sys.argv[1], map_location="cpu"); h = torch.load(sys.argv[2], map_location="cpu")
print(e["format"], e["state_dict"]["encoder.conv1.weight"].shape[1], h["format"], list(h["state_dict"]["weight"].shape), h["classes"], h["freeze_encoder"])
'@ $script:probe.EncoderCheckpointPath $script:probe.HeadCheckpointPath
        $out | Should -Be 'deepsentinel-checkpoint 14 deepsentinel-classifier-head [2, 16] 2 1'
    }

    It 'Invoke-ClassPrediction gives a class and probabilities per patch, and pipes into Measure-Classification' {
        $predictions = Get-PatchSample $fixture.Corpus | Invoke-ClassPrediction -Model $script:probe
        $predictions.Count | Should -Be 16
        $predictions[0] | Should -BeOfType DeepSentinel.Core.FineTuning.ClassPrediction
        $predictions[0].Predicted | Should -BeIn '211', '311'
        [math]::Abs(($predictions[0].Probability.Values | Measure-Object -Sum).Sum - 1) | Should -BeLessThan 1e-5
        $predictions.Actual | Should -Not -Contain $null
        ($predictions | Measure-Classification).Samples | Should -Be 16
        # The test side predicted again equals what Start-FineTuning wrote.
        $again = $script:split.Test.Patch | Invoke-ClassPrediction -Model (Import-ClassificationModel $script:probeFolder)
        ($again.Predicted -join ',') | Should -Be ((Import-Csv (Join-Path $script:probeFolder 'test-predictions.csv')).predicted -join ',')
    }

    It 'fine-tunes fed Sentinel-1 only, and trains from scratch' {
        $tuned = $script:split | Start-FineTuning (Join-Path (New-TestFolder) 's1') -Model (Import-EmbeddingModel $fixture.Model) -Sensor S1 -Epochs 1 -BatchSize 8 -IntraOpThreads 2
        $tuned.Mode | Should -Be 'FineTune'
        $tuned.Sensors | Should -Be 'S1'
        (Get-PatchSample $fixture.Corpus -First 2 | Invoke-ClassPrediction -Model $tuned).Modalities | Should -Be 'S1', 'S1'
        $scratch = $script:split | Start-FineTuning (Join-Path (New-TestFolder) 'scratch') -Sensor S2 -Epochs 1 -BatchSize 8 -EmbeddingDimension 8 -IntraOpThreads 2
        $scratch.Mode | Should -Be 'Scratch'
        $scratch.Card.Bands.Count | Should -Be 12
    }

    It 'bad input: a class without training samples, a mode without a model, a folder that is not a classifier; -WhatIf writes nothing' {
        $folder = Join-Path (New-TestFolder) 'bad'
        $e = { $script:split | Start-FineTuning $folder -Model (Import-EmbeddingModel $fixture.Model) -Class 211, 512 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'ClassNotInTraining,DeepSentinel.Cmdlets.Commands.StartFineTuningCommand'
        $e.Exception.Message | Should -Match '512 \(Water bodies\)'
        { $script:split | Start-FineTuning $folder -Mode LinearProbe } | Should -Throw -ErrorId 'InvalidParameterValue,DeepSentinel.Cmdlets.Commands.StartFineTuningCommand'
        { $script:split | Start-FineTuning $script:probeFolder -Model (Import-EmbeddingModel $fixture.Model) } | Should -Throw -ErrorId 'ModelFolderNotEmpty,DeepSentinel.Cmdlets.Commands.StartFineTuningCommand'
        $script:split | Start-FineTuning $folder -Model (Import-EmbeddingModel $fixture.Model) -WhatIf | Should -BeNullOrEmpty
        $folder | Should -Not -Exist
        Import-ClassificationModel $fixture.Model -ErrorAction SilentlyContinue -ErrorVariable failed | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -Be 'ModelNotFound,DeepSentinel.Cmdlets.Commands.ImportClassificationModelCommand'
        ([pscustomobject]@{ Path = $script:probeFolder } | Import-ClassificationModel).Name | Should -Be 'probe'
    }
}

AfterAll { Remove-TestFolder }
