using System.Runtime.InteropServices;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>
/// GDAL's vector (OGR) C API and GDALRasterizeGeometries (GDAL 3.6), for the label sources.
/// Same rules as the raster half: strings GDAL returns are nint and copied; handles GDAL owns
/// (layers, layer SRS, geometry references) are never freed here.
/// </summary>
internal static partial class GdalNative
{
    public const int OfVector = 0x04;

    [LibraryImport(Library)]
    public static partial int GDALDatasetGetLayerCount(nint dataset);

    [LibraryImport(Library)]
    public static partial nint GDALDatasetGetLayer(nint dataset, int index);

    [LibraryImport(Library)]
    public static partial nint OGR_L_GetName(nint layer);

    [LibraryImport(Library)]
    public static partial nint OGR_L_GetSpatialRef(nint layer);

    [LibraryImport(Library)]
    public static partial nint OGR_L_GetLayerDefn(nint layer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OGR_FD_GetFieldIndex(nint featureDefinition, string name);

    [LibraryImport(Library)]
    public static partial void OGR_L_SetSpatialFilterRect(nint layer, double minX, double minY, double maxX, double maxY);

    [LibraryImport(Library)]
    public static partial void OGR_L_SetSpatialFilter(nint layer, nint geometry);

    [LibraryImport(Library)]
    public static partial void OGR_L_ResetReading(nint layer);

    [LibraryImport(Library)]
    public static partial nint OGR_L_GetNextFeature(nint layer);

    [LibraryImport(Library)]
    public static partial void OGR_F_Destroy(nint feature);

    [LibraryImport(Library)]
    public static partial nint OGR_F_GetGeometryRef(nint feature);

    [LibraryImport(Library)]
    public static partial int OGR_F_IsFieldSetAndNotNull(nint feature, int field);

    [LibraryImport(Library)]
    public static partial nint OGR_F_GetFieldAsString(nint feature, int field);

    [LibraryImport(Library)]
    public static partial nint OGR_G_Clone(nint geometry);

    [LibraryImport(Library)]
    public static partial void OGR_G_DestroyGeometry(nint geometry);

    [LibraryImport(Library)]
    public static partial int OGR_G_Transform(nint geometry, nint transform);

    [LibraryImport(Library)]
    public static partial nint OGR_G_Buffer(nint geometry, double distance, int quadrantSegments);

    [LibraryImport(Library)]
    public static partial int OGR_G_GetGeometryType(nint geometry);

    [LibraryImport(Library)]
    public static partial int OGR_GT_Flatten(int type);

    [LibraryImport(Library)]
    public static partial nint OSRClone(nint srs);

    [LibraryImport(Library)]
    public static partial nint OSRGetName(nint srs);

    // OGREnvelope: MinX, MaxX, MinY, MaxY.
    [LibraryImport(Library)]
    public static unsafe partial int OGR_L_GetExtent(nint layer, double* envelope, int force);

    [LibraryImport(Library)]
    public static unsafe partial int GDALRasterizeGeometries(nint dataset, int bandCount, int* bands, int geometryCount, nint* geometries, nint transformer, nint transformerArg, double* burnValues, nint options, nint progress, nint progressData);
}

internal static partial class GdalNative
{
    [LibraryImport(Library)]
    public static partial nint GDALVectorTranslateOptionsNew(nint argv, nint forBinary);

    [LibraryImport(Library)]
    public static partial void GDALVectorTranslateOptionsFree(nint options);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial nint GDALVectorTranslate(string destination, nint destinationDataset, int sourceCount, nint* sources, nint options, int* usageError);
}

internal static partial class GdalNative
{
    [LibraryImport(Library)]
    public static partial void CPLPushErrorHandler(nint handler);

    [LibraryImport(Library)]
    public static partial void CPLPopErrorHandler();
}
