# The bad-input catalogue: one case a line, run by BadInput.Tests.ps1, each in a child pwsh in a
# fresh working folder. In a case's script, $fx holds the shared fixtures (Demo, Clc, Osm, Corpus,
# Model) and $catalog the bundled scene catalog; ./corpus, ./model and ./demo are writable copies
# when the case asks for them (Copy = 'corpus', 'model'). Copy-SceneCatalog copies the bundled
# catalog to ./c and returns its first item's file, for cases that damage an item.
#   Id:      the stable id the error must carry (the part of FullyQualifiedErrorId before the comma)
#   Item:    the error is per item: non-terminating, and at least Out objects still come out
#   NoWrite: a path (relative to the working folder) that must not exist afterwards
$bbox = '-Catalog $catalog -BoundingBox'
@(
    # --- Get-SentinelScene: query values ---
    @{ N = 'bbox with 3 numbers'; S = "Get-SentinelScene $bbox 1, 2, 3"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox with 5 numbers'; S = "Get-SentinelScene $bbox 1, 2, 3, 4, 5"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox south above north'; S = "Get-SentinelScene $bbox 1, 50, 2, 40"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox latitude 95'; S = "Get-SentinelScene $bbox 1, 40, 2, 95"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox longitude 200'; S = "Get-SentinelScene $bbox 1, 40, 200, 45"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox NaN'; S = "Get-SentinelScene $bbox 1, 40, ([double]::NaN), 45"; Id = 'InvalidBoundingBox' }
    @{ N = 'bbox of text'; S = "Get-SentinelScene $bbox a, b, c, d"; Id = 'ParameterArgumentTransformationError' }
    @{ N = 'bbox and intersects'; S = "Get-SentinelScene $bbox 1, 40, 2, 45 -Intersects 'POINT (1 41)'"; Id = 'BoundingBoxAndIntersectsConflict' }
    @{ N = 'end before start'; S = 'Get-SentinelScene -Catalog $catalog -Start 2020-01-02 -End 2020-01-01'; Id = 'EndBeforeStart' }
    @{ N = 'start not a date'; S = 'Get-SentinelScene -Catalog $catalog -Start yesterday-ish'; Id = 'ParameterArgumentTransformationError' }
    @{ N = 'intersects bad WKT'; S = "Get-SentinelScene -Catalog `$catalog -Intersects 'POLYGON ((1 2, 3'"; Id = 'InvalidGeometry' }
    @{ N = 'intersects bad GeoJSON'; S = "Get-SentinelScene -Catalog `$catalog -Intersects '{""type"": ""Polygon"", ""coordinates"": 7}'"; Id = 'InvalidGeometry' }
    @{ N = 'intersects unclosed ring'; S = "Get-SentinelScene -Catalog `$catalog -Intersects 'POLYGON ((1 2, 3 4, 5 1, 2 2))'"; Id = 'InvalidGeometry' }
    @{ N = 'intersects a word'; S = "Get-SentinelScene -Catalog `$catalog -Intersects 'Paris'"; Id = 'InvalidGeometry' }
    @{ N = 'intersects empty'; S = "Get-SentinelScene -Catalog `$catalog -Intersects ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'intersects GeoJSON point outside the world'; S = "Get-SentinelScene -Catalog `$catalog -Intersects '{""type"": ""Point"", ""coordinates"": [500, 95]}'"; Id = 'InvalidGeometry' }
    @{ N = 'cloud cover -1'; S = 'Get-SentinelScene -Catalog $catalog -MaxCloudCover -1'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'cloud cover 101'; S = 'Get-SentinelScene -Catalog $catalog -MaxCloudCover 101'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'first 0'; S = 'Get-SentinelScene -Catalog $catalog -First 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'relative orbit 0'; S = 'Get-SentinelScene -Catalog $catalog -RelativeOrbit 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'relative orbit 176'; S = 'Get-SentinelScene -Catalog $catalog -RelativeOrbit 176'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'polarization QQ'; S = 'Get-SentinelScene -Catalog $catalog -Polarization QQ'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'orbit state sideways'; S = 'Get-SentinelScene -Catalog $catalog -OrbitState Sideways'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage' }
    @{ N = 'mission S3'; S = 'Get-SentinelScene -Catalog $catalog -Mission S3'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage' }
    @{ N = 'provider unknown'; S = 'Get-SentinelScene -Provider Nope -Start 2020-01-01'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage' }
    @{ N = 'page size 0'; S = 'Get-SentinelScene -Catalog $catalog -PageSize 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'timeout 0'; S = 'Get-SentinelScene -Catalog $catalog -TimeoutSec 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'mgrs tile empty'; S = "Get-SentinelScene -Catalog `$catalog -MgrsTile ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'catalog and stac url'; S = 'Get-SentinelScene -Catalog $catalog -StacUrl http://127.0.0.1:1/'; Id = 'AmbiguousParameterSet' }
    @{ N = 'unknown parameter'; S = 'Get-SentinelScene -Catalog $catalog -Cloudy 3'; Id = 'NamedParameterNotFound' }
    @{ N = 'stac url refused'; S = 'Get-SentinelScene -StacUrl http://127.0.0.1:1/api -Collection c -TimeoutSec 5'; Id = 'EndpointUnreachable' }
    @{ N = 'stac url not http'; S = 'Get-SentinelScene -StacUrl ftp://127.0.0.1/x -Collection c'; Id = 'InvalidParameterValue' }
    @{ N = 'stac url relative'; S = 'Get-SentinelScene -StacUrl ./api -Collection c'; Id = 'InvalidParameterValue' }
    # --- Get-SentinelScene: static catalogs ---
    @{ N = 'catalog missing'; S = 'Get-SentinelScene -Catalog ./none'; Id = 'CatalogUnreadable' }
    @{ N = 'item table missing'; S = 'Get-SentinelScene -ItemTable ./none.parquet'; Id = 'ItemTableInvalid' }
    @{ N = 'item table not Parquet'; S = "Set-Content ./t.parquet 'id,geometry'; Get-SentinelScene -ItemTable ./t.parquet"; Id = 'ItemTableInvalid' }
    @{ N = 'item table a folder'; S = 'New-Item -ItemType Directory ./t | Out-Null; Get-SentinelScene -ItemTable ./t'; Id = 'ItemTableInvalid' }
    @{ N = 'item table of samples, not scenes, for New-PatchSample'; S = 'New-PatchSample ./out -ItemTable (Join-Path $fx.Corpus items.parquet) -Start 2019-08-01 -End 2019-08-20 -Count 2'; Id = 'NoScenesAvailable'; NoWrite = 'out/corpus.json' }
    @{ N = 'item table missing for New-PatchSample'; S = 'New-PatchSample ./out -ItemTable ./none.parquet -Start 2019-08-01 -End 2019-08-20 -Count 2'; Id = 'ItemTableInvalid'; NoWrite = 'out/corpus.json' }
    @{ N = 'catalog empty folder'; S = 'New-Item -ItemType Directory ./c | Out-Null; Get-SentinelScene -Catalog ./c'; Id = 'CatalogUnreadable' }
    @{ N = 'catalog empty file'; S = "Set-Content ./c.json ''; Get-SentinelScene -Catalog ./c.json"; Id = 'StacResponseMalformed|CatalogUnreadable' }
    @{ N = 'catalog garbage'; S = "Set-Content ./c.json 'not json'; Get-SentinelScene -Catalog ./c.json"; Id = 'StacResponseMalformed' }
    @{ N = 'catalog truncated'; S = "Set-Content ./c.json '{""type"": ""Catalog"", ""links"": ['; Get-SentinelScene -Catalog ./c.json"; Id = 'StacResponseMalformed' }
    @{ N = 'catalog a JSON array'; S = "Set-Content ./c.json '[1, 2]'; Get-SentinelScene -Catalog ./c.json"; Id = 'NotAStacEndpoint|CatalogUnreadable' }
    @{ N = 'catalog JSON null'; S = "Set-Content ./c.json 'null'; Get-SentinelScene -Catalog ./c.json"; Id = 'NotAStacEndpoint|CatalogUnreadable' }
    @{ N = 'catalog wrong type'; S = "Set-Content ./c.json '{""type"": ""Feature"", ""id"": ""x"", ""links"": []}'; Get-SentinelScene -Catalog ./c.json"; Id = 'NotAStacEndpoint|SceneItemInvalid|CatalogUnreadable' }
    @{ N = 'catalog HTML'; S = "Set-Content ./c.json '<html><body>login</body></html>'; Get-SentinelScene -Catalog ./c.json"; Id = 'NotAStacEndpoint' }
    @{ N = 'item without id'; S = '$i = Copy-SceneCatalog; Set-Content $i ''{"type": "Feature", "properties": {}}''; Get-SentinelScene -Catalog ./c'; Id = 'SceneItemInvalid'; Item = $true; Out = 5 }
    @{ N = 'item without properties'; S = '$i = Copy-SceneCatalog; Set-Content $i ''{"type": "Feature", "id": "x"}''; Get-SentinelScene -Catalog ./c'; Id = 'SceneItemInvalid'; Item = $true; Out = 5 }
    @{ N = 'item garbage JSON'; S = '$i = Copy-SceneCatalog; Set-Content $i ''{{{''; Get-SentinelScene -Catalog ./c'; Id = 'StacResponseMalformed|SceneItemInvalid|CatalogUnreadable'; Item = $true; Out = 5 }
    @{ N = 'item bad datetime'; S = '$i = Copy-SceneCatalog; $j = Get-Content -Raw $i | ConvertFrom-Json -AsHashtable; $j.properties.datetime = ''soon''; $j | ConvertTo-Json -Depth 20 | Set-Content $i; Get-SentinelScene -Catalog ./c'; Id = 'SceneItemInvalid'; Item = $true; Out = 5 }
    @{ N = 'item geometry broken'; S = '$i = Copy-SceneCatalog; $j = Get-Content -Raw $i | ConvertFrom-Json -AsHashtable; $j.geometry = @{ type = ''Polygon''; coordinates = 5 }; $j | ConvertTo-Json -Depth 20 | Set-Content $i; Get-SentinelScene -Catalog ./c'; Id = 'SceneItemInvalid'; Item = $true; Out = 5 }
    @{ N = 'child link to a missing file'; S = '$i = Copy-SceneCatalog; Remove-Item $i; Get-SentinelScene -Catalog ./c'; Id = 'CatalogUnreadable|StacRequestFailed|NotAStacEndpoint'; Item = $true; Out = 5 }
    # --- New-DemoCatalog ---
    @{ N = 'demo tile size 301'; S = 'New-DemoCatalog ./d -TileSize 301'; Id = 'InvalidParameterValue'; NoWrite = 'd' }
    @{ N = 'demo tile size 100'; S = 'New-DemoCatalog ./d -TileSize 100'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo tiles 0'; S = 'New-DemoCatalog ./d -Tiles 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo tiles 17'; S = 'New-DemoCatalog ./d -Tiles 17'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo S2 scenes 0'; S = 'New-DemoCatalog ./d -S2ScenesPerTile 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo S1 scenes 101'; S = 'New-DemoCatalog ./d -S1Scenes 101'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo latitude 85'; S = 'New-DemoCatalog ./d -Latitude 85'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo longitude 181'; S = 'New-DemoCatalog ./d -Longitude 181'; Id = 'ParameterArgumentValidationError'; NoWrite = 'd' }
    @{ N = 'demo start not a date'; S = 'New-DemoCatalog ./d -Start never'; Id = 'ParameterArgumentTransformationError'; NoWrite = 'd' }
    @{ N = 'demo destination empty'; S = "New-DemoCatalog ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'demo destination a file'; S = "Set-Content ./f 'x'; New-DemoCatalog ./f -TileSize 300 -Tiles 1 -S2ScenesPerTile 1 -S1Scenes 1"; Id = 'StorageWriteFailed' }
    @{ N = 'demo destination below a file'; S = "Set-Content ./f 'x'; New-DemoCatalog ./f/d -TileSize 300 -Tiles 1 -S2ScenesPerTile 1 -S1Scenes 1"; Id = 'StorageWriteFailed' }
    @{ N = 'demo destination missing'; S = 'New-DemoCatalog'; Id = 'MissingMandatoryParameter|ParameterBindingFailed' }
    # --- New-PatchSample ---
    @{ N = 'patch count 0'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch catalog missing'; S = 'New-PatchSample ./p -Catalog ./none -Start 2019-08-01 -End 2019-08-20 -Count 2'; Id = 'CatalogUnreadable'; NoWrite = 'p/samples' }
    @{ N = 'patch catalog garbage'; S = "Set-Content ./c.json 'x'; New-PatchSample ./p -Catalog ./c.json -Start 2019-08-01 -End 2019-08-20 -Count 2"; Id = 'StacResponseMalformed'; NoWrite = 'p/samples' }
    @{ N = 'patch end before start'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-20 -End 2019-08-01 -Count 2'; Id = 'EndBeforeStart'; NoWrite = 'p/samples' }
    @{ N = 'patch start missing'; S = 'New-PatchSample ./p -Catalog $fx.Demo -End 2019-08-01 -Count 2'; Id = 'MissingMandatoryParameter|ParameterBindingFailed'; NoWrite = 'p' }
    @{ N = 'patch max cloud 200'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -MaxCloudCover 200'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch shard from an unset environment'; S = 'Remove-Item Env:JOB_COMPLETION_INDEX -ErrorAction SilentlyContinue; New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 2 -ShardFromEnvironment -ShardCount 2'; Id = 'InvalidParameterValue'; NoWrite = 'p' }
    @{ N = 'patch shard index beyond the count'; S = '$env:JOB_COMPLETION_INDEX = 4; New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 2 -ShardFromEnvironment -ShardCount 2'; Id = 'InvalidParameterValue'; NoWrite = 'p' }
    @{ N = 'patch shard from the environment without a count'; S = '$env:JOB_COMPLETION_INDEX = 0; Remove-Item Env:DEEPSENTINEL_SHARD_COUNT -ErrorAction SilentlyContinue; New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 2 -ShardFromEnvironment'; Id = 'InvalidParameterValue'; NoWrite = 'p' }
    @{ N = 'corpus table of no corpus'; S = 'Update-CorpusTable ./none'; Id = 'CorpusNotFound'; NoWrite = 'none' }
    @{ N = 'corpus table, index line damaged'; Copy = 'corpus'; S = "Add-Content ./corpus/index/part-0000-of-0001.ndjson '{not json'; Update-CorpusTable ./corpus"; Id = 'CorpusEntryInvalid'; Item = $true; Out = 1 }
    @{ N = 'patch max patch cloud -1'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -MaxPatchCloud -1'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch max nodata 101'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -MaxNoData 101'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch days apart 61'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -MaxDaysApart 61'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch shard 3 of 3'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Shard 3 -ShardCount 3'; Id = 'InvalidParameterValue'; NoWrite = 'p/samples' }
    @{ N = 'patch shard count 0'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -ShardCount 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch throttle 0'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -ThrottleLimit 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch throttle 65'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -ThrottleLimit 65'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch max points 0'; S = 'New-PatchSample ./p -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -MaxPoints 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'p' }
    @{ N = 'patch intersects garbage'; S = "New-PatchSample ./p -Catalog `$fx.Demo -Start 2019-08-01 -End 2019-08-20 -Intersects 'POLYGON (('"; Id = 'InvalidGeometry'; NoWrite = 'p' }
    @{ N = 'patch destination s3'; S = 'New-PatchSample s3://bucket/x -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20'; Id = 'InvalidStoreLocation' }
    @{ N = 'patch destination az without container'; S = 'New-PatchSample az:// -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20'; Id = 'InvalidStoreLocation' }
    @{ N = 'patch destination gs without bucket'; S = 'New-PatchSample gs:// -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20'; Id = 'InvalidStoreLocation' }
    @{ N = 'patch destination below a file'; S = "Set-Content ./f 'x'; New-PatchSample ./f/p -Catalog `$fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 1"; Id = 'StorageWriteFailed' }
    @{ N = 'patch rerun with other parameters'; Copy = 'corpus'; S = 'New-PatchSample ./corpus -Catalog $fx.Demo -Start 2019-08-01 -End 2019-08-20 -Count 16 -Seed 2'; Id = 'CorpusParametersMismatch' }
    @{ N = 'patch empty pipeline'; S = '@() | New-PatchSample ./p -Count 2'; Id = 'NoScenesAvailable'; NoWrite = 'p' }
    @{ N = 'patch piped strings'; S = "'a', 'b' | New-PatchSample ./p -Count 2"; Id = 'InputObjectNotBound' }
    @{ N = 'patch piped scenes outside the area'; S = "Get-SentinelScene -Catalog `$fx.Demo | New-PatchSample ./p -Count 1 -Intersects 'POLYGON ((10 10, 11 10, 11 11, 10 11, 10 10))' -MaxPoints 5"; Id = 'NoScenesAvailable|InvalidGeometry'; NoWrite = 'p/samples' }
    # --- Get-PatchSample ---
    @{ N = 'corpus missing'; S = 'Get-PatchSample ./none'; Id = 'CorpusNotFound'; NoWrite = 'none' }
    @{ N = 'corpus is a file'; S = "Set-Content ./f 'x'; Get-PatchSample ./f"; Id = 'CorpusNotFound' }
    @{ N = 'corpus empty folder'; S = 'New-Item -ItemType Directory ./e | Out-Null; Get-PatchSample ./e'; Id = 'CorpusNotFound' }
    @{ N = 'corpus.json truncated'; Copy = 'corpus'; S = "Set-Content ./corpus/corpus.json '{""seed"": '; Get-PatchSample ./corpus"; Id = 'CorpusEntryInvalid' }
    @{ N = 'corpus.json an array'; Copy = 'corpus'; S = "Set-Content ./corpus/corpus.json '[1]'; Get-PatchSample ./corpus"; Id = 'CorpusEntryInvalid' }
    @{ N = 'index line garbage'; Copy = 'corpus'; S = '$p = Get-ChildItem ./corpus/index/*.ndjson | select -First 1; $l = Get-Content $p; $l[3] = ''{garbage''; Set-Content $p $l; Get-PatchSample ./corpus'; Id = 'CorpusEntryInvalid'; Item = $true; Out = 15 }
    @{ N = 'sample folder deleted'; Copy = 'corpus'; S = 'Remove-Item -Recurse ./corpus/samples/ds00000008_31UDQ_20190801; Get-PatchSample ./corpus'; Id = 'StorageObjectNotFound|CorpusEntryInvalid'; Item = $true; Out = 15 }
    @{ N = 'item.json garbage'; Copy = 'corpus'; S = "Set-Content ./corpus/samples/ds00000008_31UDQ_20190801/item.json 'x'; Get-PatchSample ./corpus"; Id = 'CorpusEntryInvalid'; Item = $true; Out = 15 }
    @{ N = 'unknown sample id'; S = 'Get-PatchSample $fx.Corpus -Id ds00000001_00XXX_20000101'; Id = 'SampleNotFound'; Item = $true }
    @{ N = 'sample first 0'; S = 'Get-PatchSample $fx.Corpus -First 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'corpus s3'; S = 'Get-PatchSample s3://x/y'; Id = 'InvalidStoreLocation' }
    @{ N = 'corpus az malformed'; S = 'Get-PatchSample az://'; Id = 'InvalidStoreLocation' }
    @{ N = 'corpus https not blob'; S = 'Get-PatchSample https://example.org/x'; Id = 'InvalidStoreLocation' }
    # --- Copy-Corpus ---
    @{ N = 'copy source missing'; S = 'Copy-Corpus ./none ./dest'; Id = 'CorpusNotFound'; NoWrite = 'dest' }
    @{ N = 'copy destination s3'; S = 'Copy-Corpus $fx.Corpus s3://x/y'; Id = 'InvalidStoreLocation' }
    @{ N = 'copy source malformed'; S = 'Copy-Corpus gs:// ./dest'; Id = 'InvalidStoreLocation'; NoWrite = 'dest' }
    @{ N = 'copy throttle 0'; S = 'Copy-Corpus $fx.Corpus ./dest -ThrottleLimit 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'dest' }
    @{ N = 'copy destination below a file'; S = "Set-Content ./f 'x'; Copy-Corpus `$fx.Corpus ./f/dest"; Id = 'StorageWriteFailed|CorpusCopyFailed'; Item = $true }
    @{ N = 'copy destination empty'; S = "Copy-Corpus `$fx.Corpus ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'copy -Confirm without a console'; S = 'Copy-Corpus $fx.Corpus ./dest -Confirm'; Id = 'ConfirmationUnavailable'; NoWrite = 'dest/corpus.json' }
    # --- Add-CorineLabel ---
    @{ N = 'clc source missing'; S = 'Add-CorineLabel -Corpus $fx.Corpus -Path ./none.tif'; Id = 'LabelSourceUnreadable' }
    @{ N = 'clc source garbage'; S = "Set-Content ./clc.tif 'not a tiff'; Add-CorineLabel -Corpus `$fx.Corpus -Path ./clc.tif"; Id = 'LabelSourceUnreadable' }
    @{ N = 'clc source empty file'; S = "New-Item ./clc.tif | Out-Null; Add-CorineLabel -Corpus `$fx.Corpus -Path ./clc.tif"; Id = 'LabelSourceUnreadable' }
    @{ N = 'clc source without CRS'; S = '& gdal_translate -q -a_srs "" -co PROFILE=BASELINE $fx.Clc ./nocrs.tif 2>$null; if (-not (Test-Path ./nocrs.tif)) { & /usr/bin/python3 -c "import rasterio, sys; s = rasterio.open(sys.argv[1]); p = s.profile; p.pop(''crs''); d = rasterio.open(sys.argv[2], ''w'', **p); d.write(s.read()); d.close()" $fx.Clc ./nocrs.tif }; Add-CorineLabel -Corpus $fx.Corpus -Path ./nocrs.tif'; Id = 'LabelSourceNoCrs' }
    @{ N = 'clc source a folder'; S = 'New-Item -ItemType Directory ./clcdir | Out-Null; Add-CorineLabel -Corpus $fx.Corpus -Path ./clcdir'; Id = 'LabelSourceUnreadable' }
    @{ N = 'clc source a GeoJSON without the attribute'; S = "Set-Content ./clc.geojson '{""type"": ""FeatureCollection"", ""crs"": {""type"": ""name"", ""properties"": {""name"": ""EPSG:4326""}}, ""features"": [{""type"": ""Feature"", ""properties"": {""x"": 1}, ""geometry"": {""type"": ""Point"", ""coordinates"": [2.3, 48.8]}}]}'; Add-CorineLabel -Corpus `$fx.Corpus -Path ./clc.geojson"; Id = 'LabelAttributeMissing' }
    @{ N = 'clc attribute empty'; S = "Add-CorineLabel -Corpus `$fx.Corpus -Path `$fx.Clc -Attribute ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'clc corpus missing'; S = 'Add-CorineLabel -Corpus ./none -Path $fx.Clc'; Id = 'CorpusNotFound'; NoWrite = 'none' }
    @{ N = 'clc throttle 0'; S = 'Add-CorineLabel -Corpus $fx.Corpus -Path $fx.Clc -ThrottleLimit 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'clc path empty'; S = "Add-CorineLabel -Corpus `$fx.Corpus -Path ''"; Id = 'ParameterArgumentValidationError' }
    @{ N = 'clc piped strings'; S = "'a' | Add-CorineLabel `$fx.Clc"; Id = 'InputObjectNotBound' }
    @{ N = 'clc piped numbers'; S = '1, 2 | Add-CorineLabel $fx.Clc'; Id = 'InputObjectNotBound' }
    @{ N = 'clc a read-only sample'; Copy = 'corpus'; S = '& chmod a-w ./corpus/samples/ds00000008_31UDQ_20190801; try { if ((id -u) -eq 0) { throw [System.Management.Automation.ErrorRecord]::new([Exception]::new("root ignores permissions"), "LabelFailed", "PermissionDenied", $null) }; Get-PatchSample ./corpus | Add-CorineLabel $fx.Clc -Force } finally { & chmod u+w ./corpus/samples/ds00000008_31UDQ_20190801 }'; Id = 'LabelFailed' }
    @{ N = 'clc a sample whose item is garbage'; Copy = 'corpus'; S = '$s = Get-PatchSample ./corpus; Set-Content ./corpus/samples/ds00000008_31UDQ_20190801/item.json x; $s | Add-CorineLabel $fx.Clc -Force'; Id = 'CorpusEntryInvalid'; Item = $true; Out = 15 }
    @{ N = 'clc a sample whose folder is gone'; Copy = 'corpus'; S = '$s = Get-PatchSample ./corpus; Remove-Item -Recurse ./corpus/samples/ds00000008_31UDQ_20190801; $s | Add-CorineLabel $fx.Clc -Force'; Id = 'StorageObjectNotFound|CorpusEntryInvalid'; Item = $true; Out = 15 }
    @{ N = 'clc a sample with a broken grid'; Copy = 'corpus'; S = '$s = Get-PatchSample ./corpus -First 3; $s[0].GeoTransform[1] = -5; $s | Add-CorineLabel $fx.Clc -Force'; Id = 'CorpusEntryInvalid'; Item = $true; Out = 2 }
    # --- Add-OsmLabel --- (-Force where the source must be read: a rerun that skips every labelled sample never reads the extract)
    @{ N = 'osm source missing'; S = 'Add-OsmLabel -Corpus $fx.Corpus -Path ./none.osm.pbf'; Id = 'LabelSourceUnreadable' }
    @{ N = 'osm source garbage pbf'; S = "Set-Content ./x.osm.pbf 'garbage garbage'; Add-OsmLabel -Corpus `$fx.Corpus -Path ./x.osm.pbf -Force"; Id = 'LabelSourceUnreadable' }
    @{ N = 'osm source garbage xml'; S = "Set-Content ./x.osm '<osm><node id='; Add-OsmLabel -Corpus `$fx.Corpus -Path ./x.osm -Force"; Id = 'LabelSourceUnreadable' }
    @{ N = 'osm source empty file'; S = "New-Item ./x.osm | Out-Null; Add-OsmLabel -Corpus `$fx.Corpus -Path ./x.osm -Force"; Id = 'LabelSourceUnreadable' }
    @{ N = 'osm source garbage GeoJSON'; S = "Set-Content ./x.geojson '{""type"": '; Add-OsmLabel -Corpus `$fx.Corpus -Path ./x.geojson -Force"; Id = 'LabelSourceUnreadable' }
    @{ N = 'osm class map missing'; S = 'Add-OsmLabel -Corpus $fx.Corpus -Path $fx.Osm -ClassMap ./none.json'; Id = 'LabelClassMapInvalid|LabelSourceUnreadable' }
    @{ N = 'osm class map garbage'; S = "Set-Content ./m.json 'x'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm class map an object'; S = "Set-Content ./m.json '{""class"": ""a""}'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm class map empty array'; S = "Set-Content ./m.json '[]'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm class map rule without key'; S = "Set-Content ./m.json '[{""class"": ""a""}]'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm class map negative width'; S = "Set-Content ./m.json '[{""class"": ""road"", ""key"": ""highway"", ""geometry"": ""Line"", ""width"": -3}]'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm class map unknown geometry'; S = "Set-Content ./m.json '[{""class"": ""a"", ""key"": ""b"", ""geometry"": ""Blob""}]'; Add-OsmLabel -Corpus `$fx.Corpus -Path `$fx.Osm -ClassMap ./m.json"; Id = 'LabelClassMapInvalid' }
    @{ N = 'osm corpus missing'; S = 'Add-OsmLabel -Corpus ./none -Path $fx.Osm'; Id = 'CorpusNotFound'; NoWrite = 'none' }
    @{ N = 'osm piped strings'; S = "'a' | Add-OsmLabel `$fx.Osm"; Id = 'InputObjectNotBound' }
    @{ N = 'osm throttle 65'; S = 'Add-OsmLabel -Corpus $fx.Corpus -Path $fx.Osm -ThrottleLimit 65'; Id = 'ParameterArgumentValidationError' }
    # --- Super-resolution (issue 15) ---
    @{ N = 'superres factor 4'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S2 -First 1 | Start-SuperResolutionTraining ./m -Factor 4'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'superres empty pipeline'; S = '@() | Start-SuperResolutionTraining ./m'; Id = 'NoScenesAvailable'; NoWrite = 'm' }
    @{ N = 'superres Sentinel-1 scene'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S1 -First 1 | Start-SuperResolutionTraining ./m -Steps 1'; Id = 'InvalidParameterValue'; NoWrite = 'm' }
    @{ N = 'superres crop larger than the scene'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S2 -First 1 | Start-SuperResolutionTraining ./m -PatchSize 600'; Id = 'InvalidParameterValue'; NoWrite = 'm' }
    @{ N = 'superres patch not a multiple of 6'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S2 -First 1 | Start-SuperResolutionTraining ./m -PatchSize 50'; Id = 'InvalidParameterValue'; NoWrite = 'm' }
    @{ N = 'superres model folder missing'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S2 -First 1 | Invoke-SuperResolution ./none -OutFile ./x.tif'; Id = 'ParameterArgumentTransformationError'; NoWrite = 'x.tif' }
    @{ N = 'superres embedding model as model'; S = 'Get-SentinelScene -Catalog $fx.Demo -Mission S2 -First 1 | Measure-SuperResolution $fx.Model'; Id = 'ParameterArgumentTransformationError' }
    # --- Start-Pretraining ---
    @{ N = 'train empty pipeline'; S = '@() | Start-Pretraining ./m'; Id = 'CorpusEmpty'; NoWrite = 'm' }
    @{ N = 'train filter kept nothing'; S = 'Get-PatchSample $fx.Corpus | ? Id -eq x | Start-Pretraining ./m'; Id = 'CorpusEmpty'; NoWrite = 'm' }
    @{ N = 'train corpus missing'; S = 'Start-Pretraining ./m -Corpus ./none'; Id = 'CorpusNotFound'; NoWrite = 'none' }
    @{ N = 'train folder holds a model'; Copy = 'model'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./model -MaxSteps 1'; Id = 'ModelFolderNotEmpty' }
    @{ N = 'train resume an empty folder'; S = 'New-Item -ItemType Directory ./m | Out-Null; Get-PatchSample $fx.Corpus | Start-Pretraining ./m -Resume'; Id = 'ModelNotFound|ModelFileCorrupt' }
    @{ N = 'train resume a damaged card'; Copy = 'model'; S = "Set-Content ./model/model-card.json '{'; Get-PatchSample `$fx.Corpus | Start-Pretraining ./model -Resume -Epochs 3"; Id = 'ModelFileCorrupt' }
    @{ N = 'train resume a truncated checkpoint'; Copy = 'model'; S = '$c = Get-ChildItem ./model/checkpoints/*.pt | select -First 1; [IO.File]::WriteAllBytes($c.FullName, [IO.File]::ReadAllBytes($c.FullName)[0..999]); Get-PatchSample $fx.Corpus | Start-Pretraining ./model -Resume -Epochs 3'; Id = 'ModelFileCorrupt' }
    @{ N = 'train batch 1'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -BatchSize 1'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train epochs 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -Epochs 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train max steps 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -MaxSteps 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train learning rate 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -LearningRate 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train learning rate 11'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -LearningRate 11'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train dropout 2'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -ModalityDropout 2'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train dimension 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -EmbeddingDimension 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train checkpoint interval 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -CheckpointInterval 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train threads 0'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -IntraOpThreads 0'; Id = 'ParameterArgumentValidationError'; NoWrite = 'm' }
    @{ N = 'train encoder unknown'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -Encoder VGG'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage'; NoWrite = 'm' }
    @{ N = 'train method unknown'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -Method Magic'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage'; NoWrite = 'm' }
    @{ N = 'train memory format unknown'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -MemoryFormat Diagonal'; Id = 'ParameterArgumentTransformationError|CannotConvertArgumentNoMessage'; NoWrite = 'm' }
    @{ N = 'train on CUDA without CUDA'; S = 'Get-PatchSample $fx.Corpus | Start-Pretraining ./m -Device Cuda -MaxSteps 1'; Id = 'TrainingDeviceUnavailable' }
    @{ N = 'train piped strings'; S = "'a' | Start-Pretraining ./m"; Id = 'InputObjectNotBound'; NoWrite = 'm' }
    @{ N = 'train folder below a file'; S = "Set-Content ./f x; Get-PatchSample `$fx.Corpus | Start-Pretraining ./f/m -MaxSteps 1"; Id = 'ModelWriteFailed|StorageWriteFailed' }
    @{ N = 'train one truncated raster'; Copy = 'corpus'; S = '$t = ''./corpus/samples/ds00000009_31UDQ_20190801/s2.tif''; [IO.File]::WriteAllBytes((Resolve-Path $t), [IO.File]::ReadAllBytes((Resolve-Path $t))[0..999]); Get-PatchSample ./corpus | Start-Pretraining ./m -MaxSteps 1 -BatchSize 4'; Id = 'RasterUnreadable|TrainingInputInvalid' }
    # --- Import-EmbeddingModel ---
    @{ N = 'import missing folder'; S = 'Import-EmbeddingModel ./none'; Id = 'ModelNotFound'; Item = $true }
    @{ N = 'import one missing among good'; S = 'Import-EmbeddingModel ./none, $fx.Model'; Id = 'ModelNotFound'; Item = $true; Out = 1 }
    @{ N = 'import a file'; S = "Set-Content ./f x; Import-EmbeddingModel ./f"; Id = 'ModelNotFound'; Item = $true }
    @{ N = 'import an empty folder'; S = 'New-Item -ItemType Directory ./e | Out-Null; Import-EmbeddingModel ./e'; Id = 'ModelNotFound'; Item = $true }
    @{ N = 'import damaged card'; Copy = 'model'; S = "Set-Content ./model/model-card.json '{'; Import-EmbeddingModel ./model"; Id = 'ModelFileCorrupt'; Item = $true }
    @{ N = 'import card of wrong type'; Copy = 'model'; S = "Set-Content ./model/model-card.json '[]'; Import-EmbeddingModel ./model"; Id = 'ModelFileCorrupt'; Item = $true }
    @{ N = 'import missing latest.json'; Copy = 'model'; S = 'Remove-Item ./model/checkpoints/latest.json; Import-EmbeddingModel ./model'; Id = 'ModelNotFound|ModelFileCorrupt'; Item = $true }
    @{ N = 'import latest.json garbage'; Copy = 'model'; S = "Set-Content ./model/checkpoints/latest.json 'x'; Import-EmbeddingModel ./model"; Id = 'ModelFileCorrupt'; Item = $true }
    @{ N = 'import checkpoint deleted'; Copy = 'model'; S = 'Remove-Item ./model/checkpoints/*.pt; Import-EmbeddingModel ./model'; Id = 'ModelNotFound|ModelFileCorrupt'; Item = $true }
    @{ N = 'import path empty'; S = "Import-EmbeddingModel ''"; Id = 'ParameterArgumentValidationError' }
    # --- Get-Embedding ---
    @{ N = 'embed out file in a missing folder'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -OutFile ./none/e.npy'; Id = 'ModelWriteFailed'; NoWrite = 'none' }
    @{ N = 'embed out file a folder'; S = 'New-Item -ItemType Directory ./e.npy | Out-Null; Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -OutFile ./e.npy'; Id = 'ModelWriteFailed'; NoWrite = 'e.npy.ids.txt' }
    @{ N = 'embed batch 0'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -BatchSize 0'; Id = 'ParameterArgumentValidationError' }
    @{ N = 'embed per pixel with a ResNet'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -PerPixel -OutFile ./e.npy'; Id = 'InvalidParameterValue'; NoWrite = 'e.npy' }
    @{ N = 'embed GeoTIFFs with a ResNet'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -GeoTiffFolder ./g'; Id = 'InvalidParameterValue'; NoWrite = 'g' }
    @{ N = 'embed on CUDA without CUDA'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -Device Cuda'; Id = 'TrainingDeviceUnavailable' }
    @{ N = 'embed without a model'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model $null'; Id = 'ParameterArgumentValidationErrorNullNotAllowed' }
    @{ N = 'embed piped strings'; S = "'a' | Get-Embedding -Model (Import-EmbeddingModel `$fx.Model)"; Id = 'InputObjectNotBound' }
    @{ N = 'embed one truncated raster'; Copy = 'corpus'; S = '$t = (Resolve-Path ./corpus/samples/ds00000009_31UDQ_20190801/s2.tif).Path; [IO.File]::WriteAllBytes($t, [IO.File]::ReadAllBytes($t)[0..999]); Get-PatchSample ./corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model)'; Id = 'RasterUnreadable'; Item = $true; Out = 15 }
    @{ N = 'embed one missing raster'; Copy = 'corpus'; S = '$s = Get-PatchSample ./corpus; Remove-Item ./corpus/samples/ds00000010_31UEQ_20190806/s1.tif; $s | Get-Embedding -Model (Import-EmbeddingModel $fx.Model)'; Id = 'RasterUnreadable|StorageObjectNotFound'; Item = $true; Out = 15 }
    @{ N = 'embed a raster of another size'; Copy = 'corpus'; S = '& gdal_translate -q -outsize 128 128 ./corpus/samples/ds00000010_31UEQ_20190806/s1.tif ./small.tif; Copy-Item ./small.tif ./corpus/samples/ds00000010_31UEQ_20190806/s1.tif -Force; Get-PatchSample ./corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model)'; Id = 'TrainingInputInvalid'; Item = $true; Out = 15 }
    @{ N = 'embed threads 0'; S = 'Get-PatchSample $fx.Corpus | Get-Embedding -Model (Import-EmbeddingModel $fx.Model) -IntraOpThreads 0'; Id = 'ParameterArgumentValidationError' }
    # --- Measure-FewShotClassification ---
    @{ N = 'few-shot more shots than a class has'; S = 'Get-PatchSample $fx.Corpus | Measure-FewShotClassification -Model (Import-EmbeddingModel $fx.Model) -Shots 2'; Id = 'FewShotClassTooSmall' }
    @{ N = 'few-shot a class no sample has'; S = 'Get-PatchSample $fx.Corpus | Measure-FewShotClassification -Model (Import-EmbeddingModel $fx.Model) -Shots 1 -Class 211, 512'; Id = 'ClassNotInTraining' }
    @{ N = 'few-shot without embeddings'; S = 'Get-PatchSample $fx.Corpus | Measure-FewShotClassification -Shots 1'; Id = 'InvalidParameterValue' }
    @{ N = 'few-shot k above the support set'; S = 'Get-PatchSample $fx.Corpus | Measure-FewShotClassification -Model (Import-EmbeddingModel $fx.Model) -Shots 1 -Neighbours 3'; Id = 'InvalidParameterValue' }
    @{ N = 'few-shot embeddings of other samples'; S = '$s = Get-PatchSample $fx.Corpus; $e = $s | Select-Object -First 3 | Get-Embedding -Model (Import-EmbeddingModel $fx.Model); $s | Measure-FewShotClassification -Embedding $e -Shots 1'; Id = 'EvaluationInputInvalid' }
    @{ N = 'few-shot zero shots'; S = 'Get-PatchSample $fx.Corpus | Measure-FewShotClassification -Model (Import-EmbeddingModel $fx.Model) -Shots 0'; Id = 'ParameterArgumentValidationError' }
)
