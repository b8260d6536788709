# Start-SegmentationTraining, Invoke-Segmentation, Measure-Segmentation, Export-SegmentationEvaluation
# and Import-SegmentationModel in real pwsh on the labelled demo corpus: a UNet per pixel, label COGs
# checked with gdalinfo and rasterio against the corpus's clc.tif, every metric against Debian's
# python3-sklearn on those pixels, the checkpoints in python3-torch, -WhatIf, errors with stable ids.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    $script:work = New-TestFolder
    $script:split = Get-PatchSample $fixture.Corpus | Split-LabelledCorpus -ClcLevel 1 -BlockSize 2560 -Seed 1
    $script:seg = $script:split | Start-SegmentationTraining (Join-Path $script:work 'seg') -Epochs 2 -BatchSize 4 -UNetWidth 8 -Seed 1
}

Describe 'Start-SegmentationTraining' {
    It 'trains a UNet from scratch from the pipeline and writes a model folder with its test evaluation' {
        $seg | Should -BeOfType DeepSentinel.Core.FineTuning.SegmentationModel
        $seg.Mode | Should -Be 'Scratch'
        $seg.Labels | Should -Be 'Clc'
        $seg.Card.ClcLevel | Should -Be 1
        $seg.Classes.Count | Should -BeGreaterOrEqual 2
        $seg.Classes | ForEach-Object { $_ | Should -Match '^[1-5]$' }
        $seg.Evaluation | Should -BeOfType DeepSentinel.Core.Evaluation.SegmentationEvaluation
        $seg.Evaluation.Patches | Should -Be $split.TestCount
        foreach ($f in 'segmenter-card.json', 'checkpoints/encoder.pt', 'checkpoints/head.pt', 'fine-tuning.csv', 'evaluation.json', 'evaluation-classes.csv', 'confusion-matrix.csv', 'confusion-matrix.png') {
            Join-Path $seg.Path $f | Should -Exist
        }
        # Balanced weights from the training pixels: n / (classes x count).
        $total = ($seg.Card.Classes | Measure-Object TrainPixels -Sum).Sum
        foreach ($c in $seg.Card.Classes) {
            [math]::Abs($c.Weight - $total / ($seg.Card.Classes.Count * $c.TrainPixels)) | Should -BeLessThan 1e-9
        }
        (Import-Csv (Join-Path $seg.Path 'fine-tuning.csv')).Count | Should -Be 2
        $seg | Format-Table | Out-String | Should -Match 'mIoU'
    }

    It 'the checkpoints load in python3-torch: the UNet as a model checkpoint, the head a 1x1 convolution per class' {
        $out = & /usr/bin/python3 -c @'
import sys, torch
e = torch.load(sys.argv[1], map_location="cpu"); h = torch.load(sys.argv[2], map_location="cpu")
print(e["config"]["encoder"], e["config"]["unet_width"], "encoder.dec1.0.weight" in e["state_dict"], h["format"], h["features"], list(h["state_dict"]["weight"].shape), int(h["classes"]))
'@ $seg.EncoderCheckpointPath $seg.HeadCheckpointPath
        $out | Should -Be "2 8 True deepsentinel-segmentation-head decoder [$($seg.Classes.Count), 8, 1, 1] $($seg.Classes.Count)"
    }

    It 'bad input: a ResNet encoder, a class without training pixels; nothing is written' {
        $nope = Join-Path $work 'nope'
        $e = { $split | Start-SegmentationTraining $nope -Model (Import-EmbeddingModel $fixture.Model) } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'ModelInputMismatch,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -Match 'UNet'
        { $split | Start-SegmentationTraining $nope -Encoder ResNet18 } | Should -Throw -ErrorId 'ModelInputMismatch,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        $c = { $split | Start-SegmentationTraining $nope -Class 2, 4 -UNetWidth 8 } | Should -Throw -PassThru
        $c.FullyQualifiedErrorId | Should -Be 'ClassNotInTraining,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        $c.Exception.Message | Should -Match '4 \(Wetlands\)'
        { $split | Start-SegmentationTraining $seg.Path -UNetWidth 8 } | Should -Throw -ErrorId 'ModelFolderNotEmpty,DeepSentinel.Cmdlets.Commands.StartSegmentationTrainingCommand'
        $nope | Should -Not -Exist
        $split | Start-SegmentationTraining $nope -WhatIf | Should -BeNullOrEmpty
        $nope | Should -Not -Exist
    }

    It 'labels missing on some samples: skipped with a warning, the rest trains' {
        $corpus = Copy-TestCorpus
        $samples = @(Get-PatchSample $corpus)
        Remove-Item (Join-Path $corpus 'samples' $samples[0].Id 'clc.tif'), (Join-Path $corpus 'samples' $samples[1].Id 'clc.tif'), (Join-Path $corpus 'samples' $samples[2].Id 'clc.tif')
        $partly = $samples | Split-LabelledCorpus -ClcLevel 1 -BlockBy Sample -Seed 4
        $missing = @($partly.TrainIds | Where-Object { $_ -in $samples[0..2].Id }).Count
        $m = $partly | Start-SegmentationTraining (Join-Path $work 'partly') -Epochs 1 -BatchSize 4 -UNetWidth 8 -WarningVariable warn -WarningAction SilentlyContinue
        $m.Card.TrainSamples | Should -Be ($partly.TrainCount - $missing)
        if ($missing -gt 0) { "$warn" | Should -Match "$missing training sample\(s\) have no clc.tif label" }
    }
}

Describe 'Invoke-Segmentation, Measure-Segmentation and Export-SegmentationEvaluation' {
    BeforeAll {
        $script:out = Join-Path $work 'predicted'
        $script:test = @(Get-PatchSample $fixture.Corpus | Where-Object Id -in $split.TestIds)
        $script:predictions = @($test | Invoke-Segmentation -Model $seg $out)
        $script:evaluation = $predictions | Measure-Segmentation -Model $seg
    }

    It 'writes a label COG per patch on its grid, with a quicklook' {
        $predictions.Count | Should -Be $test.Count
        $first = $predictions[0]
        $first | Should -BeOfType DeepSentinel.Core.FineTuning.SegmentationPrediction
        $first.LabelPath | Should -Be (Join-Path $out $first.SampleId 'segmentation.tif')
        $info = gdalinfo -json $first.LabelPath | ConvertFrom-Json -AsHashtable
        $clc = gdalinfo -json (Join-Path $fixture.Corpus 'samples' $first.SampleId 'clc.tif') | ConvertFrom-Json -AsHashtable
        $info.size -join 'x' | Should -Be ($clc.size -join 'x')
        $info.geoTransform -join ',' | Should -Be ($clc.geoTransform -join ',')
        $info.coordinateSystem.wkt | Should -Be $clc.coordinateSystem.wkt
        $info.bands[0].type | Should -Be 'UInt16'
        $info.bands[0].noDataValue | Should -Be 0
        $info.metadata.IMAGE_STRUCTURE.LAYOUT | Should -Be 'COG'
        $info.metadata[''].LABEL_NOMENCLATURE | Should -Be 'CORINE Land Cover 2018 level 1'
        $png = & /usr/bin/python3 -c "from osgeo import gdal; import sys; d = gdal.Open(sys.argv[1]); print(d.RasterCount, d.RasterXSize, d.GetRasterBand(4).ReadAsArray().min())" $first.QuicklookPath
        $png | Should -Be "4 $($clc.size[0]) 255"
        Get-ChildItem $out -Recurse -Filter '*.partial*' | Should -BeNullOrEmpty
    }

    It 'every metric equals scikit-learn on the label COGs and the corpus clc.tif, as the object and the exported files' {
        $folder = Join-Path $work 'eval'
        $evaluation | Export-SegmentationEvaluation $folder
        $pairs = foreach ($p in $predictions) { $p.LabelPath; Join-Path $fixture.Corpus 'samples' $p.SampleId 'clc.tif' }
        $sk = & /usr/bin/python3 -c @'
import json, sys, warnings
import numpy, rasterio
from sklearn import metrics
warnings.simplefilter("ignore")
labels = sys.argv[1].split(",")
y, p = [], []
files = sys.argv[2:]
for predicted, truth in zip(files[0::2], files[1::2]):
    with rasterio.open(predicted) as a, rasterio.open(truth) as b:
        pv, tv = a.read(1).ravel(), b.read(1).ravel()
    keep = tv > 0  # clc.tif nodata: unlabelled pixels are not counted
    y += [str(v // 100) for v in tv[keep]]; p += [str(v) for v in pv[keep]]
print(json.dumps({"miou": metrics.jaccard_score(y, p, average="macro", zero_division=0),
    "iou": metrics.jaccard_score(y, p, labels=labels, average=None, zero_division=0).tolist(),
    "acc": metrics.accuracy_score(y, p), "cm": metrics.confusion_matrix(y, p, labels=labels).tolist(), "n": len(y)}))
'@ ($evaluation.Classes -join ',') @pairs | ConvertFrom-Json
        $evaluation.Pixels | Should -Be $sk.n
        [math]::Abs($evaluation.MeanIoU - $sk.miou) | Should -BeLessThan 1e-12
        [math]::Abs($evaluation.PixelAccuracy - $sk.acc) | Should -BeLessThan 1e-12
        foreach ($c in 0..($evaluation.Classes.Count - 1)) {
            [math]::Abs($evaluation.PerClass[$c].IoU - $sk.iou[$c]) | Should -BeLessThan 1e-12
        }
        ($evaluation.ConfusionRows() | ForEach-Object { $_ -join ' ' }) | Should -Be ($sk.cm | ForEach-Object { $_ -join ' ' })
        # The test side's evaluation in the model folder is the same measurement.
        $inFolder = Get-Content -Raw (Join-Path $seg.Path 'evaluation.json') | ConvertFrom-Json
        [math]::Abs($inFolder.meanIoU - $sk.miou) | Should -BeLessThan 1e-12

        $json = Get-Content -Raw (Join-Path $folder 'evaluation.json') | ConvertFrom-Json
        $json.task | Should -Be 'Segmentation'
        [math]::Abs($json.meanIoU - $sk.miou) | Should -BeLessThan 1e-12
        $perClass = Import-Csv (Join-Path $folder 'evaluation-classes.csv')
        [math]::Abs([double]$perClass[0].iou - $sk.iou[0]) | Should -BeLessThan 1e-12
        $n = $evaluation.Classes.Count
        $sum = & /usr/bin/python3 -c "import numpy, sys; print(int(numpy.loadtxt(sys.argv[1], delimiter=',', skiprows=1, usecols=range(1, $n + 1), ndmin=2).sum()))" (Join-Path $folder 'confusion-matrix.csv')
        $sum | Should -Be "$($sk.n)"
        $png = & /usr/bin/python3 -c "from osgeo import gdal; import sys; d = gdal.Open(sys.argv[1]); print(d.RasterCount, d.RasterXSize > 200)" (Join-Path $folder 'confusion-matrix.png')
        $png | Should -Be '3 True'
    }

    It 'Import-SegmentationModel reads the folder back and predicts the same labels; -WhatIf writes nothing' {
        $again = Import-SegmentationModel $seg.Path
        $again.Classes | Should -Be $seg.Classes
        $p = $test[0] | Invoke-Segmentation -Model $again
        $p.LabelPath | Should -BeNullOrEmpty
        ($p.ClassPixels.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' ' |
            Should -Be (($predictions[0].ClassPixels.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' ')
        $whatIf = Join-Path $work 'whatif'
        $test | Invoke-Segmentation -Model $again $whatIf -WhatIf | Should -BeNullOrEmpty
        $whatIf | Should -Not -Exist
        Import-SegmentationModel $fixture.Model -ErrorAction SilentlyContinue -ErrorVariable failed | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -Be 'ModelNotFound,DeepSentinel.Cmdlets.Commands.ImportSegmentationModelCommand'
    }

    It 'predictions without labels are left out with a warning; none labelled is EvaluationInputInvalid' {
        $unlabelled = $test[0] | Invoke-Segmentation -Model $seg
        $unlabelled.Confusion | Should -Not -BeNullOrEmpty
        $bare = [DeepSentinel.Core.FineTuning.SegmentationPrediction]@{ SampleId = 'x'; Model = 'm'; Dominant = '2'; ClassPixels = [System.Collections.Generic.Dictionary[string, long]]::new() }
        $e = { $bare | Measure-Segmentation -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'EvaluationInputInvalid,DeepSentinel.Cmdlets.Commands.MeasureSegmentationCommand'
        $m = @($predictions) + $bare | Measure-Segmentation -WarningVariable warn -WarningAction SilentlyContinue
        $m.Pixels | Should -Be $evaluation.Pixels
        "$warn" | Should -Match '1 prediction\(s\) carry no labels'
    }
}

AfterAll { Remove-TestFolder }
