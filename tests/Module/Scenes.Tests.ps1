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

Describe 'New-PatchSample -SceneLookup against a loopback STAC API (issue 16)' {
    BeforeAll {
        $fixture = Get-TestFixture
        $ProgressPreference = 'SilentlyContinue'
        # The demo catalog's items as an API serves them: absolute hrefs, footprints parsed for the
        # intersects/bbox filters (real APIs test geometries, not only bboxes).
        $items = foreach ($file in Get-ChildItem $fixture.Demo -Recurse -Filter '*.json' | Where-Object { $_.Directory.Parent.Name -in 'sentinel-2-l2a', 'sentinel-1-rtc' }) {
            $item = Get-Content $file -Raw | ConvertFrom-Json -AsHashtable -DateKind String
            foreach ($asset in $item.assets.Values) { $asset.href = [IO.Path]::GetFullPath((Join-Path $file.DirectoryName $asset.href)) }
            $item.links = @()
            $json = $item | ConvertTo-Json -Depth 50 -Compress
            $document = [System.Text.Json.JsonDocument]::Parse($json)
            [pscustomobject]@{
                Json       = $json
                Collection = $item.collection
                Datetime   = [DateTimeOffset]::Parse($document.RootElement.GetProperty('properties').GetProperty('datetime').GetString(), [cultureinfo]::InvariantCulture)
                Footprint  = [DeepSentinel.Core.Geometry.GeoJson]::ReadGeometry($document.RootElement.GetProperty('geometry'))
            }
        }
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $requests = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
        $server = Start-ThreadJob -ArgumentList $port, $requests, $items {
            param($port, $requests, $items)
            $listener = [System.Net.HttpListener]::new()
            $listener.Prefixes.Add("http://127.0.0.1:$port/")
            $listener.Start()
            $root = "http://127.0.0.1:$port/api/"
            $deadline = [DateTime]::UtcNow.AddMinutes(15); $task = $null
            while ($listener.IsListening -and [DateTime]::UtcNow -lt $deadline) {
                # One pending accept at a time: a new GetContextAsync would strand the request the old one gets.
                if ($null -eq $task) { $task = $listener.GetContextAsync() }
                if (-not $task.Wait(1000)) { continue }
                $context = $task.Result; $task = $null
                $path = $context.Request.Url.AbsolutePath.TrimEnd('/')
                $requests.Enqueue("$($context.Request.HttpMethod) $path")
                if ($path -eq '/api') {
                    $text = @{ type = 'Catalog'; id = 'loopback'; stac_version = '1.0.0'; description = 'test'
                        conformsTo = @('https://api.stacspec.org/v1.0.0/core', 'https://api.stacspec.org/v1.0.0/item-search')
                        links = @(@{ rel = 'self'; href = $root }, @{ rel = 'search'; href = "${root}search"; method = 'POST' }) } | ConvertTo-Json -Depth 5
                } else {
                    $reader = [IO.StreamReader]::new($context.Request.InputStream)
                    $body = [System.Text.Json.JsonDocument]::Parse($reader.ReadToEnd()).RootElement
                    $collections = @($body.GetProperty('collections').EnumerateArray() | ForEach-Object GetString)
                    $area = $null; $bbox = [System.Text.Json.JsonElement]::new(); $geometry = [System.Text.Json.JsonElement]::new()
                    if ($body.TryGetProperty('intersects', [ref] $geometry)) { $area = [DeepSentinel.Core.Geometry.GeoJson]::ReadGeometry($geometry) }
                    elseif ($body.TryGetProperty('bbox', [ref] $bbox)) {
                        $b = @($bbox.EnumerateArray() | ForEach-Object GetDouble)
                        $area = [DeepSentinel.Core.Geometry.GeoJson]::Wgs84Factory.ToGeometry([NetTopologySuite.Geometries.Envelope]::new($b[0], $b[2], $b[1], $b[3]))
                    }
                    $range = $body.GetProperty('datetime').GetString() -split '/'
                    $from = [DateTimeOffset]::Parse($range[0], [cultureinfo]::InvariantCulture); $to = [DateTimeOffset]::Parse($range[1], [cultureinfo]::InvariantCulture)
                    $found = @($items | Where-Object { $_.Collection -in $collections -and $_.Datetime -ge $from -and $_.Datetime -le $to -and $area.Intersects($_.Footprint) })
                    $text = '{"type":"FeatureCollection","links":[],"features":[' + (($found | ForEach-Object Json) -join ',') + ']}'
                }
                $bytes = [Text.Encoding]::UTF8.GetBytes($text)
                $context.Response.ContentType = 'application/json'
                $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                $context.Response.Close()
            }
        }
        Start-Sleep -Milliseconds 500
        $api = "http://127.0.0.1:$port/api"
        $s2 = Get-SentinelScene -Catalog $fixture.Demo -Mission S2
        $wkt = [NetTopologySuite.Operation.Union.CascadedPolygonUnion]::Union([NetTopologySuite.Geometries.Geometry[]] @($s2.Footprint)).AsText()
        # Planetary Computer's profile (its collection names, as the demo items have them) at the loopback address.
        $common = @{ Provider = 'PlanetaryComputer'; StacUrl = $api; Intersects = $wkt; Start = '2019-08-01'; End = '2019-08-20'; Count = 4; Seed = 1; ThrottleLimit = 2 }
        function Get-CorpusFiles([string] $Root) {
            Get-ChildItem $Root -Recurse -File | Where-Object { $_.FullName -notmatch '[\\/](scene-cache|\.staging)[\\/]' } |
                ForEach-Object { [pscustomobject]@{ Path = [IO.Path]::GetRelativePath($Root, $_.FullName); Hash = (Get-FileHash $_.FullName).Hash } } | Sort-Object Path
        }
    }

    AfterAll { $server | Stop-Job -PassThru | Remove-Job -Force }

    It 'the cached lookup builds the per-point corpus file for file, with far fewer requests, and reports them' {
        $folder = New-TestFolder
        $requests.Clear()
        $perPoint = New-PatchSample (Join-Path $folder 'pp') @common -SceneLookup PerPoint
        $perPointRequests = $requests.Count
        $requests.Clear()
        $verbose = New-PatchSample (Join-Path $folder 'cached') @common -Verbose 4>&1
        $cachedRequests = $requests.Count
        $cached = @($verbose | Where-Object { $_ -is [DeepSentinel.Core.Corpus.PatchSample] })

        $perPoint.Count | Should -Be 4
        ($cached | ForEach-Object { "$($_.Id) $($_.S2SceneId) $($_.S1SceneId)" }) | Should -Be ($perPoint | ForEach-Object { "$($_.Id) $($_.S2SceneId) $($_.S1SceneId)" })
        $a = Get-CorpusFiles (Join-Path $folder 'pp'); $b = Get-CorpusFiles (Join-Path $folder 'cached')
        Compare-Object $a $b -Property Path, Hash | Should -BeNullOrEmpty
        $a.Count | Should -BeGreaterThan 20
        @(Get-ChildItem (Join-Path $folder 'cached' 'scene-cache') -Recurse -Filter '*.json').Count | Should -BeGreaterThan 0
        Test-Path (Join-Path $folder 'pp' 'scene-cache') | Should -BeFalse

        $summary = @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'STAC: *' })
        $summary.Count | Should -Be 1
        $summary[0].Message | Should -Match "STAC: \d+ searches \([\d.]+ per accepted sample\), $cachedRequests requests"
        $cachedRequests * 3 | Should -BeLessThan $perPointRequests

        # A rerun to more samples reads the corpus's cache: only bins not seen before are searched.
        $requests.Clear()
        $more = New-PatchSample (Join-Path $folder 'cached') @common -Count 6 -Verbose 4>&1
        @($more | Where-Object { $_ -is [DeepSentinel.Core.Corpus.PatchSample] }).Count | Should -Be 6
        ($more | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'STAC: *' }).Message | Should -Match '[1-9]\d* from the corpus'
        $requests.Count | Should -BeLessThan $perPointRequests
    }
}

Describe 'STAC-GeoParquet item tables as the scene source (issue 16)' {
    BeforeAll {
        $fixture = Get-TestFixture
        $work = New-TestFolder
        # The demo catalog's Items as stac-geoparquet stores them (asset hrefs absolute, no links),
        # written by hyparquet-writer (npm, independent of Parquet.Net) in stac-geoparquet's layout.
        $items = foreach ($file in Get-ChildItem $fixture.Demo -Recurse -Filter '*.json') {
            $item = Get-Content -Raw $file.FullName | ConvertFrom-Json -Depth 64 -DateKind String
            if ($item.type -ne 'Feature') { continue }
            foreach ($asset in $item.assets.PSObject.Properties) { $asset.Value.href = [Uri]::new([Uri]::new("file://" + $file.FullName), $asset.Value.href).AbsoluteUri }
            $item.PSObject.Properties.Remove('links')
            $item
        }
        $json = Join-Path $work 'items.json'
        # In time order, as the partitions of a real export are: row groups then span short times.
        ConvertTo-Json @($items | Sort-Object { $_.properties.datetime }) -Depth 64 -Compress | Set-Content $json
        $table = Join-Path $work 'demo.parquet'
        & node (Join-Path $PSScriptRoot '..' 'tools' 'write-item-table.mjs') $json $table --row-group-size 4 --lists-as-json | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "write-item-table.mjs failed ($LASTEXITCODE)" }
        function Format-Scene([Parameter(ValueFromPipeline)] $Scene) {
            process {
                $assets = ($Scene.Assets.Values | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Href.AbsoluteUri)" }) -join ' '
                "$($Scene.Id) $($Scene.Collection) $($Scene.Datetime.ToString('o')) cloud=$($Scene.CloudCover) $($Scene.OrbitState) $($Scene.RelativeOrbit) $($Scene.Polarizations -join ',') $($Scene.MgrsTile) $($Scene.Epsg) | $assets"
            }
        }
    }

    It 'Get-SentinelScene -ItemTable <query> yields the scenes -Catalog does: ids, times, cloud cover, hrefs' -ForEach @(
        @{ Q = @{} }
        @{ Q = @{ Mission = 'S2'; MaxCloudCover = 30 } }
        @{ Q = @{ Mission = 'S1'; Polarization = 'VV', 'VH'; OrbitState = 'Ascending' } }
        @{ Q = @{ BoundingBox = 2.2, 48.8, 2.5, 48.9; Start = '2019-08-05'; End = '2019-08-15' } }
        @{ Q = @{ Intersects = 'POINT (2.35 48.85)'; Start = '2019-08-10' } }
    ) {
        $fromCatalog = @(Get-SentinelScene -Catalog $fixture.Demo @Q | Format-Scene | Sort-Object)
        $fromTable = @(Get-SentinelScene -ItemTable $table @Q | Format-Scene | Sort-Object)
        $fromCatalog.Count | Should -BeGreaterThan 0
        $fromTable | Should -Be $fromCatalog
    }

    It 'writes SentinelScene objects and reads only what is in range (row groups skipped on statistics)' {
        $verbose = Get-SentinelScene -ItemTable $table -Start '2019-08-12' -Verbose 4>&1
        $scenes = @($verbose | Where-Object { $_ -is [DeepSentinel.Core.Scenes.SentinelScene] })
        $scenes.Count | Should -BeGreaterThan 0
        ($scenes | ForEach-Object { $_.Datetime -ge [datetimeoffset]'2019-08-12' }) | Should -Not -Contain $false
        ($verbose | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Item table *' }).Message | Should -Match 'row groups read, [1-9]\d* skipped'
    }

    It 'New-PatchSample -ItemTable builds the corpus -Catalog builds, file for file (the manifest names its source)' {
        $common = @{ Start = '2019-08-01'; End = '2019-08-20'; Count = 4; Seed = 3; ThrottleLimit = 2 }
        $a = @(New-PatchSample (Join-Path $work 'from-catalog') -Catalog $fixture.Demo @common)
        $b = @(New-PatchSample (Join-Path $work 'from-table') -ItemTable $table @common)
        $a.Count | Should -Be 4
        ($b | ForEach-Object { "$($_.Id) $($_.S2SceneId) $($_.S1SceneId)" }) | Should -Be ($a | ForEach-Object { "$($_.Id) $($_.S2SceneId) $($_.S1SceneId)" })
        function Get-Files([string] $Root) {
            Get-ChildItem $Root -Recurse -File | Where-Object { $_.Name -ne 'corpus.json' -and $_.FullName -notmatch '[\\/]\.staging[\\/]' } |
                ForEach-Object { [pscustomobject]@{ Path = [IO.Path]::GetRelativePath($Root, $_.FullName); Hash = (Get-FileHash $_.FullName).Hash } } | Sort-Object Path
        }
        $x = Get-Files (Join-Path $work 'from-catalog'); $y = Get-Files (Join-Path $work 'from-table')
        $x.Count | Should -BeGreaterThan 20
        Compare-Object $x $y -Property Path, Hash | Should -BeNullOrEmpty
        $manifest = Get-Content -Raw (Join-Path $work 'from-table' 'corpus.json') | ConvertFrom-Json
        ($manifest.PSObject.Properties | Where-Object { "$($_.Value)" -like '*demo.parquet*' }) | Should -Not -BeNullOrEmpty
    }

    It 'a file that is not an item table is ItemTableInvalid, naming it' {
        $bad = Join-Path $work 'bad.parquet'
        Set-Content $bad 'not parquet'
        $e = { Get-SentinelScene -ItemTable $bad } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ItemTableInvalid,*'
        $e.Exception.Message | Should -BeLike "*$bad*"
    }
}

AfterAll { Remove-TestFolder }
