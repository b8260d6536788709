using Microsoft.Win32.SafeHandles;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>A GDALDatasetH (raster or vector), closed with GDALClose.</summary>
internal sealed class DatasetHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DatasetHandle(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.GDALClose(handle);
        return true;
    }
}
