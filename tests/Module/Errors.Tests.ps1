# Bad input in real pwsh: clear errors with stable ids and fitting categories, nothing written by
# commands that only read, per-item errors that let the batch go on, and no secret in any part of
# an error record.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
}

Describe 'Secrets never reach an error record' {
    BeforeAll {
        # A loopback HTTP server whose landing page is not STAC, recording what it was asked.
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $requests = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
        $server = Start-ThreadJob -ArgumentList $port, $requests {
            param($port, $requests)
            $listener = [System.Net.HttpListener]::new()
            $listener.Prefixes.Add("http://127.0.0.1:$port/")
            $listener.Start()
            $deadline = [DateTime]::UtcNow.AddMinutes(5)
            while ($listener.IsListening -and [DateTime]::UtcNow -lt $deadline) {
                $task = $listener.GetContextAsync()
                if (-not $task.Wait(1000)) { continue }
                $context = $task.Result
                $requests.Enqueue($context.Request.RawUrl)
                $bytes = [Text.Encoding]::UTF8.GetBytes('{"type": "Catalog", "id": "not-an-api", "description": "no links"}')
                $context.Response.ContentType = 'application/json'
                $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                $context.Response.Close()
            }
        }
        Start-Sleep -Milliseconds 500
    }

    AfterAll { $server | Stop-Job -PassThru | Remove-Job -Force }

    It 'NotAStacEndpoint keeps the subscription key and SAS signature out of every part of the record' {
        $url = "http://127.0.0.1:$port/x?subscription-key=SECRETKEY123&sig=SIGNATURE456"
        $e = { Get-SentinelScene -StacUrl $url -Collection c } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'NotAStacEndpoint,*'
        $everything = @(
            $e.TargetObject
            $e.CategoryInfo.TargetName
            $e.Exception.Message
            ($e | Format-List * -Force | Out-String)
            ($e.Exception | Format-List * -Force | Out-String)
            ($e | Get-Error | Out-String)
        ) -join "`n"
        $everything | Should -Match 'NotAStacEndpoint'
        $everything | Should -Not -Match 'SECRETKEY123'
        $everything | Should -Not -Match 'SIGNATURE456'
        # The scanner finds a planted secret, so its silence means something.
        "$everything $url" | Should -Match 'SECRETKEY123'
    }

    It 'a -StacUrl with a query string keeps its last value as given (a "/" was appended to it)' {
        $null = $requests.ToArray()
        { Get-SentinelScene -StacUrl "http://127.0.0.1:$port/api?token=abc" -Collection c } | Should -Throw
        $requests.ToArray() | Should -Contain '/api/?token=abc'
    }
}

Describe 'Commands that only read write nothing' {
    It 'Get-PatchSample on a mistyped folder is CorpusNotFound and creates no folder' {
        $missing = Join-Path (New-TestFolder) 'typo' 'corpus'
        { Get-PatchSample $missing } | Should -Throw -ErrorId 'CorpusNotFound,DeepSentinel.Cmdlets.Commands.GetPatchSampleCommand'
        $missing | Should -Not -Exist
        Split-Path $missing | Should -Not -Exist
    }

    It 'Get-PatchSample on a file is CorpusNotFound, not a write failure' {
        $file = Join-Path (New-TestFolder) 'file.txt'
        Set-Content $file 'x'
        { Get-PatchSample $file } | Should -Throw -ErrorId 'CorpusNotFound,DeepSentinel.Cmdlets.Commands.GetPatchSampleCommand'
    }

    It '<Command> -Corpus on a mistyped folder creates no folder' -ForEach @(
        @{ Command = 'Add-CorineLabel'; Script = { param($c) Add-CorineLabel -Corpus $c -Path $fixture.Clc } }
        @{ Command = 'Start-Pretraining'; Script = { param($c) Start-Pretraining (Join-Path (New-TestFolder) 'm') -Corpus $c } }
    ) {
        $missing = Join-Path (New-TestFolder) 'typo'
        { & $Script $missing } | Should -Throw -ErrorId "CorpusNotFound,*"
        $missing | Should -Not -Exist
    }

    It 'Copy-Corpus from a source that does not exist is CorpusNotFound and creates neither folder' {
        $folder = New-TestFolder
        $e = { Copy-Corpus (Join-Path $folder 'nope') (Join-Path $folder 'dest') } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'CorpusNotFound,DeepSentinel.Cmdlets.Commands.CopyCorpusCommand'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Join-Path $folder 'nope' | Should -Not -Exist
        Join-Path $folder 'dest' | Should -Not -Exist
    }
}

Describe 'Clear errors with fitting categories' {
    It 'New-DemoCatalog into a path below a file is StorageWriteFailed (it was UnexpectedError)' {
        $file = Join-Path (New-TestFolder) 'file'
        Set-Content $file 'x'
        $e = { New-DemoCatalog (Join-Path $file 'demo') -TileSize 300 -Tiles 1 -S2ScenesPerTile 1 -S1Scenes 1 } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -Be 'StorageWriteFailed,DeepSentinel.Cmdlets.Commands.NewDemoCatalogCommand'
        $e.CategoryInfo.Category | Should -Be 'WriteError'
        $e.Exception.Message | Should -Match 'Choose a folder you can write to'
    }

    It 'a damaged catalog file says to fix the file, not that a server misbehaves' {
        $folder = New-TestFolder
        Set-Content (Join-Path $folder 'catalog.json') '{"type": "Catalog", "links": ['
        $e = { Get-SentinelScene -Catalog $folder } | Should -Throw -PassThru
        $e.Exception.Message | Should -Not -Match 'server may be misbehaving'
        $e.Exception.Message | Should -Not -Match 'The the'
    }

    It 'an item with no assets, or a cloud cover that is not a number, is read with a warning' {
        $folder = New-TestFolder
        Copy-Item -Recurse (Join-Path $PSScriptRoot '..' '..' 'examples' 'demo-catalog') (Join-Path $folder 'c')
        $item = Get-ChildItem (Join-Path $folder 'c') -Recurse -Filter '*.json' | Where-Object { (Get-Content -Raw $_) -match '"eo:cloud_cover"' } | Select-Object -First 1
        $json = Get-Content -Raw $item.FullName | ConvertFrom-Json -AsHashtable
        $json.properties['eo:cloud_cover'] = 'lots'
        $json | ConvertTo-Json -Depth 20 | Set-Content $item.FullName
        $scenes = Get-SentinelScene -Catalog (Join-Path $folder 'c') -WarningVariable warn -WarningAction SilentlyContinue
        $scenes | Where-Object Id -eq $json.id | Should -Not -BeNullOrEmpty
        "$warn" | Should -Match "eo:cloud_cover that is not a number \(`"lots`"\)"
    }
}

Describe 'Sentinel-1 scenes whose georeferencing cannot be established' {
    It 'are an error for that scene, never patches of zeros (they gave all-zero s1.tif)' {
        $folder = New-TestFolder
        Copy-Item -Recurse $fixture.Demo (Join-Path $folder 'demo')
        foreach ($item in Get-ChildItem (Join-Path $folder 'demo' 'sentinel-1-rtc') -Recurse -Filter '*.json' | Where-Object Name -ne 'collection.json') {
            $text = (Get-Content -Raw $item.FullName) -replace '"proj:epsg":\s*4326,?', ''
            Set-Content $item.FullName $text
        }
        foreach ($tif in Get-ChildItem (Join-Path $folder 'demo' 'sentinel-1-rtc') -Recurse -Filter '*.tif') {
            & gdal_edit.py -a_srs '' $tif.FullName
            (& gdalinfo -json $tif.FullName | ConvertFrom-Json -AsHashtable).ContainsKey('coordinateSystem') | Should -BeFalse
        }
        $corpus = Join-Path $folder 'corpus'
        $out = New-PatchSample $corpus -Catalog (Join-Path $folder 'demo') -Start 2019-08-01 -End 2019-08-20 -Count 2 -MaxPoints 20 -WarningVariable warn -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        "$warn" | Should -Match 'has no coordinate reference system'
        Get-ChildItem (Join-Path $corpus 'samples') -Recurse -Filter 's1.tif' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Per-item errors let the batch go on' {
    It 'Get-PatchSample: a deleted sample is an error and is not passed on (it was emitted beside its error)' {
        $corpus = Copy-TestCorpus
        Remove-Item -Recurse (Join-Path $corpus 'samples' 'ds00000008_31UDQ_20190801')
        $samples = Get-PatchSample $corpus -ErrorVariable err -ErrorAction SilentlyContinue
        $samples.Count | Should -Be 15
        $samples.Id | Should -Not -Contain 'ds00000008_31UDQ_20190801'
        $err.Count | Should -Be 1
    }

    It 'Get-PatchSample -Id of a sample the corpus lacks is SampleNotFound' {
        $samples = Get-PatchSample $fixture.Corpus -Id 'ds00000007_31UEQ_20190806', 'ds99999999_31UDQ_20190801' -ErrorVariable err -ErrorAction SilentlyContinue
        $samples.Id | Should -Be 'ds00000007_31UEQ_20190806'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SampleNotFound,*'
    }

    It 'Get-Embedding: one truncated raster is that patch''s error, the rest is embedded (it was terminating)' {
        $corpus = Copy-TestCorpus
        $tif = Join-Path $corpus 'samples' 'ds00000009_31UDQ_20190801' 's2.tif'
        $bytes = [IO.File]::ReadAllBytes($tif)
        [IO.File]::WriteAllBytes($tif, $bytes[0..1000])
        $npy = Join-Path (New-TestFolder) 'e.npy'
        $e = Get-PatchSample $corpus | Get-Embedding -Model (Import-EmbeddingModel $fixture.Model) -OutFile $npy -ErrorVariable err -ErrorAction SilentlyContinue
        $e.Count | Should -Be 15
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'RasterUnreadable,*'
        (Get-Content "$npy.ids.txt").Count | Should -Be 15
    }
}

AfterAll { Remove-TestFolder }
