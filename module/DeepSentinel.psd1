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
        'Get-LabelledImage'
        'New-DemoEuroSatDataset'
        'Start-SegmentationTraining'
        'Import-SegmentationModel'
        'Invoke-Segmentation'
        'Measure-Segmentation'
        'Export-SegmentationEvaluation'
        'Measure-FewShotClassification'
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
Fine-tuning robustness (issue 14, finetune-robust-14): Start-FineTuning augments training patches with random flips and quarter turns (-NoAugmentation: off), saves a checkpoint (weights and AdamW state) after every epoch and on Ctrl+C, continues with -Resume, and writes its card last so a killed run never leaves a folder that passes for a finished classifier; bench/finetune compares the fine-tuning step with python3-torch.

Scale-out (issue 16): every corpus has a STAC-GeoParquet table, items.parquet (GeoParquet 1.1.0, one row per sample in point order, written with the index); Update-CorpusTable rewrites it after labelling. New-PatchSample -ShardFromEnvironment takes the shard from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) and the count from -ShardCount or DEEPSENTINEL_SHARD_COUNT; deploy/ has the container image recipe and Indexed Job manifests for AKS and GKE.

Remote reads (issue 16): New-PatchSample -IoConcurrency (default 8) reads the files of a patch that many at a time per worker (HTTP requests in flight for remote COGs), separate from -ThrottleLimit; its progress shows COG requests and MiB per sample, and a verbose run summary ends each run (samples, points, GET/HEAD requests, bytes, counted from GDAL's /vsicurl/). bench/remote-sampling: a loopback STAC API + COG server with latency and a bandwidth cap, against a rasterio baseline.
Corpus trust (issue 11): corpus layout 3 with relative hrefs only (a corpus reads the same after mv or Copy-Corpus to Azure/GCS), schema-valid STAC (sat and sar fields, counterclockwise rings, the Collection's own extent and count), footprints and bboxes across the antimeridian (RFC 7946), an exact kill-and-rerun guarantee with 8 workers, and label-source fixes (srs_id 0 GeoPackages, CLC 999 for vectors, transparent clc.png nodata, warnings for all-zero OSM masks, no OSM indexing for -WhatIf or all-skipped reruns). Older corpora stay readable; reruns into them are refused with a rebuild message.
Super-resolution (issue 15): Start-SuperResolutionTraining (DSen2/VDSen2 on the native engine, trained without labels by Wald's protocol on your own scenes or corpus), Invoke-SuperResolution (a 10 m COG of all 12 bands of a scene window, tiled without seams), Measure-SuperResolution (RMSE, SRE, SAM at reduced scale against bilinear and bicubic, with a quicklook).
EuroSAT-style datasets (issue 14, eurosat-14): Get-LabelledImage reads a dataset in EuroSAT's layout (class folders of 13-band GeoTIFFs or RGB JPEG/PNG; bands from the files' descriptions, -BandOrder or EuroSAT's order; an explicit map of EuroSAT's 13 L1C bands onto the corpus's 12 L2A bands, B10 dropped) as labelled images for Split-LabelledCorpus, Start-FineTuning and Invoke-ClassPrediction; New-DemoEuroSatDataset writes a small synthetic one. A classifier's card records its input bands and refuses others (ModelBandMismatch); examples/06-eurosat-experiments.ps1 runs RGB vs all bands, from scratch vs pretrained.
Scene lookup cache (issue 16): New-PatchSample searches a STAC API once per 1-degree cell, mission and 12-day bin instead of twice per point (-SceneLookup Cached, the default; PerPoint for comparison), one in-flight search per key for all workers, kept for the run and in the corpus's scene-cache/ folder keyed by the query; the same corpus, byte for byte, as a search per point (tested), 0.67 instead of 8.67 searches per accepted sample on the loopback test API. Exhausted 429s are the new error id RateLimited; the run's STAC searches, requests and retries per accepted sample are in the progress and the final verbose line (StacRequestCounter).
Segmentation (issue 14): Start-SegmentationTraining (a UNet per pixel: CLC classes at level 1, 2 or 3, or OSM class masks; per-pixel cross-entropy weighted by training pixel frequencies, unlabelled pixels ignored; frozen encoder path, fine-tuned or from scratch; S2, S1 or both), Import-SegmentationModel, Invoke-Segmentation (a UInt16 label COG per patch on its grid with a legend-coloured quicklook), Measure-Segmentation (mean and per-class IoU, pixel accuracy, confusion matrix; tested equal to scikit-learn) and Export-SegmentationEvaluation.
Speed (issues 14 and 16, quiet-machine benchmarks): the native engine steps AdamW in one fused pass per parameter (pretraining, fine-tuning, segmentation; DEEPSENTINEL_FUSED_ADAMW=0 turns it off; optimizer checkpoints unchanged). New-PatchSample runs four workers a core (at most 32) by default when COGs are read over HTTP, one a core for files; -ThrottleLimit still sets it.
Few-shot evaluation (issue 14, fewshot-14): Measure-FewShotClassification measures frozen embeddings with few labels (the protocol's held-out classes): K labelled samples per class as the support set, the rest classified by cosine k-NN or nearest centroid, over seeded episodes with the mean and standard deviation; from a split's held-out classes, corpus samples or EuroSAT-style images, with an EmbeddingModel or Get-Embedding's output; a FewShotEvaluation that pipes into Export-ClassificationEvaluation (adds few-shot-samples.csv). Predictions tested equal to scikit-learn's KNeighborsClassifier and NearestCentroid. New error id FewShotClassTooSmall.
STAC-GeoParquet item tables (issue 16, scene-parquet-16): Get-SentinelScene -ItemTable and New-PatchSample -ItemTable take one or more STAC-GeoParquet item tables (stac-geoparquet's layout, as Planetary Computer exports its collections) as the scene source: local .parquet files, or az://, https blob (SAS allowed, never shown) and gs:// URLs read in ranged requests through the storage layer. Only the needed columns are read, a row group at a time; row groups outside the date range or latitudes are skipped on their statistics; the same query selects the same scenes as the STAC API or static catalog holding the same Items (tested with tables written by hyparquet-writer), Planetary Computer hrefs are signed as the API's are. New error id ItemTableInvalid. New-DemoCatalog also writes its Items as items.parquet (demo layout 3).
Segmentation robustness (issue 14, seg-resume-14): Start-SegmentationTraining saves a checkpoint (UNet, head and the AdamW state of both parameter groups) after every epoch and on Ctrl+C / Stop-Job, continues with -Resume (-Epochs counts all runs; another mode, labels, level, sensors or classes is ModelInputMismatch; an unfinished folder without -Resume is ModelFolderNotEmpty), and writes its card last so a killed run never leaves a folder that passes for a finished model. Classification and segmentation now share one checkpoint, card and handle code path; files on disk are unchanged.
'@
        }
    }
}
