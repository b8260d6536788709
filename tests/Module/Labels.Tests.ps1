# Add-CorineLabel and Add-OsmLabel in real pwsh: the pipelines, early stop, empty input, -WhatIf,
# errors. Cases that hung before are run in a child pwsh with a time limit, so a hang fails.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
}

Describe 'Add-CorineLabel and Add-OsmLabel' {
    It 'label a corpus through the pipeline: Get-PatchSample | Add-CorineLabel | Add-OsmLabel' {
        $corpus = Copy-TestCorpus
        $out = Get-PatchSample $corpus | Add-CorineLabel $fixture.Clc -Force | Add-OsmLabel $fixture.Osm -Force
        $out.Count | Should -Be 16
        $out | ForEach-Object { $_ | Should -BeOfType DeepSentinel.Core.Corpus.PatchSample }
        $out | ForEach-Object { $_.Labels.Keys | Should -Contain 'clc'; $_.Labels.Keys | Should -Contain 'osm' }
        # The demo's CLC and OSM sources come from one landscape: CLC's arable land is OSM's farmland.
        $read = Get-PatchSample $corpus | Where-Object DominantClc -eq 211 | Select-Object -First 1
        $item = Get-Content -Raw $read.AssetLocation('item') | ConvertFrom-Json
        $item.properties.'deepsentinel:osm_shares'.farmland | Should -BeGreaterThan 0.5
        Get-ChildItem -Force $corpus -Filter '.staging-labels' | Where-Object { $_.GetFileSystemInfos().Count -gt 0 } | Should -BeNullOrEmpty
    }

    It 'streams: New-PatchSample | Add-CorineLabel labels while sampling goes on (it waited for the end of the input)' {
        $events = [System.Collections.Generic.List[string]]::new()
        $corpus = Join-Path (New-TestFolder) 'corpus'
        New-PatchSample $corpus -Catalog $fixture.Demo -Start 2019-08-01 -End 2019-08-20 -Count 8 -Seed 1 -ThrottleLimit 1 |
            ForEach-Object { $events.Add('new'); $_ } |
            Add-CorineLabel $fixture.Clc |
            ForEach-Object { $events.Add('labelled') }
        $events.Count | Should -Be 16
        $events.IndexOf('labelled') | Should -BeLessThan $events.LastIndexOf('new')
    }

    It 'labelled samples pass through a rerun unchanged, without -Force' {
        $before = (Get-Item (Join-Path $fixture.Corpus 'samples' 'ds00000007_31UEQ_20190806' 'clc.tif')).LastWriteTimeUtc
        $out = Get-PatchSample $fixture.Corpus | Add-CorineLabel $fixture.Clc
        $out.Count | Should -Be 16
        (Get-Item (Join-Path $fixture.Corpus 'samples' 'ds00000007_31UEQ_20190806' 'clc.tif')).LastWriteTimeUtc | Should -Be $before
    }

    It '<Cmdlet> -Corpus ... -Force | Select-Object -First 1 returns at once (it hung)' -ForEach @(
        @{ Cmdlet = 'Add-CorineLabel'; Source = 'Clc' }
        @{ Cmdlet = 'Add-OsmLabel'; Source = 'Osm' }
    ) {
        $corpus = Copy-TestCorpus
        # The child's own temporary folder: what it leaves there is its own.
        $temp = New-TestFolder 'ds-tmp-'
        foreach ($try in 1..3) {
            $r = Invoke-ChildPwsh -TimeoutSeconds 90 -Environment @{ TMPDIR = $temp } -Script "$Cmdlet -Corpus '$corpus' -Path '$($fixture.$Source)' -Force | Select-Object -First 1 | ForEach-Object Id"
            $r.TimedOut | Should -BeFalse -Because "try $try must not hang"
            $r.ExitCode | Should -Be 0 -Because $r.Error
            $r.Output.Trim() | Should -Match '^ds\d{8}_'
        }
        @(Get-ChildItem $temp -Filter 'deepsentinel-osm-*').Count | Should -Be 0 -Because 'the OSM index copy is deleted'
    }

    It '@() | <Cmdlet> <source> writes nothing and fails nothing (the source was resolved per record)' -ForEach @(
        @{ Cmdlet = 'Add-CorineLabel'; Source = 'Clc' }
        @{ Cmdlet = 'Add-OsmLabel'; Source = 'Osm' }
    ) {
        $out = @() | & $Cmdlet $fixture.$Source -ErrorVariable err
        $out | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'a corpus outside the CLC source: warnings, then Add-OsmLabel on the empty stream is no error' {
        $folder = New-TestFolder
        # A CLC raster from another demo area (Spain) does not cover the Paris corpus.
        $far = New-DemoCatalog (Join-Path $folder 'far') -Longitude -3.7 -Latitude 40.4 -TileSize 300 -Tiles 1 -S2ScenesPerTile 1 -S1Scenes 1
        $corpus = Copy-TestCorpus
        $out = Get-PatchSample $corpus | Add-CorineLabel $far.ClcPath -Force -WarningVariable warn -WarningAction SilentlyContinue | Add-OsmLabel $fixture.Osm -Force -ErrorVariable err
        $out | Should -BeNullOrEmpty
        $warn.Count | Should -Be 16
        "$($warn[0])" | Should -Match 'outside the label source'
        $err | Should -BeNullOrEmpty
    }

    It '-WhatIf labels nothing and writes nothing' {
        $corpus = Copy-TestCorpus
        $item = Join-Path $corpus 'samples' 'ds00000007_31UEQ_20190806' 'item.json'
        $before = Get-FileHash $item
        $out = Get-PatchSample $corpus | Add-OsmLabel $fixture.Osm -Force -WhatIf
        $out | Should -BeNullOrEmpty
        (Get-FileHash $item).Hash | Should -Be $before.Hash
    }

    It 'a missing source is one terminating LabelSourceUnreadable error, before any sample' {
        { Get-PatchSample $fixture.Corpus | Add-CorineLabel ./no-such-clc.tif -Force } |
            Should -Throw -ErrorId 'LabelSourceUnreadable,DeepSentinel.Cmdlets.Commands.AddCorineLabelCommand'
        $e = { Add-OsmLabel -Corpus $fixture.Corpus -Path ./nope.osm.pbf } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'LabelSourceUnreadable,DeepSentinel.Cmdlets.Commands.AddOsmLabelCommand'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'binds samples by value and -Corpus by name; takes -Corpus on any store location' {
        (Get-Command Add-CorineLabel).Parameters['InputObject'].Attributes.ValueFromPipeline | Should -Contain $true
        $corpus = Copy-TestCorpus
        (Add-CorineLabel -Corpus $corpus -Path $fixture.Clc -Force).Count | Should -Be 16
    }
}

Describe 'Label sources: the details the issue found' {
    BeforeAll {
        # Polygons of the demo CLC raster (gdal_polygonize), independent of the module's readers.
        $work = New-TestFolder
        $shp = Join-Path $work 'clc.shp'
        & /usr/bin/python3 -c @"
import sys
from osgeo import gdal, ogr, osr
gdal.UseExceptions()
src = gdal.Open(sys.argv[1])
drv = ogr.GetDriverByName('ESRI Shapefile')
ds = drv.CreateDataSource(sys.argv[2])
layer = ds.CreateLayer('clc', srs=None, geom_type=ogr.wkbPolygon)
layer.CreateField(ogr.FieldDefn('CODE_18', ogr.OFTInteger))
gdal.Polygonize(src.GetRasterBand(1), src.GetRasterBand(1).GetMaskBand(), layer, 0)
"@ $fixture.Clc $shp
        # A Shapefile without .prj, through ogr2ogr to a GeoPackage: srs_id 0.
        & ogr2ogr -f GPKG (Join-Path $work 'nocrs.gpkg') $shp
        # With the CRS assigned, every polygon's code changed to 999 (CLC's "no data").
        & ogr2ogr -f GPKG -a_srs EPSG:3035 -sql 'SELECT 999 AS CODE_18 FROM clc' (Join-Path $work 'nodata999.gpkg') $shp
        function Get-Id($ErrorRecord) { $ErrorRecord.FullyQualifiedErrorId -replace ',.*$' }
    }

    It 'a GeoPackage with srs_id 0 (ogr2ogr from a .shp without .prj) is LabelSourceNoCrs, before any sample' {
        (& ogrinfo -q -sql 'SELECT srs_id FROM gpkg_geometry_columns' (Join-Path $work 'nocrs.gpkg')) -join ' ' | Should -Match 'srs_id \(Integer(64)?\) = 0'
        $corpus = Copy-TestCorpus
        $e = { Get-PatchSample $corpus | Add-CorineLabel (Join-Path $work 'nocrs.gpkg') -Force -WarningAction SilentlyContinue } | Should -Throw -PassThru
        Get-Id $e | Should -Be 'LabelSourceNoCrs'
    }

    It 'a damaged GeoPackage that still opens is one LabelSourceUnreadable error before any sample (it was one per sample)' {
        $good = Join-Path $work 'good.gpkg'
        & ogr2ogr -f GPKG -a_srs EPSG:3035 $good $shp
        $bytes = [IO.File]::ReadAllBytes($good)
        for ($i = [int]($bytes.Length * 0.5); $i -lt [int]($bytes.Length * 0.9); $i++) { $bytes[$i] = [byte](($i * 7919) % 256) }
        $bad = Join-Path $work 'damaged.gpkg'
        [IO.File]::WriteAllBytes($bad, $bytes)
        (& ogrinfo -so $bad clc 2>$null) -join ' ' | Should -Match 'Feature Count' -Because 'the damaged file still opens (ogrinfo)'
        $corpus = Copy-TestCorpus
        $errors = @()
        $samples = @(Get-PatchSample $corpus | Select-Object -First 4)
        $before = Get-CorpusFileHash $corpus
        try { $samples | Add-CorineLabel $bad -Force -ErrorVariable +errors -ErrorAction Continue 2>$null | Out-Null } catch { $errors += $_ }
        # A terminating error is both in -ErrorVariable and caught: count the distinct ones.
        $distinct = @($errors | Where-Object { $_ -is [Management.Automation.ErrorRecord] } | Group-Object { "$_" } | ForEach-Object { $_.Group[0] })
        $distinct.Count | Should -Be 1
        Get-Id $distinct[0] | Should -Be 'LabelSourceUnreadable'
        "$($distinct[0])" | Should -Match 'cannot be read'
        # Nothing was written for any sample.
        (Get-CorpusFileHash $corpus | ConvertTo-Json) | Should -Be ($before | ConvertTo-Json)
        # The same polygons undamaged label the samples.
        @(Get-PatchSample $corpus | Select-Object -First 2 | Add-CorineLabel $good -Force).Count | Should -Be 2
    }

    It 'CLC code 999 means "no label" for vectors as for rasters (it was ClcCodeUnknown)' {
        $corpus = Copy-TestCorpus
        $errors = @()
        $out = Get-PatchSample $corpus | Select-Object -First 2 | Add-CorineLabel (Join-Path $work 'nodata999.gpkg') -Force -ErrorVariable errors -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue
        $errors | Should -BeNullOrEmpty
        @($warnings | Where-Object { "$_" -match 'outside the label source' }).Count | Should -Be 2
        @($out).Count | Should -Be 0
    }

    It 'clc.png draws nodata transparent (black is 334 Burnt areas): read with rasterio' {
        # The CLC raster with its east half cut off, so patches there are partly nodata.
        $cut = Join-Path $work 'cut.tif'
        $info = & gdalinfo -json $fixture.Clc | ConvertFrom-Json -AsHashtable
        $w = $info.size[0]; $h = $info.size[1]
        & gdal_translate -q -srcwin 0 0 ([int]($w * 0.55)) $h $fixture.Clc $cut
        $corpus = Copy-TestCorpus
        $labelled = @(Get-PatchSample $corpus | Add-CorineLabel $cut -Force -WarningAction SilentlyContinue)
        $labelled.Count | Should -BeGreaterThan 0
        $report = foreach ($s in $labelled) {
            & /usr/bin/python3 -c @"
import sys, warnings, rasterio, numpy as np
warnings.simplefilter('ignore')  # the PNG has no georeferencing, as intended
clc = rasterio.open(sys.argv[1]).read(1); png = rasterio.open(sys.argv[2]).read()
assert png.shape[0] == 4, png.shape
print(int((png[3] == 0).sum()), int((clc == 0).sum()), int(((png[3] == 0) != (clc == 0)).sum()))
"@ (Join-Path $corpus 'samples' $s.Id 'clc.tif') (Join-Path $corpus 'samples' $s.Id 'clc.png')
        }
        $rows = $report | ForEach-Object { , [int[]]($_ -split ' ') }
        $rows | ForEach-Object { $_[2] | Should -Be 0 -Because 'alpha is 0 exactly where clc.tif is nodata' }
        ($rows | Where-Object { $_[1] -gt 0 }).Count | Should -BeGreaterThan 0 -Because 'some patch must be partly outside the cut raster'
    }

    It 'Add-OsmLabel warns about an all-zero mask and says so in the Item' {
        # An extract with the class map's tags, but far from the corpus.
        $geojson = Join-Path $work 'far.geojson'
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"building":"yes","highway":null,"landuse":null,"natural":null,"waterway":null,"railway":null},"geometry":{"type":"Polygon","coordinates":[[[100,10],[100.01,10],[100.01,10.01],[100,10.01],[100,10]]]}}]}' | Set-Content $geojson
        $corpus = Copy-TestCorpus
        $out = Get-PatchSample $corpus | Select-Object -First 2 | Add-OsmLabel $geojson -Force -WarningVariable warnings -WarningAction SilentlyContinue
        @($out).Count | Should -Be 2
        @($warnings | Where-Object { "$_" -match 'all zero' }).Count | Should -Be 2
        foreach ($s in $out) {
            (Get-Content -Raw (Join-Path $corpus 'samples' $s.Id 'item.json') | ConvertFrom-Json).properties.'deepsentinel:osm_empty' | Should -BeTrue
        }
        # The fixture's own OSM labels are not empty.
        (Get-Content -Raw (Join-Path $fixture.Corpus 'samples' (Get-PatchSample $fixture.Corpus | Select-Object -First 1).Id 'item.json') | ConvertFrom-Json).properties.'deepsentinel:osm_empty' | Should -BeFalse
    }

    It 'Add-OsmLabel -WhatIf and a rerun with every sample labelled do not index the extract' {
        $corpus = Copy-TestCorpus
        $whatIf = Get-PatchSample $corpus | Add-OsmLabel $fixture.Osm -Force -WhatIf -Verbose 4>&1 | Out-String
        $whatIf | Should -Not -Match 'Indexing the OSM extract'
        $rerun = Get-PatchSample $corpus | Add-OsmLabel $fixture.Osm -Verbose 4>&1
        @($rerun | Where-Object { $_ -is [DeepSentinel.Core.Corpus.PatchSample] }).Count | Should -Be 16
        ($rerun | Out-String) | Should -Not -Match 'Indexing the OSM extract'
        # When a sample needs its label, the extract is indexed (so the message means something).
        (Get-PatchSample $corpus | Select-Object -First 1 | Add-OsmLabel $fixture.Osm -Force -Verbose 4>&1 | Out-String) | Should -Match 'Indexing the OSM extract'
    }
}

AfterAll { Remove-TestFolder }
