# Get-LabelledImage and New-DemoEuroSatDataset in real pwsh: a generated dataset in EuroSAT's
# layout (13-band GeoTIFFs, RGB JPEGs) read as labelled images (pixels checked against
# python3-gdal), split by seed and by torchgeo-style split files, fine-tuned to high accuracy with
# metrics equal to python3-sklearn, the classifier card's band check (ModelBandMismatch), bad
# input with stable ids and warnings, -WhatIf.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    $script:root = New-TestFolder
    $script:ms = Join-Path $script:root 'ms'
    $script:rgb = Join-Path $script:root 'rgb'
    $script:dataset = New-DemoEuroSatDataset $script:ms -ImagesPerClass 10 -Size 32
    New-DemoEuroSatDataset $script:rgb -Format Jpeg -Class Forest, SeaLake -ImagesPerClass 3 | Out-Null
}

Describe 'New-DemoEuroSatDataset' {
    It 'writes class folders of 13-band UInt16 GeoTIFFs that gdalinfo reads' {
        $script:dataset | Should -BeOfType DeepSentinel.Core.Demo.DemoEuroSatDataset
        $script:dataset.Images | Should -Be 40
        (Get-ChildItem $script:ms -Directory).Name | Should -Be 'AnnualCrop', 'Forest', 'Residential', 'SeaLake'
        @(Get-ChildItem (Join-Path $script:ms 'Forest') -Filter *.tif).Count | Should -Be 10
        $info = gdalinfo -json (Join-Path $script:ms 'Forest' 'Forest_3.tif') | ConvertFrom-Json
        $info.bands.Count | Should -Be 13
        $info.bands[0].type | Should -Be 'UInt16'
        $info.size | Should -Be 32, 32
    }

    It '-WhatIf writes nothing; a class EuroSAT lacks is refused' {
        $folder = Join-Path (New-TestFolder) 'none'
        New-DemoEuroSatDataset $folder -WhatIf | Should -BeNullOrEmpty
        $folder | Should -Not -Exist
        { New-DemoEuroSatDataset $folder -Class Forest, Tundra } | Should -Throw -ErrorId 'ParameterArgumentValidationError,DeepSentinel.Cmdlets.Commands.NewDemoEuroSatDatasetCommand'
    }
}

Describe 'Get-LabelledImage' {
    It 'reads the 13 L1C bands into the 12 corpus bands, as python3-gdal reads the file (B10 dropped, B08A as B8A)' {
        $images = Get-LabelledImage $script:ms -PatchSize 32
        $images.Count | Should -Be 40
        $images[0] | Should -BeOfType DeepSentinel.Core.FineTuning.LabelledImage
        $images[0].InputBands -join ',' | Should -Be 'B01,B02,B03,B04,B05,B06,B07,B08,B8A,B09,B11,B12'
        $images[0].InputLevel | Should -Be 'L1C'
        ($images | Group-Object Class).Count | Should -Be 4
        $image = $images | Where-Object SampleId -eq 'Forest_3'
        $patch = $image.Read()
        $plane = 32 * 32
        # File bands 9 (B08A), 10 (B09), 12 (B11) at pixel 5 against corpus channels 8, 9, 10.
        $py = & /usr/bin/python3 -c "from osgeo import gdal; import sys; d = gdal.Open(sys.argv[1]); print(' '.join(str(int(d.GetRasterBand(b).ReadAsArray()[0, 5])) for b in (9, 10, 12)))" $image.Path
        "$($patch.S2[8 * $plane + 5]) $($patch.S2[9 * $plane + 5]) $($patch.S2[10 * $plane + 5])" | Should -Be $py
    }

    It 'reads RGB JPEGs as B04, B03, B02 with the other channels nodata' {
        $images = Get-LabelledImage $script:rgb
        $images.Count | Should -Be 6
        $images[0].InputBands -join ',' | Should -Be 'B02,B03,B04'
        $images[0].InputLevel | Should -Be 'RGB'
        $patch = $images[0].Read()
        [single]::IsNaN($patch.S2[0]) | Should -BeTrue
        $red = & /usr/bin/python3 -c "from osgeo import gdal; import sys; d = gdal.Open(sys.argv[1]); print(' '.join(str(int(d.GetRasterBand(b).ReadAsArray()[0, 0])) for b in (1, 2, 3)))" $images[0].Path
        $r, $g, $b = $red -split ' ' | ForEach-Object { [int]$_ * 3000 / 255 }
        [math]::Abs($patch.S2[3 * 64 * 64] - $r) | Should -BeLessThan 1e-3
        [math]::Abs($patch.S2[2 * 64 * 64] - $g) | Should -BeLessThan 1e-3
        [math]::Abs($patch.S2[1 * 64 * 64] - $b) | Should -BeLessThan 1e-3
    }

    It 'skips bad files with warnings naming them; bad folders are DatasetInvalid' {
        $bad = Join-Path (New-TestFolder) 'bad'
        Copy-Item -Recurse $script:rgb $bad
        Set-Content (Join-Path $bad 'Forest' 'Forest_9.jpg') 'not a jpeg'
        New-Item -ItemType Directory (Join-Path $bad 'Pasture') | Out-Null
        $images = Get-LabelledImage $bad -WarningVariable warnings -WarningAction SilentlyContinue
        $images.Count | Should -Be 6
        ($warnings -join "`n") | Should -Match 'Forest_9\.jpg is skipped: GDAL cannot read it'
        ($warnings -join "`n") | Should -Match "class 'Pasture' is left out"
        $small = Get-LabelledImage $script:ms -WarningVariable sizes -WarningAction SilentlyContinue -ErrorAction SilentlyContinue -ErrorVariable problems
        $small | Should -BeNullOrEmpty
        ($sizes -join "`n") | Should -Match 'is 32 x 32 px, not 64 x 64'
        $problems[0].FullyQualifiedErrorId | Should -Be 'DatasetInvalid,DeepSentinel.Cmdlets.Commands.GetLabelledImageCommand'
        # One bad root is its error; the next root is still read.
        $both = Get-LabelledImage (Join-Path $bad 'nowhere'), $script:rgb -ErrorAction SilentlyContinue -ErrorVariable missing
        $both.Count | Should -Be 6
        $missing[0].FullyQualifiedErrorId | Should -Be 'DatasetInvalid,DeepSentinel.Cmdlets.Commands.GetLabelledImageCommand'
        { Get-LabelledImage $script:rgb -Class Highway -ErrorAction Stop } | Should -Throw '*no class folder Highway*'
        { Get-LabelledImage $script:rgb -Band B10 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidParameterValue,DeepSentinel.Cmdlets.Commands.GetLabelledImageCommand'
        { Get-LabelledImage $script:rgb -PatchSize 48 } | Should -Throw
        $padded = Get-LabelledImage $script:ms -Fit Pad
        $padded.Count | Should -Be 40
        $patch = $padded[0].Read()
        $patch.Height | Should -Be 64
        [single]::IsNaN($patch.S2[0]) | Should -BeTrue
        [single]::IsNaN($patch.S2[32 * 64 + 32]) | Should -BeFalse
    }

    It 'splits 70/30 by seed in any order, and by torchgeo-style split files of file names' {
        $a = Get-LabelledImage $script:ms -PatchSize 32 | Split-LabelledCorpus -BlockBy Sample -Seed 5
        $b = Get-LabelledImage $script:ms -PatchSize 32 | Sort-Object { Get-Random } | Split-LabelledCorpus -BlockBy Sample -Seed 5
        $a.TrainCount | Should -Be 28
        $a.TestCount | Should -Be 12
        ($a.TrainIds | Sort-Object) -join ',' | Should -Be (($b.TrainIds | Sort-Object) -join ',')
        $folder = New-TestFolder
        $a.TrainIds | ForEach-Object { "$_.tif" } | Set-Content (Join-Path $folder 'eurosat-train.txt')
        $a.TestIds | ForEach-Object { "$_.tif" } | Set-Content (Join-Path $folder 'eurosat-test.txt')
        $c = Get-LabelledImage $script:ms -PatchSize 32 | Split-LabelledCorpus -TrainIdFile (Join-Path $folder 'eurosat-train.txt') -TestIdFile (Join-Path $folder 'eurosat-test.txt')
        $c.TestIds -join ',' | Should -Be ($a.TestIds -join ',')
        Add-Content (Join-Path $folder 'eurosat-test.txt') 'Highway_7.tif'
        { Get-LabelledImage $script:ms -PatchSize 32 | Split-LabelledCorpus -TrainIdFile (Join-Path $folder 'eurosat-train.txt') -TestIdFile (Join-Path $folder 'eurosat-test.txt') } |
            Should -Throw -ErrorId 'SplitIdUnknown,DeepSentinel.Cmdlets.Commands.SplitLabelledCorpusCommand'
    }

    It 'blocks georeferenced GeoTIFFs by grid cell (no cell on both sides); images without a location fall back with a warning' {
        # The 40 images placed on a 2 km lattice in UTM 32N with gdal_translate, as EuroSAT MS's files carry a UTM CRS.
        $located = Join-Path (New-TestFolder) 'located'
        Copy-Item -Recurse $script:ms $located
        $files = @(Get-ChildItem $located -Recurse -Filter *.tif | Sort-Object FullName)
        for ($i = 0; $i -lt $files.Count; $i++) {
            $x = 500000 + ($i % 8) * 2000; $y = 5200000 + [math]::Floor($i / 8) * 2000
            & gdal_translate -q -a_srs EPSG:32632 -a_ullr $x $y ($x + 320) ($y - 320) $files[$i].FullName "$($files[$i].FullName).g.tif"
            Move-Item "$($files[$i].FullName).g.tif" $files[$i].FullName -Force
        }
        $images = Get-LabelledImage $located -PatchSize 32
        $images[0].Crs | Should -Be 'EPSG:32632'
        $split = $images | Split-LabelledCorpus -BlockSize 5000 -Seed 3 -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        # The cell of each side's images, from gdalinfo's own centre of each file.
        $cell = @{}
        foreach ($f in $files) {
            $c = (gdalinfo -json $f.FullName | ConvertFrom-Json -AsHashtable).cornerCoordinates.center
            $cell[$f.BaseName] = '{0}/{1}' -f [math]::Floor($c[0] / 5000), [math]::Floor($c[1] / 5000)
        }
        $trainCells = @($split.TrainIds | ForEach-Object { $cell[$_] } | Sort-Object -Unique)
        $testCells = @($split.TestIds | ForEach-Object { $cell[$_] } | Sort-Object -Unique)
        @($trainCells | Where-Object { $_ -in $testCells }) | Should -BeNullOrEmpty
        $split.Blocks | Should -Be @($cell.Values | Sort-Object -Unique).Count
        $split.Blocks | Should -BeLessThan 40

        # The generated files have no georeferencing: one block each, and a warning that says so.
        $plain = Get-LabelledImage $script:ms -PatchSize 32 | Split-LabelledCorpus -Seed 3 -WarningVariable fallback -WarningAction SilentlyContinue
        $plain.Blocks | Should -Be 40
        ($fallback -join "`n") | Should -Match '40 of 40 sample\(s\) have no location in a projected CRS'
    }
}

Describe 'Fine-tuning on an EuroSAT-style dataset' {
    BeforeAll {
        $script:split = Get-LabelledImage $script:ms -PatchSize 32 | Split-LabelledCorpus -BlockBy Sample -Seed 1
        $script:folder = Join-Path (New-TestFolder) 'clf'
        $script:clf = $script:split | Start-FineTuning $script:folder -Sensor S2 -Epochs 16 -BatchSize 8 -EmbeddingDimension 16 -LearningRate 3e-3 -Seed 1 -IntraOpThreads 2
    }

    It 'reaches high accuracy from scratch; the metrics equal scikit-learn on the written predictions; the card records the bands' {
        $script:clf.Evaluation.OverallAccuracy | Should -BeGreaterOrEqual 0.9
        $sk = & /usr/bin/python3 -c @'
import csv, json, sys, warnings
from sklearn import metrics
warnings.simplefilter("ignore")
rows = list(csv.DictReader(open(sys.argv[1])))
y = [r["actual"] for r in rows]; p = [r["predicted"] for r in rows]
print(json.dumps({"oa": metrics.accuracy_score(y, p), "ba": metrics.balanced_accuracy_score(y, p), "macro": metrics.f1_score(y, p, average="macro", zero_division=0), "n": len(rows)}))
'@ (Join-Path $script:folder 'test-predictions.csv') | ConvertFrom-Json
        $sk.n | Should -Be 12
        [math]::Abs($script:clf.Evaluation.OverallAccuracy - $sk.oa) | Should -BeLessThan 1e-12
        [math]::Abs($script:clf.Evaluation.BalancedAccuracy - $sk.ba) | Should -BeLessThan 1e-12
        [math]::Abs($script:clf.Evaluation.MacroF1 - $sk.macro) | Should -BeLessThan 1e-12
        $card = Get-Content -Raw (Join-Path $script:folder 'classifier-card.json') | ConvertFrom-Json
        $card.inputBands -join ',' | Should -Be 'B01,B02,B03,B04,B05,B06,B07,B08,B8A,B09,B11,B12'
        $card.inputLevel | Should -Be 'L1C'
    }

    It 'predicts the dataset again, and refuses RGB input with ModelBandMismatch' {
        $predictions = Get-LabelledImage $script:ms -PatchSize 32 -Class SeaLake | Invoke-ClassPrediction -Model (Import-ClassificationModel $script:folder)
        $predictions.Count | Should -Be 10
        $predictions[0].Actual | Should -Be 'SeaLake'
        { Get-LabelledImage $script:ms -PatchSize 32 -Band B04, B03, B02 | Invoke-ClassPrediction -Model $script:clf -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelBandMismatch,DeepSentinel.Cmdlets.Commands.InvokeClassPredictionCommand'
    }

    It 'RGB into the pretrained demo encoder: trained as B02-B04 with the rest mean-filled, recorded as RGB' {
        $split = Get-LabelledImage $script:ms -PatchSize 32 -Band B04, B03, B02 | Split-LabelledCorpus -BlockBy Sample -Seed 1
        $folder = Join-Path (New-TestFolder) 'probe'
        $probe = $split | Start-FineTuning $folder -Model (Import-EmbeddingModel $fixture.Model) -Mode LinearProbe -Sensor S2 -Epochs 2 -BatchSize 8 -IntraOpThreads 2
        $probe.Card.InputBands -join ',' | Should -Be 'B02,B03,B04'
        $probe.Evaluation.Samples | Should -Be 12
    }
}

AfterAll { Remove-TestFolder }
