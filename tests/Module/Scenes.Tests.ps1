# Get-SentinelScene in real pwsh, on the bundled static catalog and the demo catalog: filters,
# typed output and views, early stop, stable error ids and -ErrorAction semantics.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $catalog = Join-Path $PSScriptRoot '..' '..' 'examples' 'demo-catalog'
    $area = @{ BoundingBox = 1.5, 48.4, 3.5, 49.5; Start = '2019-08-01'; End = '2019-08-31' }
}

Describe 'Get-SentinelScene' {
    It 'filters Sentinel-2 by cloud cover and returns SentinelScene objects' {
        $s2 = Get-SentinelScene -Catalog $catalog @area -Mission S2 -MaxCloudCover 30
        $s2.Count | Should -Be 2
        $s2 | ForEach-Object { $_ | Should -BeOfType DeepSentinel.Core.Scenes.SentinelScene; $_.CloudCover | Should -BeLessOrEqual 30 }
        $s2[0].FindBand('B04') | Should -Not -BeNullOrEmpty
    }

    It 'filters Sentinel-1 by polarisation and orbit; the table view shows the columns' {
        $s1 = Get-SentinelScene -Catalog $catalog @area -Mission S1 -Polarization VV, VH -OrbitState Ascending
        $s1.Count | Should -Be 3
        ($s1 | Format-Table | Out-String) | Should -Match 'Time \(UTC\)\s+Mission\s+Cloud\s+Orbit'
    }

    It 'Select-Object -First 1 stops the search' {
        (Get-SentinelScene -Catalog $catalog @area | Select-Object -First 1) | Should -HaveCount 1
    }

    It 'a bad bounding box is InvalidBoundingBox; -ErrorAction does not hide a terminating error' {
        { Get-SentinelScene -Catalog $catalog -BoundingBox 10, 50, 5, 40 } | Should -Throw -ErrorId 'InvalidBoundingBox,DeepSentinel.Cmdlets.Commands.GetSentinelSceneCommand'
        { Get-SentinelScene -Catalog $catalog -Start 2020-01-02 -End 2020-01-01 -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'EndBeforeStart,DeepSentinel.Cmdlets.Commands.GetSentinelSceneCommand'
    }

    It 'a catalog that does not exist is CatalogUnreadable' {
        $e = { Get-SentinelScene -Catalog (Join-Path (New-TestFolder) 'none') } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'CatalogUnreadable,*'
    }

    It 'a bad item is a non-terminating error: -ErrorAction SilentlyContinue keeps the rest, -ErrorVariable has it' {
        $folder = New-TestFolder
        Copy-Item -Recurse $catalog (Join-Path $folder 'c')
        $item = Get-ChildItem (Join-Path $folder 'c') -Recurse -Filter '*.json' | Where-Object { (Get-Content -Raw $_) -match '"type"\s*:\s*"Feature"' } | Select-Object -First 1
        Set-Content $item.FullName '{"type": "Feature", "id": 42}'
        $scenes = Get-SentinelScene -Catalog (Join-Path $folder 'c') -ErrorAction SilentlyContinue -ErrorVariable err
        $scenes.Count | Should -BeGreaterThan 0
        $err.Count | Should -BeGreaterOrEqual 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SceneItemInvalid,*'
    }
}
