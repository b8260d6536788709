@{
    RootModule           = 'DeepSentinel.Cmdlets.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5b0f3c1e-8d4a-4f6e-9c2b-7a1d3e5f9b42'
    Author               = 'DeepSentinel contributors'
    CompanyName          = 'DeepSentinel'
    Copyright            = '(c) DeepSentinel contributors. All rights reserved.'
    Description          = 'Earth-observation machine learning on matched Sentinel-1 + Sentinel-2 patches: STAC scene search, patch corpora, labels, self-supervised pretraining and embeddings.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('DeepSentinel.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-SentinelScene'
        'New-DemoCatalog'
        'New-PatchSample'
        'Get-PatchSample'
        'Copy-Corpus'
        'Update-CorpusTable'
        'Add-CorineLabel'
        'Add-OsmLabel'
        'Start-Pretraining'
        'Get-Embedding'
        'Import-EmbeddingModel'
        'Split-LabelledCorpus'
        'Measure-Classification'
        'Export-ClassificationEvaluation'
        'Start-FineTuning'
        'Import-ClassificationModel'
        'Invoke-ClassPrediction'
        'Start-SuperResolutionTraining'
        'Invoke-SuperResolution'
        'Measure-SuperResolution'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Sentinel', 'Sentinel-1', 'Sentinel-2', 'STAC', 'RemoteSensing', 'EarthObservation', 'MachineLearning')
            ReleaseNotes = @'
0.1.0: tested in real PowerShell (pwsh 7.6, Pester). Get-SentinelScene (STAC search: Planetary Computer, Earth Search, Copernicus Data Space, any STAC API, static catalogs); New-PatchSample / Get-PatchSample (matched Sentinel-1 + Sentinel-2 patch corpora, resumable, sharded); Add-CorineLabel / Add-OsmLabel; Copy-Corpus (local, Azure Blob Storage, Google Cloud Storage); Start-Pretraining / Get-Embedding / Import-EmbeddingModel (self-supervised encoders on libtorch); New-DemoCatalog (offline demo data with CLC and OSM label sources). Full help: Get-Help <cmdlet> -Full, about_DeepSentinel.
Fine-tuning and evaluation (issue 14): Split-LabelledCorpus (70/30 train/test splits of labelled patches, deterministic by seed, spatially blocked by grid cell or MGRS tile, optional held-out classes, or read from split files of sample ids); Measure-Classification (overall and balanced accuracy, macro-F1, per-class precision/recall/F1, confusion matrix; micro-F1 and mAP for multi-label; tested equal to scikit-learn) and Export-ClassificationEvaluation (evaluation.json, CSV, a confusion-matrix PNG); Start-FineTuning (patch classifiers: linear probe or fine-tune of a pretrained encoder, or from scratch; single- or multi-label CLC classes; S2, S1 or both; class-weighted log loss; evaluated on the test split), Import-ClassificationModel and Invoke-ClassPrediction (class and probabilities per patch).

Scale-out (issue 16): every corpus has a STAC-GeoParquet table, items.parquet (GeoParquet 1.1.0, one row per sample in point order, written with the index); Update-CorpusTable rewrites it after labelling. New-PatchSample -ShardFromEnvironment takes the shard from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) and the count from -ShardCount or DEEPSENTINEL_SHARD_COUNT; deploy/ has the container image recipe and Indexed Job manifests for AKS and GKE.

Remote reads (issue 16): New-PatchSample -IoConcurrency (default 8) reads the files of a patch that many at a time per worker (HTTP requests in flight for remote COGs), separate from -ThrottleLimit; its progress shows COG requests and MiB per sample, and a verbose run summary ends each run (samples, points, GET/HEAD requests, bytes, counted from GDAL's /vsicurl/). bench/remote-sampling: a loopback STAC API + COG server with latency and a bandwidth cap, against a rasterio baseline.
Corpus trust (issue 11): corpus layout 3 with relative hrefs only (a corpus reads the same after mv or Copy-Corpus to Azure/GCS), schema-valid STAC (sat and sar fields, counterclockwise rings, the Collection's own extent and count), footprints and bboxes across the antimeridian (RFC 7946), an exact kill-and-rerun guarantee with 8 workers, and label-source fixes (srs_id 0 GeoPackages, CLC 999 for vectors, transparent clc.png nodata, warnings for all-zero OSM masks, no OSM indexing for -WhatIf or all-skipped reruns). Older corpora stay readable; reruns into them are refused with a rebuild message.
Super-resolution (issue 15): Start-SuperResolutionTraining (DSen2/VDSen2 on the native engine, trained without labels by Wald's protocol on your own scenes or corpus), Invoke-SuperResolution (a 10 m COG of all 12 bands of a scene window, tiled without seams), Measure-SuperResolution (RMSE, SRE, SAM at reduced scale against bilinear and bicubic, with a quicklook).
'@
        }
    }
}
