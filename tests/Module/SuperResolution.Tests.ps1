# Start-SuperResolutionTraining, Invoke-SuperResolution and Measure-SuperResolution in real pwsh,
# checked by independent readers: python3-torch loads the checkpoint and runs the same network on
# the scene's own COGs (read by rasterio), numpy recomputes the metrics from the written rasters.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $ProgressPreference = 'SilentlyContinue'
    $script:Python = '/usr/bin/python3'
    # A small generated catalog: one 300 x 300 px tile, two scenes (the second only partly
    # covered, like a swath edge). Its 20 m and 60 m bands sample the same landscape as its 10 m
    # bands, so fine detail is shared across resolutions.
    $script:Root = New-TestFolder 'ds-superres-'
    $demo = New-DemoCatalog (Join-Path $script:Root 'catalog') -TileSize 300 -Tiles 1 -S2ScenesPerTile 2 -S1Scenes 1
    $script:Catalog = Split-Path $demo.CatalogPath
    $script:Scenes = @(Get-SentinelScene -Catalog $script:Catalog -Mission S2 | Sort-Object Datetime)
    $script:Full = $script:Scenes[0]
    $script:Partial = $script:Scenes[1]
    # One quickly trained small 2x model, shared by the read-only tests.
    $script:Model = $script:Full | Start-SuperResolutionTraining (Join-Path $script:Root 'model') -Steps 120 -BatchSize 8 -PatchSize 30 -ResidualBlocks 2 -Features 32 -LearningRate 0.001 -IntraOpThreads 2 -Seed 7

    function script:Invoke-Python([string] $Code) {
        $out = $Code | & $script:Python - 2>&1
        if ($LASTEXITCODE -ne 0) { throw "python failed:`n$($out -join "`n")" }
        $out
    }

    # The DSen2 network re-implemented in Python from the checkpoint's config, for the checks.
    $script:PythonNet = @'
import sys, json, torch, torch.nn.functional as F, numpy as np, rasterio
def load(path):
    ck = torch.load(path)
    assert ck["format"] == "deepsentinel-superres", ck["format"]
    return ck
def forward(ck, fine, mid, coarse=None):
    c, sd = ck["config"], ck["state_dict"]
    s = c["input_scale"]
    conv = lambda x, name: F.conv2d(x, sd[name + ".weight"], sd[name + ".bias"], padding=1)
    h, w = fine.shape[-2:]
    up = lambda x: F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    parts = [fine, up(mid)] + ([up(coarse)] if c["factor"] == 6 else [])
    skip = up(mid) if c["factor"] == 2 else up(coarse)
    y = F.relu(conv(torch.cat(parts, 1) / s, "head"))
    for i in range(c["blocks"]):
        y = y + 0.1 * conv(F.relu(conv(y, f"blocks.{i}.conv1")), f"blocks.{i}.conv2")
    return (conv(y, "tail") + skip / s) * s
'@
}

AfterAll {
    if ($script:Root) { Remove-Item $script:Root -Recurse -Force -ErrorAction SilentlyContinue }
    Remove-TestFolder
}

Describe 'Start-SuperResolutionTraining' {
    It 'trains on a piped scene and writes the model folder' {
        $script:Model | Should -BeOfType DeepSentinel.Core.SuperResolution.SuperResolutionModel
        $script:Model.Steps | Should -Be 120
        $script:Model.Factor | Should -Be 'X2'
        $script:Model.Architecture | Should -Be 'Custom'
        $card = Get-Content -Raw (Join-Path $script:Model.Path 'superres-card.json') | ConvertFrom-Json
        $card.outputBands | Should -Be @('B05', 'B06', 'B07', 'B8A', 'B11', 'B12')
        $card.inputScale | Should -Be 2000
        Join-Path $script:Model.Path 'metrics.csv' | Should -Exist
        @(Get-ChildItem $script:Model.Path -Filter 'events.out.tfevents.*').Count | Should -Be 1
        (Import-Csv (Join-Path $script:Model.Path 'metrics.csv')).Count | Should -Be 12
    }

    It 'writes a checkpoint python3-torch loads, with the DSen2 layers and 0.1 residual scaling in its config' {
        $out = Invoke-Python (@"
import torch
ck = torch.load('$($script:Model.CheckpointPath)')
c = ck['config']
print(ck['format'], ck['step'], c['factor'], c['blocks'], c['features'], c['residual_scaling'], c['loss'], c['optimizer'])
print(tuple(ck['state_dict']['head.weight'].shape), tuple(ck['state_dict']['tail.weight'].shape), len(ck['state_dict']))
"@)
        $out[0] | Should -Be 'deepsentinel-superres 120 2 2 32 0.1 l1 adam'
        $out[1] | Should -Be '(32, 10, 3, 3) (6, 32, 3, 3) 12'
    }

    It 'DSen2 and VDSen2 have the paper''s sizes' {
        $folder = New-TestFolder
        $d = $script:Full | Start-SuperResolutionTraining (Join-Path $folder 'd') -Steps 1 -BatchSize 1 -PatchSize 12 -IntraOpThreads 2
        $d.Card.Blocks | Should -Be 6
        $d.Card.Features | Should -Be 128
        $d.Card.Parameters | Should -Be 1789574
        $v = $script:Full | Start-SuperResolutionTraining (Join-Path $folder 'v') -Factor 6 -Architecture VDSen2 -Steps 1 -BatchSize 1 -PatchSize 12 -IntraOpThreads 2
        $v.Card.Blocks | Should -Be 32
        $v.Card.Features | Should -Be 256
        $v.Card.OutputBands | Should -Be @('B01', 'B09')
    }

    It 'is deterministic for a seed: the same seed gives the same weights, another seed others' {
        $folder = New-TestFolder
        $common = @{ Steps = 3; BatchSize = 2; PatchSize = 12; ResidualBlocks = 1; Features = 8; IntraOpThreads = 2 }
        $a = $script:Full | Start-SuperResolutionTraining (Join-Path $folder 'a') -Seed 5 @common
        $b = $script:Full | Start-SuperResolutionTraining (Join-Path $folder 'b') -Seed 5 @common
        $c = $script:Full | Start-SuperResolutionTraining (Join-Path $folder 'c') -Seed 6 @common
        $out = Invoke-Python (@"
import torch
a, b, c = (torch.load(p)['state_dict'] for p in ['$($a.CheckpointPath)', '$($b.CheckpointPath)', '$($c.CheckpointPath)'])
print(all(torch.equal(a[k], b[k]) for k in a), all(torch.equal(a[k], c[k]) for k in a))
"@)
        $out | Should -Be 'True False'
    }

    It 'stopped like Ctrl+C saves a checkpoint that -Resume continues' {
        $folder = Join-Path (New-TestFolder) 'm'
        $run = Start-TestRunspace "Get-SentinelScene -Catalog '$script:Catalog' -Mission S2 | Start-SuperResolutionTraining '$folder' -Steps 100000 -BatchSize 1 -PatchSize 12 -ResidualBlocks 1 -Features 8 -CheckpointInterval 100000 -IntraOpThreads 1"
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not (Test-Path (Join-Path $folder 'metrics.csv')) -or (Get-Content (Join-Path $folder 'metrics.csv')).Count -lt 3) {
            [DateTime]::UtcNow | Should -BeLessThan $deadline
            Start-Sleep -Milliseconds 200
        }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $run.PowerShell.Dispose()
        $latest = Get-Content -Raw (Join-Path $folder 'checkpoints' 'latest.json') | ConvertFrom-Json
        $latest.step | Should -BeGreaterOrEqual 20
        $resumed = $script:Full | Start-SuperResolutionTraining $folder -Steps ($latest.step + 2) -BatchSize 1 -PatchSize 12 -Resume
        $resumed.Steps | Should -Be ($latest.step + 2)
        # Without -Resume the folder is never overwritten.
        { $script:Full | Start-SuperResolutionTraining $folder -Steps 1 } | Should -Throw -ErrorId 'ModelFolderNotEmpty,DeepSentinel.Cmdlets.Commands.StartSuperResolutionTrainingCommand'
    }

    It 'trains on corpus samples, reading each window from its source scene' {
        $fixture = Get-TestFixture
        $model = Get-PatchSample $fixture.Corpus -First 3 | Start-SuperResolutionTraining (Join-Path (New-TestFolder) 'c') -Steps 2 -BatchSize 2 -PatchSize 12 -ResidualBlocks 1 -Features 8 -IntraOpThreads 2
        $model.Steps | Should -Be 2
        $model.Card.Sources.Count | Should -Be 3
    }
}

Describe 'Measure-SuperResolution' {
    BeforeAll {
        $script:EvalFolder = Join-Path $script:Root 'eval'
        $script:Rows = @($script:Full | Measure-SuperResolution $script:Model -OutputFolder $script:EvalFolder -QuicklookPath (Join-Path $script:Root 'quicklook.png') -IntraOpThreads 2)
    }

    It 'writes typed rows for bilinear, bicubic and the model, per band and overall' {
        $script:Rows.Count | Should -Be 21
        $script:Rows[0] | Should -BeOfType DeepSentinel.Core.SuperResolution.SuperResolutionMetric
        ($script:Rows.Method | Select-Object -Unique) | Should -Be @('Bilinear', 'Bicubic', 'Model')
        ($script:Rows | Where-Object Band -eq all).Count | Should -Be 3
        ($script:Rows | Format-Table | Out-String) | Should -Match 'SRE dB'
    }

    It 'after a short training, the model''s RMSE is below bicubic''s, as numpy computes it from the written files' {
        $out = Invoke-Python (@"
import numpy as np, rasterio
r = {n: rasterio.open('$script:EvalFolder/' + n + '.tif').read().astype('float64') for n in ['truth', 'model', 'bicubic', 'bilinear']}
valid = np.all(r['truth'] > 0, axis=0) & np.all(np.isfinite(r['model']), axis=0)
rmse = {n: float(np.sqrt(np.mean((r[n][:, valid] - r['truth'][:, valid]) ** 2))) for n in ['model', 'bicubic', 'bilinear']}
print(rmse['model'], rmse['bicubic'], rmse['bilinear'], int(valid.sum()))
"@)
        $model, $bicubic, $bilinear, $pixels = $out -split ' ' | ForEach-Object { [double]$_ }
        "model $model, bicubic $bicubic, bilinear $bilinear" | Write-Host
        $model | Should -BeLessThan $bicubic
        $bicubic | Should -BeLessThan $bilinear
        $reported = $script:Rows | Where-Object Band -eq all
        [math]::Abs(($reported | Where-Object Method -eq Model).Rmse - $model) | Should -BeLessThan 0.01
        [math]::Abs(($reported | Where-Object Method -eq Bicubic).Rmse - $bicubic) | Should -BeLessThan 0.01
        ($reported | Where-Object Method -eq Model).Pixels | Should -Be $pixels
        ($reported | Where-Object Method -eq Model).RmseVsBicubic | Should -BeLessThan 1
    }

    It 'writes the quicklook PNG: bilinear, model and truth side by side' {
        $info = gdalinfo -json (Join-Path $script:Root 'quicklook.png') | ConvertFrom-Json
        $info.driverShortName | Should -Be 'PNG'
        $info.bands.Count | Should -Be 3
        # Three 150 px panels and two 4 px gaps.
        $info.size[0] | Should -Be (3 * 150 + 8)
    }
}

Describe 'Invoke-SuperResolution' {
    It 'writes a 12-band 10 m COG whose 20 m bands python3-torch reproduces from the checkpoint and the scene''s COGs, tiled without seams' {
        $file = Join-Path (New-TestFolder) 'sr.tif'
        # 60 px tiles: 25 tiles over the 300 px scene, against one pass over the whole scene in Python.
        $result = $script:Full | Invoke-SuperResolution $script:Model -OutFile $file -TileSize 60 -IntraOpThreads 2
        $result | Should -BeOfType DeepSentinel.Core.SuperResolution.SuperResolvedImage
        $result.BandMethods['B05'] | Should -Be "model:$($script:Model.Path)"
        $result.BandMethods['B01'] | Should -Be 'bilinear'
        $folder = Split-Path $script:Full.FindBand('B04').Href.LocalPath
        $out = Invoke-Python ($script:PythonNet + "`n" + @"
ck = load('$($script:Model.CheckpointPath)')
read = lambda b: torch.from_numpy(rasterio.open('$folder/' + b + '.tif').read(1).astype('float32'))[None, None]
fine = torch.cat([read(b) for b in ['B02', 'B03', 'B04', 'B08']], 1)
mid = torch.cat([read(b) for b in ['B05', 'B06', 'B07', 'B8A', 'B11', 'B12']], 1)
with torch.no_grad():
    y = forward(ck, fine, mid)[0].numpy()
ds = rasterio.open('$file')
sr = ds.read().astype('float64')
print(ds.count, ds.res[0], ds.dtypes[0], ds.nodata)
mine = sr[[4, 5, 6, 8, 10, 11]]
expected = np.clip(np.rint(y), 1, 65535)
print(float(np.abs(mine - expected).max()), float(np.abs(sr[1] - fine[0, 0].numpy()).max()))
"@)
        $out[0] | Should -Be '12 10.0 uint16 0.0'
        $diff, $fine = $out[1] -split ' ' | ForEach-Object { [double]$_ }
        $diff | Should -BeLessOrEqual 1
        $fine | Should -Be 0
    }

    It 'keeps nodata: where the partial scene has no data, every band is 0' {
        $file = Join-Path (New-TestFolder) 'partial.tif'
        $script:Partial | Invoke-SuperResolution $script:Model -OutFile $file -IntraOpThreads 2 | Out-Null
        $out = Invoke-Python @"
import numpy as np, rasterio
sr = rasterio.open('$file').read()
missing = sr[1] == 0
print(int(missing.sum()) > 1000, bool(np.all(sr[:, missing] == 0)), bool(np.all(sr[:, ~missing][[4, 5, 6, 8, 10, 11]] > 0)))
"@
        $out | Should -Be 'True True True'
    }
}

Describe 'Invoke-SuperResolution on corpus samples' {
    It 'gives each sample an s2_sr.tif its STAC Item names with the model; a sample without sources is reported and the others go on' {
        $corpus = Copy-TestCorpus
        $samples = @(Get-PatchSample $corpus -First 3)
        $stripped = Join-Path $corpus 'samples' $samples[1].Id 'item.json'
        $json = Get-Content -Raw $stripped | ConvertFrom-Json -AsHashtable
        $json.properties.Remove('deepsentinel:source_assets')
        $json | ConvertTo-Json -Depth 30 | Set-Content $stripped
        $out = @($samples | Invoke-SuperResolution $script:Model -IntraOpThreads 2 -ErrorVariable bad -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 2
        @($bad).Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'SuperResolutionSourceMissing,*'
        Join-Path $corpus 'samples' $samples[1].Id 's2_sr.tif' | Should -Not -Exist
        $item = Get-Content -Raw (Join-Path $corpus 'samples' $samples[0].Id 'item.json') | ConvertFrom-Json
        $item.assets.s2_sr.href | Should -Be './s2_sr.tif'
        $sr = $item.properties.'deepsentinel:super_resolution'
        $sr.models[0].path | Should -Be $script:Model.Path
        $sr.models[0].factor | Should -Be 2
        $sr.bands.B05 | Should -Be "model:$($script:Model.Path)"
        $sr.bands.B02 | Should -Be 'native'
        $sr.bands.B01 | Should -Be 'bilinear'
        $folder = Join-Path $corpus 'samples' $samples[0].Id
        $check = Invoke-Python @"
import numpy as np, rasterio
a, b = rasterio.open('$folder/s2_sr.tif'), rasterio.open('$folder/s2.tif')
print(a.count, a.width, a.height, a.transform == b.transform, a.crs == b.crs, bool(np.array_equal(a.read(2), b.read(2))), bool((a.read(5) > 0).all()))
"@
        $check | Should -Be '12 256 256 True True True True'
        @(Get-ChildItem $corpus -Recurse -Filter '*.partial*').Count | Should -Be 0
    }
}

Describe 'Bad input' {
    It 'a scene missing a band the model needs is SceneBandMissing, and no folder is written' {
        $copy = Join-Path (New-TestFolder) 'catalog'
        Copy-Item -Recurse $script:Catalog $copy
        $item = Get-ChildItem (Join-Path $copy 'sentinel-2-l2a') -Recurse -Filter '*.json' | Where-Object Name -ne 'collection.json' | Select-Object -First 1
        $json = Get-Content -Raw $item.FullName | ConvertFrom-Json -AsHashtable
        $json.assets.Remove('B05')
        $json | ConvertTo-Json -Depth 20 | Set-Content $item.FullName
        $scene = Get-SentinelScene -Catalog $copy -Mission S2 | Where-Object { -not $_.FindBand('B05') }
        $folder = Join-Path (New-TestFolder) 'm'
        $e = { $scene | Start-SuperResolutionTraining $folder -Steps 1 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'SceneBandMissing,DeepSentinel.Cmdlets.Commands.StartSuperResolutionTrainingCommand'
        $e.Exception.Message | Should -Match 'B05'
        $folder | Should -Not -Exist
        $file = Join-Path (Split-Path $folder) 'x.tif'
        { $scene | Invoke-SuperResolution $script:Model -OutFile $file } | Should -Throw -ErrorId 'SceneBandMissing,DeepSentinel.Cmdlets.Commands.InvokeSuperResolutionCommand'
        $file | Should -Not -Exist
    }

    It 'two models of one factor are SuperResolutionFactorMismatch, and nothing is written' {
        $folder = New-TestFolder
        $file = Join-Path $folder 'x.tif'
        { $script:Full | Invoke-SuperResolution $script:Model, $script:Model.Path -OutFile $file } | Should -Throw -ErrorId 'SuperResolutionFactorMismatch,DeepSentinel.Cmdlets.Commands.InvokeSuperResolutionCommand'
        @(Get-ChildItem $folder -Force).Count | Should -Be 0
    }

    It 'a window outside the scene is SuperResolutionWindowOutsideScene, and nothing is written' {
        $folder = New-TestFolder
        $file = Join-Path $folder 'x.tif'
        $e = { $script:Full | Invoke-SuperResolution $script:Model -BoundingBox 10, 10, 10.01, 10.01 -OutFile $file } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'SuperResolutionWindowOutsideScene,DeepSentinel.Cmdlets.Commands.InvokeSuperResolutionCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        { $script:Full | Measure-SuperResolution $script:Model -BoundingBox 10, 10, 10.01, 10.01 -OutputFolder (Join-Path $folder 'eval') } | Should -Throw -ErrorId 'SuperResolutionWindowOutsideScene,DeepSentinel.Cmdlets.Commands.MeasureSuperResolutionCommand'
        @(Get-ChildItem $folder -Force).Count | Should -Be 0
    }

    It 'a corpus whose samples lack 20 m sources is SuperResolutionSourceMissing, and no model is written' {
        $corpus = Copy-TestCorpus
        foreach ($item in Get-ChildItem (Join-Path $corpus 'samples') -Recurse -Filter 'item.json') {
            $json = Get-Content -Raw $item.FullName | ConvertFrom-Json -AsHashtable
            foreach ($band in 'B05', 'B06', 'B07', 'B8A', 'B11', 'B12') { $json.properties['deepsentinel:source_assets'].Remove($band) }
            $json | ConvertTo-Json -Depth 30 | Set-Content $item.FullName
        }
        $folder = Join-Path (New-TestFolder) 'm'
        $e = { Start-SuperResolutionTraining $folder -Corpus $corpus -Steps 1 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'SuperResolutionSourceMissing,DeepSentinel.Cmdlets.Commands.StartSuperResolutionTrainingCommand'
        $e.Exception.Message | Should -Match 'B05, B06, B07, B8A, B11, B12'
        $folder | Should -Not -Exist
        { Get-PatchSample $corpus -First 1 | Measure-SuperResolution $script:Model } | Should -Throw -ErrorId 'SuperResolutionSourceMissing,DeepSentinel.Cmdlets.Commands.MeasureSuperResolutionCommand'
    }

    It 'a folder that is no super-resolution model is refused while -Model binds, with the reason' {
        $e = { $script:Full | Measure-SuperResolution (Get-TestFixture).Model } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
        $e.Exception.Message | Should -Match 'not a super-resolution model folder.*embedding model'
    }
}
