# The corpus's STAC-GeoParquet table (items.parquet) and Update-CorpusTable in real pwsh, read back
# by hyparquet (npm, pure JavaScript), not by the Parquet.Net that wrote it.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    $readme = @{ Catalog = $fixture.Demo; Start = '2019-08-01'; End = '2019-08-20'; Seed = 1 }
}

Describe 'The corpus table written by New-PatchSample' {
    It 'lists the index in point order as GeoParquet 1.1 with real timestamps and relative hrefs' {
        $folder = Join-Path (New-TestFolder) 'corpus'
        $built = New-PatchSample $folder @readme -Count 6
        $table = Read-ParquetTable (Join-Path $folder 'items.parquet')

        $geo = $table.metadata.geo | ConvertFrom-Json -AsHashtable
        $geo.version | Should -Be '1.1.0'
        $geo.columns.geometry.encoding | Should -Be 'WKB'
        $geo.columns.geometry.geometry_types | Should -Be @('Polygon')
        $geo.columns.geometry.crs.id.code | Should -Be 'CRS84'
        ($table.schema | Where-Object name -eq 'datetime').logical.type | Should -Be 'TIMESTAMP'
        ($table.schema | Where-Object name -eq 'datetime').type | Should -Be 'INT64'

        $table.rows.id | Should -Be $built.Id
        $table.rows.id | Should -Be (Get-PatchSample $folder).Id
        for ($i = 0; $i -lt $built.Count; $i++) {
            $row = $table.rows[$i]
            $sample = $built[$i]
            $row.datetime | Should -Be $sample.S2Datetime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'")
            $row.'proj:epsg' | Should -Be $sample.Epsg
            $row.'deepsentinel:days_apart' | Should -Be $sample.DaysApart
            $row.'deepsentinel:cloud_fraction' | Should -Be $sample.CloudFraction
            $row.geometry.type | Should -Be 'Polygon'
            # The point the patch was centred on is inside its footprint's bbox.
            $sample.Longitude | Should -BeGreaterThan $row.bbox.xmin
            $sample.Longitude | Should -BeLessThan $row.bbox.xmax
            $sample.Latitude | Should -BeGreaterThan $row.bbox.ymin
            $sample.Latitude | Should -BeLessThan $row.bbox.ymax
            Join-Path $folder $row.assets.s2.href | Should -Exist
            Join-Path $folder $row.assets.item.href | Should -Exist
        }
        (Get-Content (Join-Path $folder 'collection.json') | ConvertFrom-Json).assets.'geoparquet-items'.href | Should -Be './items.parquet'
    }

    It 'a shard run that leaves the corpus to others writes no table; the merging run writes the one table' {
        $folder = Join-Path (New-TestFolder) 'corpus'
        New-PatchSample $folder @readme -Count 6 -Shard 0 -ShardCount 2 -WarningAction SilentlyContinue | Out-Null
        Join-Path $folder 'items.parquet' | Should -Not -Exist
        New-PatchSample $folder @readme -Count 6 -Shard 1 -ShardCount 2 -WarningAction SilentlyContinue | Out-Null
        $reference = Join-Path (New-TestFolder) 'corpus'
        New-PatchSample $reference @readme -Count 6 | Out-Null
        (Get-FileHash (Join-Path $folder 'items.parquet')).Hash | Should -Be (Get-FileHash (Join-Path $reference 'items.parquet')).Hash
    }
}

Describe 'Update-CorpusTable' {
    It 'brings the labels of a labelled corpus into the table, and a second run writes nothing' {
        $corpus = Copy-TestCorpus
        $before = Read-ParquetTable (Join-Path $corpus 'items.parquet')
        $result = Update-CorpusTable $corpus
        $again = Update-CorpusTable $corpus
        $table = Read-ParquetTable (Join-Path $corpus 'items.parquet')
        $samples = Get-PatchSample $corpus

        $result | Should -BeOfType DeepSentinel.Core.Corpus.CorpusTableResult
        $result.Rows | Should -Be 16
        $result.Labelled | Should -Be 16
        $result.Written | Should -BeTrue
        $again.Written | Should -BeFalse
        # Built before it was labelled, the table had no labels; now it has each sample's.
        @($before.rows | Where-Object { $_.'deepsentinel:labels'.Count -gt 0 }).Count | Should -Be 0
        $table.rows.id | Should -Be $samples.Id
        for ($i = 0; $i -lt 16; $i++) {
            $table.rows[$i].'deepsentinel:labels' | Should -Be @('clc', 'osm')
            $table.rows[$i].'deepsentinel:clc_dominant' | Should -Be $samples[$i].DominantClc
            $table.rows[$i].assets.clc.href | Should -Be $samples[$i].Labels['clc']
            Join-Path $corpus $table.rows[$i].assets.osm.href | Should -Exist
        }
        (Format-Table -InputObject $again | Out-String) | Should -Match 'Labelled'
    }

    It 'takes samples from the pipeline and writes each corpus once, after the last one' {
        $corpus = Copy-TestCorpus
        $out = Get-PatchSample $corpus | Update-CorpusTable
        @($out).Count | Should -Be 1
        $out.Labelled | Should -Be 16
    }

    It '-WhatIf writes nothing' {
        $corpus = Copy-TestCorpus
        $hash = (Get-FileHash (Join-Path $corpus 'items.parquet')).Hash
        Update-CorpusTable $corpus -WhatIf | Should -BeNullOrEmpty
        (Get-FileHash (Join-Path $corpus 'items.parquet')).Hash | Should -Be $hash
    }

    It 'a sample whose Item is gone is a non-terminating error and is left out of the table' {
        $corpus = Copy-TestCorpus
        $gone = (Get-PatchSample $corpus -First 1).Id
        Remove-Item (Join-Path $corpus 'samples' $gone 'item.json')
        $result = Update-CorpusTable $corpus -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.Rows | Should -Be 15
        $failures.Count | Should -Be 1
        (Read-ParquetTable (Join-Path $corpus 'items.parquet')).rows.id | Should -Not -Contain $gone
    }

    It 'a location without a corpus is CorpusNotFound' {
        { Update-CorpusTable (Join-Path (New-TestFolder) 'nope') } |
            Should -Throw -ErrorId 'CorpusNotFound,DeepSentinel.Cmdlets.Commands.UpdateCorpusTableCommand'
    }
}

AfterAll { Remove-TestFolder }
