#Requires -Version 7.4
<#
.SYNOPSIS
    Pretrains a small self-supervised S1 + S2 encoder on the demo corpus, embeds every patch,
    and shows what the embeddings find: each patch's nearest neighbour, as a table and a picture.

.DESCRIPTION
    A few SimCLR steps of a ResNet-18 on 16 patches: enough to show the whole pipeline on two
    cores in a minute, not to learn much. A real run trains for many epochs on a large corpus
    (Start-Pretraining -Corpus streams one from any store). Rerun it: the model folder is
    resumed to the same number of epochs, so nothing is trained again.

.EXAMPLE
    ./examples/04-pretrain-and-embed.ps1 -WorkFolder ./out/demo
#>
[CmdletBinding()]
param(
    # The module folder built by ./build.sh (out/DeepSentinel).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'DeepSentinel'),
    # The folder of 02-build-demo-corpus.ps1 (catalog/ and corpus/).
    [string] $WorkFolder = (Join-Path $PSScriptRoot '..' 'out' 'demo'),
    # Passes over the corpus.
    [int] $Epochs = 2
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath -Force

$corpus = Join-Path $WorkFolder 'corpus'
$modelFolder = Join-Path $WorkFolder 'models' 'simclr'
$npy = Join-Path $WorkFolder 'embeddings.npy'

'PS> Get-PatchSample $corpus | Start-Pretraining $modelFolder -Epochs {0} -BatchSize 8 -EmbeddingDimension 32' -f $Epochs
$resume = Test-Path (Join-Path $modelFolder 'model-card.json')
$model = Get-PatchSample $corpus | Start-Pretraining $modelFolder -Epochs $Epochs -BatchSize 8 -EmbeddingDimension 32 -Resume:$resume
$model | Format-List Name, Method, Encoder, Sensors, EmbeddingDimension, Steps, Epochs, Loss, Path

'PS> Get-PatchSample $corpus | Get-Embedding -Model $model -OutFile $npy'
$embeddings = Get-PatchSample $corpus | Get-Embedding -Model $model -OutFile $npy
'{0} embeddings of {1} dimensions in {2}' -f $embeddings.Count, $embeddings[0].Dimension, $npy

# Nearest neighbour of each patch by cosine similarity of the mean-centred embeddings (a barely
# trained encoder maps every patch near one point; centring shows how it orders them), and whether
# the two share their dominant CORINE class (03-label-corpus.ps1 labelled them).
$samples = @{}
Get-PatchSample $corpus | ForEach-Object { $samples[$_.Id] = $_ }
$dimension = $embeddings[0].Dimension
$mean = [float[]]::new($dimension)
foreach ($e in $embeddings) { for ($i = 0; $i -lt $dimension; $i++) { $mean[$i] += $e.Vector[$i] / $embeddings.Count } }
$centred = @{}
foreach ($e in $embeddings) { $centred[$e.SampleId] = [float[]]@(for ($i = 0; $i -lt $dimension; $i++) { $e.Vector[$i] - $mean[$i] }) }
function Get-Cosine([float[]] $a, [float[]] $b) {
    $dot = 0.0; $na = 0.0; $nb = 0.0
    for ($i = 0; $i -lt $a.Length; $i++) { $dot += $a[$i] * $b[$i]; $na += $a[$i] * $a[$i]; $nb += $b[$i] * $b[$i] }
    $dot / [math]::Sqrt($na * $nb)
}
$pairs = foreach ($e in $embeddings) {
    $best = $embeddings | Where-Object SampleId -ne $e.SampleId |
        ForEach-Object { [pscustomobject]@{ Id = $_.SampleId; Similarity = Get-Cosine $centred[$e.SampleId] $centred[$_.SampleId] } } |
        Sort-Object Similarity -Descending | Select-Object -First 1
    [pscustomobject]@{
        Sample     = $e.SampleId
        Neighbour  = $best.Id
        Similarity = [math]::Round($best.Similarity, 3)
        'Same CLC' = $samples[$e.SampleId].DominantClc -eq $samples[$best.Id].DominantClc
        CLC        = $samples[$e.SampleId].DominantClcName
    }
}
$pairs | Format-Table -AutoSize | Out-String -Width 160
# Chance level: how many would agree if each patch's neighbour were another patch drawn at random.
$n = $pairs.Count
$chance = ($samples.Values | Group-Object DominantClc | ForEach-Object { $_.Count * ($_.Count - 1) / ($n - 1) } | Measure-Object -Sum).Sum
'Nearest neighbour shares the dominant CLC class for {0} of {1} patches (a random neighbour would for {2:0.0}).' -f @($pairs | Where-Object 'Same CLC').Count, $n, $chance

# The picture: each patch's true-colour quicklook beside its nearest neighbour's, four pairs a
# row, as one PNG (a GDAL VRT over the samples' s2.png files, rendered by gdal_translate).
$gdalTranslate = Get-Command gdal_translate -ErrorAction SilentlyContinue
if ($gdalTranslate) {
    $tile = 128; $gap = 8; $perRow = 4
    $width = $perRow * (2 * $tile + 3 * $gap); $height = [math]::Ceiling($pairs.Count / $perRow) * ($tile + $gap) + $gap
    $sources = for ($k = 0; $k -lt $pairs.Count; $k++) {
        $x0 = ($k % $perRow) * (2 * $tile + 3 * $gap) + $gap; $y0 = [math]::Floor($k / $perRow) * ($tile + $gap) + $gap
        foreach ($side in 0, 1) {
            $png = $samples[$(if ($side) { $pairs[$k].Neighbour } else { $pairs[$k].Sample })].AssetLocation('s2_preview')
            '<SimpleSource><SourceFilename>{0}</SourceFilename><SourceBand>BAND</SourceBand><SrcRect xOff="0" yOff="0" xSize="256" ySize="256"/><DstRect xOff="{1}" yOff="{2}" xSize="{3}" ySize="{3}"/></SimpleSource>' -f [System.Security.SecurityElement]::Escape($png), ($x0 + $side * ($tile + $gap)), $y0, $tile
        }
    }
    $bands = foreach ($b in 1..3) { '<VRTRasterBand dataType="Byte" band="{0}">{1}</VRTRasterBand>' -f $b, (($sources -join '') -creplace 'BAND', $b) }
    $vrt = Join-Path $WorkFolder 'neighbours.vrt'
    '<VRTDataset rasterXSize="{0}" rasterYSize="{1}">{2}</VRTDataset>' -f $width, $height, ($bands -join '') | Set-Content $vrt
    $picture = Join-Path $WorkFolder 'neighbours.png'
    & $gdalTranslate -q -of PNG $vrt $picture
    Remove-Item $vrt, "$picture.aux.xml" -ErrorAction SilentlyContinue
    "Patches and their nearest neighbours (left, right): $picture"
}
