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
