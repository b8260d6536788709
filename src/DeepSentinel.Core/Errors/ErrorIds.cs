namespace DeepSentinel.Core.Errors;

/// <summary>
/// Stable error identifiers. They appear as the FullyQualifiedErrorId prefix of PowerShell error
/// records, so scripts may match on them: never rename one.
/// </summary>
public static class ErrorIds
{
    /// <summary>A bounding box is out of range or has its corners swapped.</summary>
    public const string InvalidBoundingBox = "InvalidBoundingBox";
    /// <summary>A geometry (GeoJSON or WKT) could not be parsed.</summary>
    public const string InvalidGeometry = "InvalidGeometry";
    /// <summary>Both a bounding box and an intersecting geometry were given.</summary>
    public const string BoundingBoxAndIntersectsConflict = "BoundingBoxAndIntersectsConflict";
    /// <summary>The end of a time range is before its start.</summary>
    public const string EndBeforeStart = "EndBeforeStart";
    /// <summary>A parameter value is out of its allowed range or format.</summary>
    public const string InvalidParameterValue = "InvalidParameterValue";
    /// <summary>A collection does not exist on the STAC API or catalog.</summary>
    public const string UnknownCollection = "UnknownCollection";
    /// <summary>A server could not be reached (DNS failure, connection refused or reset) within the retry budget.</summary>
    public const string EndpointUnreachable = "EndpointUnreachable";
    /// <summary>A URL answered, but not as a STAC API or catalog.</summary>
    public const string NotAStacEndpoint = "NotAStacEndpoint";
    /// <summary>A STAC response was not valid JSON or lacked required members.</summary>
    public const string StacResponseMalformed = "StacResponseMalformed";
    /// <summary>A STAC request failed with an HTTP error status.</summary>
    public const string StacRequestFailed = "StacRequestFailed";
    /// <summary>A server kept answering 429/5xx or timing out until the retry budget ran out.</summary>
    public const string ServerUnavailable = "ServerUnavailable";
    /// <summary>A request timed out.</summary>
    public const string RequestTimedOut = "RequestTimedOut";
    /// <summary>A SAS token could not be obtained from the Planetary Computer token endpoint.</summary>
    public const string SasTokenUnavailable = "SasTokenUnavailable";
    /// <summary>An item in a STAC response could not be read as a Sentinel scene.</summary>
    public const string SceneItemInvalid = "SceneItemInvalid";
    /// <summary>A static catalog file or link could not be read.</summary>
    public const string CatalogUnreadable = "CatalogUnreadable";

    /// <summary>Writing an object to a store failed.</summary>
    public const string StorageWriteFailed = "StorageWriteFailed";
    /// <summary>An object does not exist in the store.</summary>
    public const string StorageObjectNotFound = "StorageObjectNotFound";

    /// <summary>GDAL (libgdal) or one of its drivers is not available.</summary>
    public const string GdalUnavailable = "GdalUnavailable";
    /// <summary>A raster could not be opened or read (missing, truncated, not a raster, HTTP error mid-read).</summary>
    public const string RasterUnreadable = "RasterUnreadable";
    /// <summary>A raster could not be written.</summary>
    public const string RasterWriteFailed = "RasterWriteFailed";

    /// <summary>A scene lacks a band the corpus needs (e.g. SCL, VH).</summary>
    public const string SceneBandMissing = "SceneBandMissing";
    /// <summary>A scene's rasters have no coordinate reference system and its item names none.</summary>
    public const string SceneGeoreferenceMissing = "SceneGeoreferenceMissing";
    /// <summary>A corpus was opened with parameters that differ from the ones it was built with.</summary>
    public const string CorpusParametersMismatch = "CorpusParametersMismatch";
    /// <summary>A corpus index or journal entry is unreadable.</summary>
    public const string CorpusEntryInvalid = "CorpusEntryInvalid";
    /// <summary>No corpus (no corpus.json) at the given location.</summary>
    public const string CorpusNotFound = "CorpusNotFound";
    /// <summary>A corpus has no sample of the id asked for (Get-PatchSample -Id).</summary>
    public const string SampleNotFound = "SampleNotFound";
    /// <summary>No scenes to match: the catalog, API or pipeline gave no usable Sentinel-1 or Sentinel-2 scenes.</summary>
    public const string NoScenesAvailable = "NoScenesAvailable";
    /// <summary>A sample could not be built (its reason is in the message); the run goes on.</summary>
    public const string SampleFailed = "SampleFailed";
    /// <summary>A storage location (local path, az://, https://...blob.core.windows.net, gs://) could not be parsed.</summary>
    public const string InvalidStoreLocation = "InvalidStoreLocation";
    /// <summary>The store refused the credentials, or they lack a permission the operation needs.</summary>
    public const string StorageAccessDenied = "StorageAccessDenied";
    /// <summary>No usable credentials were found for a cloud store, or a token could not be obtained.</summary>
    public const string StorageCredentialUnavailable = "StorageCredentialUnavailable";
    /// <summary>A storage request failed with an HTTP status that retrying cannot fix.</summary>
    public const string StorageRequestFailed = "StorageRequestFailed";
    /// <summary>Stored or transferred bytes did not match their checksum (CRC32C or MD5).</summary>
    public const string StorageIntegrityFailed = "StorageIntegrityFailed";
    /// <summary>Copying one object of a corpus failed; the copy goes on with the others.</summary>
    public const string CorpusCopyFailed = "CorpusCopyFailed";

    /// <summary>A label source (CLC raster or vector, OSM extract, GeoJSON) does not exist or cannot be opened or read.</summary>
    public const string LabelSourceUnreadable = "LabelSourceUnreadable";
    /// <summary>A label source has no coordinate reference system, so it cannot be placed on a patch grid.</summary>
    public const string LabelSourceNoCrs = "LabelSourceNoCrs";
    /// <summary>A CLC vector source lacks the class attribute (CODE_18 by default).</summary>
    public const string LabelAttributeMissing = "LabelAttributeMissing";
    /// <summary>A CLC source holds a value that is neither a CLC level-3 code nor a raster index of the legend.</summary>
    public const string ClcCodeUnknown = "ClcCodeUnknown";
    /// <summary>An OSM tag-to-class mapping is malformed.</summary>
    public const string LabelClassMapInvalid = "LabelClassMapInvalid";
    /// <summary>Labelling one sample failed (its reason is in the message); the run goes on with the rest.</summary>
    public const string LabelFailed = "LabelFailed";
    /// <summary>The native training engine (libdeepsentinel_torch.so) or libtorch could not be loaded.</summary>
    public const string TrainingEngineUnavailable = "TrainingEngineUnavailable";
    /// <summary>A training or embedding input has the wrong bands, size or values for the model.</summary>
    public const string TrainingInputInvalid = "TrainingInputInvalid";
    /// <summary>A native model handle was freed, disposed or never valid.</summary>
    public const string ModelHandleInvalid = "ModelHandleInvalid";
    /// <summary>A model folder, checkpoint or model card does not exist.</summary>
    public const string ModelNotFound = "ModelNotFound";
    /// <summary>A checkpoint or model card is damaged or not a DeepSentinel model.</summary>
    public const string ModelFileCorrupt = "ModelFileCorrupt";
    /// <summary>The requested training device (e.g. CUDA) is not available.</summary>
    public const string TrainingDeviceUnavailable = "TrainingDeviceUnavailable";
    /// <summary>The training engine failed (out of memory, a non-finite loss, ...).</summary>
    public const string TrainingFailed = "TrainingFailed";
    /// <summary>The corpus held no usable patch.</summary>
    public const string CorpusEmpty = "CorpusEmpty";
    /// <summary>The patches lack the sensor the model takes (e.g. -Sensor S1 on Sentinel-2-only patches).</summary>
    public const string SensorDataMissing = "SensorDataMissing";
    /// <summary>A model folder already holds a model and -Resume was not given.</summary>
    public const string ModelFolderNotEmpty = "ModelFolderNotEmpty";
    /// <summary>-Confirm was given where no one can be asked (a non-interactive session, a job).</summary>
    public const string ConfirmationUnavailable = "ConfirmationUnavailable";
    /// <summary>Writing a model folder, event file or embedding file failed.</summary>
    public const string ModelWriteFailed = "ModelWriteFailed";

    // Fine-tuning and evaluation (issue 14).

    /// <summary>A split leaves its training or test side without a labelled sample (too few samples or blocks).</summary>
    public const string SplitEmpty = "SplitEmpty";
    /// <summary>A split file names a sample id that is not among the input samples.</summary>
    public const string SplitIdUnknown = "SplitIdUnknown";
    /// <summary>A split file is missing, unreadable, empty, or shares ids with the other split file.</summary>
    public const string SplitFileInvalid = "SplitFileInvalid";
    /// <summary>Predictions and true classes given for evaluation do not fit together (lengths, classes, probabilities).</summary>
    public const string EvaluationInputInvalid = "EvaluationInputInvalid";
    /// <summary>A class asked for has no training samples, or the training split has fewer than two classes.</summary>
    public const string ClassNotInTraining = "ClassNotInTraining";
    /// <summary>The input does not match the model: its bands or sensors differ from the model card, or the encoder does not fit the task.</summary>
    public const string ModelInputMismatch = "ModelInputMismatch";

    /// <summary>A super-resolution window (bounding box or corpus sample) is not inside the scene it is read from.</summary>
    public const string SuperResolutionWindowOutsideScene = "SuperResolutionWindowOutsideScene";
    /// <summary>A super-resolution model of one factor (2x: 20 m bands; 6x: 60 m bands) was given where the other is needed, or two of the same.</summary>
    public const string SuperResolutionFactorMismatch = "SuperResolutionFactorMismatch";
    /// <summary>A corpus sample does not name the scene bands at their native resolution (deepsentinel:source_assets) that super-resolution reads.</summary>
    public const string SuperResolutionSourceMissing = "SuperResolutionSourceMissing";

    // EuroSAT-style datasets (issue 14, eurosat-14).

    /// <summary>A dataset folder is missing, has no class folders, lacks a class asked for, or holds no usable image.</summary>
    public const string DatasetInvalid = "DatasetInvalid";
    /// <summary>The input's Sentinel-2 bands differ from those a classifier's card (or a pretrained encoder's card) lists.</summary>
    public const string ModelBandMismatch = "ModelBandMismatch";
    /// <summary>A server kept answering 429 Too Many Requests (rate limit) until the retry budget ran out, or asked to wait longer than allowed.</summary>
    public const string RateLimited = "RateLimited";

    // Few-shot evaluation of frozen embeddings (issue 14, fewshot-14).

    /// <summary>A class has too few labelled samples for a few-shot episode: -Shots for the support set and at least one more to classify.</summary>
    public const string FewShotClassTooSmall = "FewShotClassTooSmall";

    // STAC-GeoParquet item tables as a scene source (issue 16, scene-parquet-16).

    /// <summary>An item table is missing, not a Parquet file, lacks the columns of a STAC-GeoParquet item table (id, geometry as WKB, datetime), or has a row whose geometry is not readable.</summary>
    public const string ItemTableInvalid = "ItemTableInvalid";
}
