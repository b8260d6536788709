#Requires -Version 7.4
<#
.SYNOPSIS
    Semantic segmentation on the demo corpus: a spatially blocked 70/30 split, then UNets that
    label every pixel with its CORINE class at level 1, from a pretrained UNet (frozen encoder
    path, and fine-tuned) and from scratch, each fed Sentinel-2, Sentinel-1 or both, evaluated
    in pixels (mean IoU, pixel accuracy) on the held-out side; then label COGs for the corpus.

.DESCRIPTION
    Needs 03-label-corpus.ps1 (clc.tif per sample). Pretrains a small UNet first (SimCLR, a few
    epochs) into models/unet, since 04-pretrain-and-embed.ps1's model is a ResNet-18, which has
    no decoder to segment with. Small runs on 16 synthetic patches: they show that the protocol
    runs end to end and that the figures are computed right, not what an encoder is worth on
    real data. Rerun it: finished models are read back, not trained again.

.EXAMPLE
    ./examples/07-segment-and-evaluate.ps1 -WorkFolder ./out/demo
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # The folder of 02-03 (corpus/).
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'demo'),
    # Passes over the training side.
    [int] $Epochs = 3,
    # The split's seed.
    [int] $Seed = 1
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath -Force

$corpus = Join-Path $WorkFolder 'corpus'
$unetFolder = Join-Path $WorkFolder 'models' 'unet'
$segmenters = Join-Path $WorkFolder 'segmenters'
$pretrained = if (Test-Path (Join-Path $unetFolder 'model-card.json')) { Import-EmbeddingModel $unetFolder } else {
    "PS> Get-PatchSample `$corpus | Start-Pretraining $unetFolder -Encoder UNet -Epochs 2"
    Get-PatchSample $corpus | Start-Pretraining $unetFolder -Encoder UNet -EmbeddingDimension 16 -Epochs 2 -BatchSize 8 -Seed $Seed
}

"PS> Get-PatchSample `$corpus | Split-LabelledCorpus -ClcLevel 1 -BlockSize 2560 -Seed $Seed"
$split = Get-PatchSample $corpus | Split-LabelledCorpus -ClcLevel 1 -BlockSize 2560 -Seed $Seed
$split | Format-Table | Out-String | Write-Output

$rows = foreach ($sensor in 'S2', 'S1', 'Fused') {
    foreach ($mode in 'LinearProbe', 'FineTune', 'Scratch') {
        $folder = Join-Path $segmenters "$mode-$sensor".ToLowerInvariant()
        if (Test-Path (Join-Path $folder 'segmenter-card.json')) {
            $evaluation = Get-Content -Raw (Join-Path $folder 'evaluation.json') | ConvertFrom-Json
            $miou, $accuracy = $evaluation.meanIoU, $evaluation.pixelAccuracy
        } else {
            $arguments = @{ Path = $folder; Sensor = $sensor; Epochs = $Epochs; BatchSize = 4; Seed = $Seed }
            if ($mode -ne 'Scratch') { $arguments.Model = $pretrained; $arguments.Mode = $mode } else { $arguments.UNetWidth = 8 }
            $model = $split | Start-SegmentationTraining @arguments
            $miou, $accuracy = $model.Evaluation.MeanIoU, $model.Evaluation.PixelAccuracy
        }
        [pscustomobject]@{
            Start              = if ($mode -eq 'Scratch') { 'scratch' } elseif ($mode -eq 'LinearProbe') { 'pretrained, frozen encoder' } else { 'pretrained, fine-tuned' }
            Input              = $sensor
            'Test pixel acc. %' = '{0:0.0}' -f (100 * $accuracy)
            'mIoU'             = '{0:0.000}' -f $miou
        }
    }
}
"Test side: $($split.TestCount) patches (seed $Seed, 2560 m blocks), CLC level 1; $Epochs epochs each. Synthetic data: these figures say nothing about real accuracy."
$rows | Format-Table -AutoSize | Out-String | Write-Output

"PS> Get-PatchSample `$corpus | Invoke-Segmentation -Model `$model $WorkFolder/segmentation | Measure-Segmentation"
$model = Import-SegmentationModel (Join-Path $segmenters 'finetune-fused')
Get-PatchSample $corpus | Invoke-Segmentation -Model $model (Join-Path $WorkFolder 'segmentation') | Measure-Segmentation -Model $model |
    Export-SegmentationEvaluation (Join-Path $WorkFolder 'segmentation') -PassThru | Format-Table | Out-String | Write-Output
"Label COGs and quicklooks: $WorkFolder/segmentation/<sample id>/segmentation.tif, .png; confusion matrices: $segmenters/<start>-<input>/confusion-matrix.png"
