#Requires -Version 7.4
<#
.SYNOPSIS
    The downstream half of the DeepSentinel protocol on the demo corpus: a spatially blocked
    70/30 split, then classifiers from the pretrained encoder (frozen = linear probe, and
    fine-tuned) and from scratch, each fed Sentinel-2, Sentinel-1 or both, evaluated on the
    held-out side.

.DESCRIPTION
    Needs 03-label-corpus.ps1 (CLC labels) and 04-pretrain-and-embed.ps1 (the pretrained model).
    Nine small runs on 16 synthetic patches: they show that the protocol runs end to end and
    that the figures are computed right, not what an encoder is worth on real data (a few
    held-out patches of a synthetic landscape say nothing about real accuracy). Each classifier
    folder holds its evaluation (evaluation.json, confusion-matrix.png, ...). Rerun it: finished
    classifiers are read back, not trained again.

.EXAMPLE
    ./examples/05-fine-tune-and-evaluate.ps1 -WorkFolder ./out/demo
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # The folder of 02-04 (corpus/ and models/simclr).
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'demo'),
    # Passes over the training side.
    [int] $Epochs = 5,
    # The split's seed.
    [int] $Seed = 1
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath -Force

$corpus = Join-Path $WorkFolder 'corpus'
$pretrained = Import-EmbeddingModel (Join-Path $WorkFolder 'models' 'simclr')
$classifiers = Join-Path $WorkFolder 'classifiers'

"PS> Get-PatchSample `$corpus | Split-LabelledCorpus -BlockSize 2560 -Seed $Seed"
$split = Get-PatchSample $corpus | Split-LabelledCorpus -BlockSize 2560 -Seed $Seed
$split | Format-Table | Out-String | Write-Output
$split.ClassCounts | Format-Table | Out-String | Write-Output

$rows = foreach ($sensor in 'S2', 'S1', 'Fused') {
    foreach ($mode in 'LinearProbe', 'FineTune', 'Scratch') {
        $folder = Join-Path $classifiers "$mode-$sensor".ToLowerInvariant()
        if (Test-Path (Join-Path $folder 'classifier-card.json')) {
            $evaluation = Get-Content -Raw (Join-Path $folder 'evaluation.json') | ConvertFrom-Json
            $oa, $balanced, $macro = $evaluation.overallAccuracy, $evaluation.balancedAccuracy, $evaluation.macroF1
        } else {
            $arguments = @{ Path = $folder; Sensor = $sensor; Epochs = $Epochs; BatchSize = 8; Seed = $Seed }
            if ($mode -ne 'Scratch') { $arguments.Model = $pretrained; $arguments.Mode = $mode } else { $arguments.EmbeddingDimension = $pretrained.EmbeddingDimension }
            $classifier = $split | Start-FineTuning @arguments
            $oa, $balanced, $macro = $classifier.Evaluation.OverallAccuracy, $classifier.Evaluation.BalancedAccuracy, $classifier.Evaluation.MacroF1
        }
        [pscustomobject]@{
            Start       = if ($mode -eq 'Scratch') { 'scratch' } elseif ($mode -eq 'LinearProbe') { 'pretrained, frozen' } else { 'pretrained, fine-tuned' }
            Input       = $sensor
            'Test OA %' = '{0:0.0}' -f (100 * $oa)
            'Balanced %' = '{0:0.0}' -f (100 * $balanced)
            'Macro-F1'  = '{0:0.000}' -f $macro
        }
    }
}
"Test side: $($split.TestCount) patches (seed $Seed, 2560 m blocks); $Epochs epochs each. Synthetic data: these figures say nothing about real accuracy."
$rows | Format-Table -AutoSize | Out-String | Write-Output
"Confusion matrices: $classifiers/<start>-<input>/confusion-matrix.png"
