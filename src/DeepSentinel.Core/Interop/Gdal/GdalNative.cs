using System.Runtime.InteropServices;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>
/// GDAL's C API (Debian libgdal32, GDAL 3.6). Only <see cref="Gdal"/> and the handle types call
/// these. Strings GDAL returns are declared as nint and copied (a string return would make the
/// marshaller free GDAL's own buffer).
/// </summary>
internal static partial class GdalNative
{
    public const string Library = "deepsentinel-gdal";

    public const int OfRaster = 0x02;
    public const int OfVerboseError = 0x40;
    public const int OaisTraditionalGisOrder = 0;

    [LibraryImport(Library)]
    public static partial void GDALAllRegister();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALVersionInfo(string request);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALOpenEx(string fileName, uint openFlags, nint allowedDrivers, nint openOptions, nint siblingFiles);

    [LibraryImport(Library)]
    public static partial void GDALClose(nint dataset);

    [LibraryImport(Library)]
    public static partial int GDALGetRasterXSize(nint dataset);

    [LibraryImport(Library)]
    public static partial int GDALGetRasterYSize(nint dataset);

    [LibraryImport(Library)]
    public static partial int GDALGetRasterCount(nint dataset);

    [LibraryImport(Library)]
    public static unsafe partial int GDALGetGeoTransform(nint dataset, double* transform);

    [LibraryImport(Library)]
    public static unsafe partial int GDALSetGeoTransform(nint dataset, double* transform);

    [LibraryImport(Library)]
    public static partial nint GDALGetProjectionRef(nint dataset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GDALSetProjection(nint dataset, string wkt);

    [LibraryImport(Library)]
    public static partial nint GDALGetRasterBand(nint dataset, int band);

    [LibraryImport(Library)]
    public static partial int GDALGetRasterDataType(nint band);

    [LibraryImport(Library)]
    public static unsafe partial double GDALGetRasterNoDataValue(nint band, int* success);

    [LibraryImport(Library)]
    public static partial int GDALSetRasterNoDataValue(nint band, double value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void GDALSetDescription(nint majorObject, string description);

    [LibraryImport(Library)]
    public static partial nint GDALGetDescription(nint majorObject);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GDALSetMetadataItem(nint majorObject, string name, string value, string? domain);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALGetMetadataItem(nint majorObject, string name, string? domain);

    [LibraryImport(Library)]
    public static unsafe partial int GDALRasterIOEx(nint band, int rwFlag, int xOff, int yOff, int xSize, int ySize, void* buffer, int bufXSize, int bufYSize, int bufType, long pixelSpace, long lineSpace, RasterIOExtraArg* extra);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALGetDriverByName(string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALCreate(nint driver, string name, int xSize, int ySize, int bands, int type, nint options);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GDALCreateCopy(nint driver, string name, nint source, int strict, nint options, nint progress, nint progressData);

    [LibraryImport(Library)]
    public static partial int GDALFlushCache(nint dataset);

    [LibraryImport(Library)]
    public static partial nint GDALWarpAppOptionsNew(nint argv, nint forBinary);

    [LibraryImport(Library)]
    public static partial void GDALWarpAppOptionsFree(nint options);

    [LibraryImport(Library)]
    public static unsafe partial nint GDALWarp(nint destName, nint destDataset, int sourceCount, nint* sources, nint options, int* usageError);

    [LibraryImport(Library)]
    public static partial nint GDALBuildVRTOptionsNew(nint argv, nint forBinary);

    [LibraryImport(Library)]
    public static partial void GDALBuildVRTOptionsFree(nint options);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial nint GDALBuildVRT(string destName, int sourceCount, nint* sources, nint sourceNames, nint options, int* usageError);

    [LibraryImport(Library)]
    public static partial void CPLErrorReset();

    [LibraryImport(Library)]
    public static partial nint CPLGetLastErrorMsg();

    [LibraryImport(Library)]
    public static partial int CPLGetLastErrorType();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void CPLSetConfigOption(string key, string? value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void CPLSetThreadLocalConfigOption(string key, string? value);

    [LibraryImport(Library)]
    public static partial nint CPLSetErrorHandler(nint handler);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint CSLAddString(nint list, string value);

    [LibraryImport(Library)]
    public static partial void CSLDestroy(nint list);

    [LibraryImport(Library)]
    public static partial void VSIFree(nint pointer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int VSIUnlink(string path);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint VSIFileFromMemBuffer(string path, nint data, ulong length, int takeOwnership);

    [LibraryImport(Library)]
    public static partial int VSIFCloseL(nint file);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint OSRNewSpatialReference(string? wkt);

    [LibraryImport(Library)]
    public static partial int OSRImportFromEPSG(nint srs, int epsg);

    [LibraryImport(Library)]
    public static partial void OSRSetAxisMappingStrategy(nint srs, int strategy);

    [LibraryImport(Library)]
    public static unsafe partial int OSRExportToWkt(nint srs, nint* wkt);

    [LibraryImport(Library)]
    public static partial void OSRDestroySpatialReference(nint srs);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint OSRGetAuthorityCode(nint srs, string? targetKey);

    [LibraryImport(Library)]
    public static partial int OSRAutoIdentifyEPSG(nint srs);

    [LibraryImport(Library)]
    public static partial int OSRIsProjected(nint srs);

    [LibraryImport(Library)]
    public static unsafe partial double OSRGetLinearUnits(nint srs, nint* name);

    [LibraryImport(Library)]
    public static partial nint OCTNewCoordinateTransformation(nint source, nint target);

    [LibraryImport(Library)]
    public static unsafe partial int OCTTransform(nint transform, int count, double* x, double* y, double* z);

    [LibraryImport(Library)]
    public static partial void OCTDestroyCoordinateTransformation(nint transform);

    /// <summary>GDALRasterIOExtraArg, version 1 (GDAL 3.6).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RasterIOExtraArg
    {
        public int Version;
        public int ResampleAlg;
        public nint Progress;
        public nint ProgressData;
        public int FloatingPointWindowValidity;
        public double XOff;
        public double YOff;
        public double XSize;
        public double YSize;
    }

    // Issue 16: GDAL's own counters of /vsicurl/ (and /vsis3/, /vsiaz/ ...) requests, enabled
    // with CPL_VSIL_NETWORK_STATS_ENABLED (GDAL 3.2+).
    [LibraryImport(Library)]
    public static partial nint VSINetworkStatsGetAsSerializedJSON(nint options);

    [LibraryImport(Library)]
    public static partial void VSINetworkStatsReset();
}
