#Requires -Version 7.4
<#
.SYNOPSIS
    The seed's four EuroSAT experiments in one script: RGB vs all bands, from scratch vs from a
    pretrained encoder, each trained on the same 70/30 split and evaluated on its test side.

.DESCRIPTION
    By default it runs on a small generated dataset in EuroSAT's layout (New-DemoEuroSatDataset:
    four classes of 13-band GeoTIFFs), so it runs offline; -DatasetPath points it at a real copy of
    EuroSAT MS (the folder that holds AnnualCrop, Forest, ... with the 13-band .tif files), and
    -TrainIdFile/-TestIdFile at torchgeo-style split files. "RGB" is B04, B03, B02 taken from the
    same 13-band files (so the comparison is about the bands, not the file format); "all bands" is
    the 12 bands left after EuroSAT's 13 L1C bands are mapped onto the corpus's L2A bands (B10
    dropped). The pretrained encoder is examples/04's demo SimCLR model (out/demo/models/simclr)
    or -EncoderPath; RGB goes into its B04, B03, B02 channels, the other nine are filled with its
    band means. Without an encoder the two pretrained rows are skipped. With one, the script ends
    with a few-shot evaluation of the frozen encoder (-Shots labelled images per class, cosine
    k-NN and nearest centroid, -Episodes seeded episodes; Measure-FewShotClassification).

    Synthetic data says little about real accuracy: the generated classes are separable by
    design. Published anchors on the real EuroSAT: 98.57 % overall accuracy (Helber et al.,
    fine-tuned ResNet-50), 99.1 % fine-tuned from SSL4EO-S12 MoCo/DINO ResNet-50 (13 bands).
    On the full EuroSAT (27,000 images) a CPU run takes hours; start with -Epochs 1.

.EXAMPLE
    ./examples/06-eurosat-experiments.ps1

.EXAMPLE
    ./examples/06-eurosat-experiments.ps1 -DatasetPath ~/data/EuroSAT_MS -TrainIdFile ~/data/eurosat-train.txt -TestIdFile ~/data/eurosat-test.txt -Epochs 10
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # Where the generated dataset and the classifiers go.
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'eurosat'),
    # A dataset in EuroSAT's layout (default: generate one into $WorkFolder/dataset).
    [string] $DatasetPath,
    # A pretrained model folder (default: examples/04's out/demo/models/simclr when it exists).
    [string] $EncoderPath = (Join-Path $PSScriptRoot '..' 'out' 'demo' 'models' 'simclr'),
    # torchgeo-style split files (one file name or id per line); default a seeded 70/30 split.
    [string] $TrainIdFile,
    [string] $TestIdFile,
    # Generated dataset: images per class and their size (a multiple of 32).
    [int] $ImagesPerClass = 16,
    [int] $Size = 32,
    # Training.
    [int] $Epochs = 8,
    [int] $BatchSize = 8,
    [int] $Seed = 1,
    # Few-shot evaluation of the frozen pretrained encoder: labelled images per class in each episode's support set.
    [int] $Shots = 5,
    [int] $Episodes = 10
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath -Force

if (-not $DatasetPath) {
    $DatasetPath = Join-Path $WorkFolder 'dataset'
    "PS> New-DemoEuroSatDataset $DatasetPath -ImagesPerClass $ImagesPerClass -Size $Size -Seed $Seed"
    New-DemoEuroSatDataset $DatasetPath -ImagesPerClass $ImagesPerClass -Size $Size -Seed $Seed | Format-Table | Out-String | Write-Output
    $patchSize = $Size
} else {
    $patchSize = 64
}

$encoder = if ($EncoderPath -and (Test-Path (Join-Path $EncoderPath 'model-card.json'))) { Import-EmbeddingModel $EncoderPath } else { $null }
if (-not $encoder) { "No pretrained encoder at '$EncoderPath' (run examples/04-pretrain-and-embed.ps1 or give -EncoderPath): the pretrained rows are skipped." }

$inputs = [ordered]@{
    'RGB (B04,B03,B02)' = @('B04', 'B03', 'B02')
    'all bands (12)'    = $null
}
$stamp = Get-Date -Format 'yyyyMMdd-HHmmss'
$rows = foreach ($name in $inputs.Keys) {
    $read = @{ Path = $DatasetPath; PatchSize = $patchSize }
    if ($inputs[$name]) { $read.Band = $inputs[$name] }
    $images = Get-LabelledImage @read
    $split = if ($TrainIdFile) {
        $images | Split-LabelledCorpus -TrainIdFile $TrainIdFile -TestIdFile $TestIdFile
    } else {
        $images | Split-LabelledCorpus -BlockBy Sample -Seed $Seed
    }
    foreach ($start in 'scratch', 'pretrained') {
        if ($start -eq 'pretrained' -and -not $encoder) { continue }
        $folder = Join-Path $WorkFolder 'classifiers' $stamp ("$start-" + ($(if ($inputs[$name]) { 'rgb' } else { 'all' })))
        $arguments = @{ Path = $folder; Sensor = 'S2'; Epochs = $Epochs; BatchSize = $BatchSize; Seed = $Seed }
        if ($start -eq 'pretrained') { $arguments.Model = $encoder; $arguments.Mode = 'FineTune' } else { $arguments.EmbeddingDimension = 32 }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $classifier = $split | Start-FineTuning @arguments
        [pscustomobject]@{
            Start        = if ($start -eq 'pretrained') { "pretrained ($($encoder.Name)), fine-tuned" } else { 'scratch' }
            Input        = $name
            Train        = $split.TrainCount
            Test         = $split.TestCount
            'Test OA %'  = '{0:0.0}' -f (100 * $classifier.Evaluation.OverallAccuracy)
            'Balanced %' = '{0:0.0}' -f (100 * $classifier.Evaluation.BalancedAccuracy)
            'Macro-F1'   = '{0:0.000}' -f $classifier.Evaluation.MacroF1
            Seconds      = [math]::Round($clock.Elapsed.TotalSeconds)
        }
    }
}
$source = if ($TrainIdFile) { "split files $TrainIdFile, $TestIdFile" } else { "seeded 70/30 split (seed $Seed)" }
"Dataset $DatasetPath, $source, $Epochs epochs, batch $BatchSize."
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Output
'Published anchors on the real EuroSAT: 98.57 % (Helber et al.); 99.1 % fine-tuned from SSL4EO-S12 MoCo/DINO ResNet-50.'
'A generated dataset is separable by design: its figures show the experiments run and are computed right, not what an encoder is worth.'
"Classifiers (evaluation.json, confusion-matrix.png): $(Join-Path $WorkFolder 'classifiers' $stamp)"

# The frozen encoder with few labels, no training: $Shots images per class as the support set,
# the rest classified by cosine k-NN and by nearest centroid, over $Episodes seeded episodes.
if ($encoder) {
    "PS> Get-LabelledImage $DatasetPath | Measure-FewShotClassification -Model $($encoder.Name) -Shots $Shots -Episodes $Episodes -Method Knn, NearestCentroid"
    Get-LabelledImage -Path $DatasetPath -PatchSize $patchSize |
        Measure-FewShotClassification -Model $encoder -Shots $Shots -Episodes $Episodes -Seed $Seed -Method Knn, NearestCentroid |
        ForEach-Object { $_ | Export-ClassificationEvaluation (Join-Path $WorkFolder 'few-shot' $stamp $_.Method) -PassThru } |
        Format-Table Method, Shots, EpisodeCount, Samples, DisplayOverallAccuracy, DisplayBalancedAccuracy, DisplayMacroF1 -AutoSize | Out-String -Width 200 | Write-Output
    "Few-shot evaluations (evaluation.json, few-shot-samples.csv): $(Join-Path $WorkFolder 'few-shot' $stamp)"
}
