using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Labels;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Labels;

/// <summary>
/// Add-CorineLabel and Add-OsmLabel on a small corpus built from the demo catalog, with CLC and
/// OSM sources generated here (python3-gdal writes the CLC raster and its polygons), checked
/// against rasterio's own reprojection and rasterisation into the same grid.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class LabelTests(DemoCatalogFixture fixture) : IDisposable
{
    private static readonly SemaphoreSlim BaseGate = new(1, 1);
    private static string? _baseCorpus;
    private readonly List<string> _folders = [];

    public void Dispose()
    {
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string NewFolder(string prefix)
    {
        var folder = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        _folders.Add(folder);
        return folder;
    }

    /// <summary>A copy of a two-sample corpus (built once per test run; the copies keep tests apart).</summary>
    private async Task<(string Corpus, List<PatchSample> Samples)> CorpusAsync()
    {
        await BaseGate.WaitAsync();
        try
        {
            if (_baseCorpus is null)
            {
                var folder = Path.Combine(Path.GetTempPath(), "ds-label-base-" + Guid.NewGuid().ToString("N")[..8]);
                var request = new PatchSampleRequest
                {
                    Destination = folder,
                    Count = 2,
                    Seed = 11,
                    Start = fixture.Options.Start,
                    End = fixture.Options.Start.AddDays(14),
                    MaxCloudCover = 60,
                    MaxPatchCloud = 20,
                    MaxNoData = 5,
                    ThrottleLimit = 2,
                    Source = new SceneSearchRequest { Catalog = fixture.Root },
                };
                await foreach (var _ in new PatchSampleService(TestServices.Create()).RunAsync(request, new RecordingReporter(), null, CancellationToken.None))
                {
                }

                _baseCorpus = folder;
            }
        }
        finally
        {
            BaseGate.Release();
        }

        var copy = NewFolder("ds-label-corpus-");
        foreach (var file in Directory.EnumerateFiles(_baseCorpus, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(_baseCorpus, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var samples = await Collect(LabelService.ReadCorpus(copy, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(2, samples.Count);
        return (copy, samples);
    }

    private static async Task<List<PatchSample>> Collect(IAsyncEnumerable<PatchSample> samples)
    {
        var list = new List<PatchSample>();
        await foreach (var sample in samples)
        {
            list.Add(sample);
        }

        return list;
    }

    private static Task<List<PatchSample>> Corine(IReadOnlyList<PatchSample> samples, string source, RecordingReporter reporter, bool force = false, string attribute = "CODE_18", Func<string, string, Task<bool>>? shouldProcess = null) =>
        Collect(new LabelService().AddCorineAsync(LabelService.FromList(samples), new CorineLabelRequest { Source = source, Attribute = attribute }, new LabelRunOptions { Force = force, ThrottleLimit = 2 }, reporter, shouldProcess, CancellationToken.None));

    private static Task<List<PatchSample>> Osm(IReadOnlyList<PatchSample> samples, string source, RecordingReporter reporter, OsmClassMap? map = null, bool force = false) =>
        Collect(new LabelService().AddOsmAsync(LabelService.FromList(samples), new OsmLabelRequest { Source = source, ClassMap = map ?? OsmClassMap.Default }, new LabelRunOptions { Force = force, ThrottleLimit = 2 }, reporter, null, CancellationToken.None));

    /// <summary>The patch centres in EPSG:3035.</summary>
    private static double[][] CentresIn3035(IEnumerable<PatchSample> samples) => samples.Select(s =>
    {
        using var transform = new CoordinateTransform(s.Epsg, 3035);
        var (x, y) = transform.Transform(s.GeoTransform[0] + (s.Width * s.GeoTransform[1] / 2), s.GeoTransform[3] + (s.Height * s.GeoTransform[5] / 2));
        return new[] { x, y };
    }).ToArray();

    // Writes CLC test sources around the first patch centre (EPSG:3035, 100 m cells): a codes
    // GeoTIFF, the same as a raster index, its polygons as GeoPackages in EPSG:3035 and 4326,
    // and the variants the bad-input tests need.
    private const string MakeClc = """
        import sys, json, math, numpy as np
        from osgeo import gdal, ogr, osr
        gdal.UseExceptions(); ogr.UseExceptions()
        a = json.loads(sys.argv[1]); out = a['out']; centres = a['centres']
        xs = [c[0] for c in centres]; ys = [c[1] for c in centres]
        x0 = math.floor((min(xs) - 4000) / 100) * 100; y1 = math.ceil((max(ys) + 4000) / 100) * 100
        w = int((max(xs) + 4000 - x0) / 100) + 1; h = int((y1 - (min(ys) - 4000)) / 100) + 1
        arr = np.full((h, w), 211, np.int16)
        c0 = int((centres[0][0] - x0) / 100); r0 = int((y1 - centres[0][1]) / 100)
        arr[r0-12:r0-2, c0-10:c0+5] = 112
        arr[r0:r0+12, c0-12:c0-3] = 311
        arr[r0-5:r0+10, c0+3:c0+12] = 512
        arr[r0-1, :] = 122
        srs = osr.SpatialReference(); srs.ImportFromEPSG(3035)
        def write(name, data, gtype, with_srs=True, x=x0, y=y1):
            ds = gdal.GetDriverByName('GTiff').Create(out + '/' + name, data.shape[1], data.shape[0], 1, gtype)
            ds.SetGeoTransform([x, 100, 0, y, 0, -100])
            if with_srs: ds.SetProjection(srs.ExportToWkt())
            ds.GetRasterBand(1).WriteArray(data); ds = None
        write('clc_codes.tif', arr, gdal.GDT_Int16)
        codes = [111,112,121,122,123,124,131,132,133,141,142,211,212,213,221,222,223,231,241,242,243,244,311,312,313,321,322,323,324,331,332,333,334,335,411,412,421,422,423,511,512,521,522,523]
        index = np.zeros_like(arr, dtype=np.uint8)
        for i, c in enumerate(codes): index[arr == c] = i + 1
        write('clc_index.tif', index, gdal.GDT_Byte)
        write('clc_nocrs.tif', arr, gdal.GDT_Int16, with_srs=False)
        write('clc_outside.tif', arr, gdal.GDT_Int16, x=x0 + 300000)
        write('clc_partial.tif', arr[:, :c0], gdal.GDT_Int16)
        bad = arr.copy()
        for c in centres[1:]:
            cc = int((c[0] - x0) / 100); rr = int((y1 - c[1]) / 100); bad[rr-3:rr+3, cc-3:cc+3] = 700
        write('clc_badcode.tif', bad, gdal.GDT_Int16)
        src = gdal.Open(out + '/clc_codes.tif')
        for name, field in (('clc_3035.gpkg', 'CODE_18'), ('clc_class.gpkg', 'CLASS')):
            ds = ogr.GetDriverByName('GPKG').CreateDataSource(out + '/' + name)
            layer = ds.CreateLayer('clc', srs, ogr.wkbPolygon)
            layer.CreateField(ogr.FieldDefn(field, ogr.OFTInteger))
            gdal.Polygonize(src.GetRasterBand(1), None, layer, 0)
            ds = None
        gdal.VectorTranslate(out + '/clc_4326.gpkg', out + '/clc_3035.gpkg', dstSRS='EPSG:4326', reproject=True)
        print(w, h)
        """;

    // rasterio's own answers on the patch grid: nearest reprojection of a raster and
    // rasterisation of polygons (pixel-centre rule) after transforming them itself.
    private const string Reference = """
        import sys, json, numpy as np, rasterio
        from rasterio.warp import reproject, Resampling, transform_geom
        from rasterio.features import rasterize
        from osgeo import ogr
        label, source = sys.argv[1], sys.argv[2]
        with rasterio.open(label) as l:
            ours = l.read(1).astype(np.int32); crs = l.crs; transform = l.transform; shape = (l.height, l.width)
        if source.endswith('.tif'):
            ref = np.zeros(shape, np.int32)
            with rasterio.open(source) as s:
                reproject(rasterio.band(s, 1), ref, dst_transform=transform, dst_crs=crs, resampling=Resampling.nearest, dst_nodata=0)
        else:
            ds = ogr.Open(source); layer = ds.GetLayer(0)
            src_crs = 'EPSG:' + layer.GetSpatialRef().GetAuthorityCode(None)
            shapes = [(transform_geom(src_crs, crs, json.loads(f.GetGeometryRef().ExportToJson())), int(f.GetField('CODE_18'))) for f in layer]
            ref = rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype='int32')
        print(json.dumps({'agree': float((ours == ref).mean()), 'classes': sorted(int(v) for v in np.unique(ref))}))
        """;

    private async Task<(string Folder, List<PatchSample> Samples, string Corpus)> ClcFixtureAsync()
    {
        var (corpus, samples) = await CorpusAsync();
        var folder = NewFolder("ds-clc-");
        Independent.Python(MakeClc, JsonSerializer.Serialize(new { out_ = folder, centres = CentresIn3035(samples) }).Replace("out_", "out", StringComparison.Ordinal));
        return (folder, samples, corpus);
    }

    private static JsonObject Item(PatchSample sample) => JsonNode.Parse(File.ReadAllText(sample.AssetLocation(PatchSample.AssetKeys.Item)))!.AsObject();

    private static ushort[] ReadLabel(string path)
    {
        using var dataset = GdalDataset.Open(path);
        var values = new ushort[dataset.Width * dataset.Height];
        dataset.Read<ushort>(1, 0, 0, dataset.Width, dataset.Height, values, dataset.Width, dataset.Height);
        return values;
    }

    private static JsonObject Compare(string label, string source) => JsonNode.Parse(Independent.Python(Reference, label, source))!.AsObject();

    [Fact]
    public async Task Raster_CLC_lands_on_the_pixels_rasterio_reprojects_and_the_item_gets_shares()
    {
        var (folder, samples, corpus) = await ClcFixtureAsync();
        var reporter = new RecordingReporter();

        var labelled = await Corine(samples.Take(1).ToList(), Path.Combine(folder, "clc_codes.tif"), reporter);

        Assert.Empty(reporter.Errors);
        var sample = Assert.Single(labelled);
        // Labelling leaves no staging folder behind, not even an empty one.
        Assert.False(Directory.Exists(Path.Combine(corpus, ".staging-labels")));
        var cog = sample.AssetLocation("clc");
        var info = Independent.GdalInfo(cog);
        Assert.Equal("COG", (string)info["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
        Assert.Equal("UInt16", (string)info["bands"]![0]!["type"]!);
        Assert.Equal(sample.GeoTransform, info["geoTransform"]!.AsArray().Select(v => (double)v!));
        var check = Compare(cog, Path.Combine(folder, "clc_codes.tif"));
        // Both sample the cell under each pixel centre; a centre that falls on a cell edge (to
        // rounding) may go either way.
        Assert.True((double)check["agree"]! > 0.9995, $"agreement with rasterio: {check["agree"]}");
        Assert.Equal(new[] { 112, 122, 211, 311, 512 }, check["classes"]!.AsArray().Select(v => (int)v!));

        var properties = Item(sample)["properties"]!;
        var level3 = properties["deepsentinel:clc_shares"]!["level3"]!.AsObject();
        Assert.Equal(new[] { "112", "122", "211", "311", "512" }, level3.Select(p => p.Key));
        Assert.Equal(1.0, level3.Sum(p => (double)p.Value!), 4);
        var codes = ReadLabel(cog);
        Assert.Equal(codes.Count(c => c == 311) / 65536.0, (double)level3["311"]!, 5);
        Assert.Equal((double)level3["311"]! + (double)level3["211"]!, (double)properties["deepsentinel:clc_shares"]!["level1"]!["2"]! + (double)properties["deepsentinel:clc_shares"]!["level1"]!["3"]!, 5);
        Assert.Equal((double)level3["512"]!, (double)properties["deepsentinel:clc_shares"]!["level2"]!["51"]!, 6);
        Assert.Contains(LabelRunner.LabelExtension, Item(sample)["stac_extensions"]!.AsArray().Select(e => (string)e!));
        Assert.Equal(3, properties["label:overviews"]!.AsArray().Count);
        Assert.Equal("./clc.tif", (string)Item(sample)["assets"]!["clc"]!["href"]!);

        // The quicklook uses the legend colours: the forest pixels are 311's (128, 255, 0).
        var colours = Independent.Python(
            "import sys, rasterio, numpy as np\nwith rasterio.open(sys.argv[1]) as p, rasterio.open(sys.argv[2]) as l:\n    rgb = p.read(); c = l.read(1)\n    m = c == 311\n    print(int(rgb[0][m].min()), int(rgb[1][m].min()), int(rgb[2][m].max()))",
            sample.AssetLocation("clc_preview"),
            cog);
        Assert.Equal("128 255 0", colours.Trim());

        // Get-PatchSample finds the label through the Item.
        var reread = await Collect(new PatchSampleReader().ReadAsync(corpus, [sample.Id], null, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(PatchCorpus.SampleKey(sample.Id, "clc.tif"), Assert.Single(reread).Labels["clc"]);
    }

    [Fact]
    public async Task Polygons_in_EPSG_3035_and_4326_land_where_rasterio_rasterises_them_and_match_the_raster()
    {
        var (folder, samples, _) = await ClcFixtureAsync();
        var sample = samples[0];

        var reporter = new RecordingReporter();
        await Corine([sample], Path.Combine(folder, "clc_codes.tif"), reporter);
        var fromRaster = ReadLabel(sample.AssetLocation("clc"));
        await Corine([sample], Path.Combine(folder, "clc_index.tif"), reporter, force: true);
        var fromIndex = ReadLabel(sample.AssetLocation("clc"));
        Assert.Equal(fromRaster, fromIndex);

        await Corine([sample], Path.Combine(folder, "clc_3035.gpkg"), reporter, force: true);
        var fromVector = ReadLabel(sample.AssetLocation("clc"));
        var agree3035 = (double)Compare(sample.AssetLocation("clc"), Path.Combine(folder, "clc_3035.gpkg"))["agree"]!;
        await Corine([sample], Path.Combine(folder, "clc_4326.gpkg"), reporter, force: true);
        var agree4326 = (double)Compare(sample.AssetLocation("clc"), Path.Combine(folder, "clc_4326.gpkg"))["agree"]!;
        var fromVector4326 = ReadLabel(sample.AssetLocation("clc"));
        Assert.Empty(reporter.Errors);

        // Both rules take the class under the pixel centre: only pixels whose centre lies on a
        // cell edge (to rounding) may differ.
        Assert.True(agree3035 > 0.999, $"EPSG:3035 polygons agree with rasterio on {agree3035:P3}");
        Assert.True(agree4326 > 0.999, $"EPSG:4326 polygons agree with rasterio on {agree4326:P3}");
        var same = fromRaster.Zip(fromVector).Count(p => p.First == p.Second) / (double)fromRaster.Length;
        Assert.True(same > 0.999, $"raster and vector CLC agree on {same:P3}");
        var same4326 = fromVector.Zip(fromVector4326).Count(p => p.First == p.Second) / (double)fromRaster.Length;
        Assert.True(same4326 > 0.999, $"EPSG:3035 and EPSG:4326 polygons agree on {same4326:P3}");
        Assert.Contains((ushort)512, fromVector);
    }

    [Fact]
    public async Task Rerun_skips_labelled_samples_unless_forced_and_WhatIf_writes_nothing()
    {
        var (folder, samples, _) = await ClcFixtureAsync();
        var source = Path.Combine(folder, "clc_codes.tif");

        var planned = new List<string>();
        var none = await Corine(samples, source, new RecordingReporter(), shouldProcess: (target, _) => { planned.Add(target); return Task.FromResult(false); });
        Assert.Empty(none);
        Assert.Equal(samples.Select(s => s.Id).Order(), planned.Order());
        Assert.All(samples, s => Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(s.AssetLocation(PatchSample.AssetKeys.Item))!, "clc.tif"))));

        await Corine(samples, source, new RecordingReporter());
        var written = File.GetLastWriteTimeUtc(samples[0].AssetLocation("clc"));
        var reporter = new RecordingReporter();
        var again = await Corine(samples, source, reporter, shouldProcess: (_, _) => throw new InvalidOperationException("a labelled sample must not be asked for"));
        Assert.Equal(2, again.Count);
        Assert.Equal(2, reporter.VerboseMessages.Count(m => m.Contains("already has", StringComparison.Ordinal)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(samples[0].AssetLocation("clc")));

        var forced = await Corine(samples, source, new RecordingReporter(), force: true);
        Assert.Equal(2, forced.Count);
        Assert.True(File.GetLastWriteTimeUtc(samples[0].AssetLocation("clc")) >= written);
    }

    [Fact]
    public async Task A_consumer_that_stops_early_leaves_no_worker_behind_and_a_rerun_finishes()
    {
        var (folder, samples, _) = await ClcFixtureAsync();
        var source = Path.Combine(folder, "clc_codes.tif");
        await foreach (var _ in new LabelService().AddCorineAsync(LabelService.FromList(samples), new CorineLabelRequest { Source = source }, new LabelRunOptions { ThrottleLimit = 2 }, new RecordingReporter(), null, CancellationToken.None))
        {
            break;
        }

        var reporter = new RecordingReporter();
        Assert.Equal(2, (await Corine(samples, source, reporter)).Count);
        Assert.Empty(reporter.Errors);
        Assert.All(samples, s => Assert.True(File.Exists(s.AssetLocation("clc"))));
    }

    [Fact]
    public async Task Partly_covered_samples_get_nodata_there_and_uncovered_ones_a_warning_and_no_label()
    {
        var (folder, samples, _) = await ClcFixtureAsync();
        var sample = samples[0];

        var reporter = new RecordingReporter();
        var outside = await Corine([sample], Path.Combine(folder, "clc_outside.tif"), reporter);
        Assert.Empty(outside);
        Assert.Contains(reporter.Warnings, w => w.Contains(sample.Id, StringComparison.Ordinal) && w.Contains("outside", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(sample.AssetLocation(PatchSample.AssetKeys.Item))!, "clc.tif")));
        Assert.Null(Item(sample)["assets"]!["clc"]);

        var partial = await Corine([sample], Path.Combine(folder, "clc_partial.tif"), reporter);
        Assert.Single(partial);
        var codes = ReadLabel(sample.AssetLocation("clc"));
        var nodata = (double)Item(sample)["properties"]!["deepsentinel:clc_nodata_fraction"]!;
        Assert.InRange(nodata, 0.3, 0.7);
        Assert.Equal(codes.Count(c => c == 0) / (double)codes.Length, nodata, 5);
        // The uncovered part is the east side: the last column is nodata, the first is labelled.
        Assert.Equal(0, codes[255]);
        Assert.NotEqual(0, codes[0]);
        Assert.Empty(reporter.Errors);
    }

    [Fact]
    public async Task Bad_CLC_sources_fail_with_stable_ids_and_a_bad_code_fails_only_its_sample()
    {
        var (folder, samples, _) = await ClcFixtureAsync();

        var missing = await Assert.ThrowsAsync<DeepSentinelException>(() => Corine(samples, Path.Combine(folder, "nope.tif"), new RecordingReporter()));
        Assert.Equal(ErrorIds.LabelSourceUnreadable, missing.ErrorId);
        var noCrs = await Assert.ThrowsAsync<DeepSentinelException>(() => Corine(samples, Path.Combine(folder, "clc_nocrs.tif"), new RecordingReporter()));
        Assert.Equal(ErrorIds.LabelSourceNoCrs, noCrs.ErrorId);
        var noAttribute = await Assert.ThrowsAsync<DeepSentinelException>(() => Corine(samples, Path.Combine(folder, "clc_class.gpkg"), new RecordingReporter()));
        Assert.Equal(ErrorIds.LabelAttributeMissing, noAttribute.ErrorId);
        Assert.Contains("CODE_18", noAttribute.Message, StringComparison.Ordinal);
        Assert.All(samples, s => Assert.Null(Item(s)["assets"]!["clc"]));

        // The other attribute name works when given.
        Assert.Single(await Corine([samples[0]], Path.Combine(folder, "clc_class.gpkg"), new RecordingReporter(), attribute: "CLASS"));

        var reporter = new RecordingReporter();
        var labelled = await Corine(samples, Path.Combine(folder, "clc_badcode.tif"), reporter, force: true);
        var error = Assert.Single(reporter.Errors);
        Assert.Equal(ErrorIds.ClcCodeUnknown, error.ErrorId);
        Assert.Equal(samples[1].Id, error.Target);
        Assert.Contains("700", error.Message, StringComparison.Ordinal);
        Assert.Equal(samples[0].Id, Assert.Single(labelled).Id);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(samples[1].AssetLocation(PatchSample.AssetKeys.Item))!, "clc.tif")));
        Assert.Null(Item(samples[1])["assets"]!["clc"]);
    }

    /// <summary>An .osm file: a primary road along a pixel edge, a residential road through pixel centres, a 40 m building.</summary>
    private static string WriteOsm(string folder, PatchSample sample)
    {
        var x0 = sample.GeoTransform[0];
        var y0 = sample.GeoTransform[3];
        using var toWgs84 = new CoordinateTransform(sample.Epsg, 4326);
        var nodes = new List<(double X, double Y)>
        {
            (x0 - 200, y0 - 1280), (x0 + 2760, y0 - 1280),            // 1, 2: primary, east-west on a pixel edge
            (x0 + 805, y0 - 100), (x0 + 805, y0 - 1000),              // 3, 4: residential, north-south through pixel centres
            (x0 + 302, y0 - 302), (x0 + 342, y0 - 302), (x0 + 342, y0 - 342), (x0 + 302, y0 - 342), // 5..8: building
        };
        var xml = new StringBuilder("<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n");
        for (var i = 0; i < nodes.Count; i++)
        {
            var (lon, lat) = toWgs84.Transform(nodes[i].X, nodes[i].Y);
            xml.Append(CultureInfo.InvariantCulture, $"<node id='{i + 1}' version='1' lat='{lat:R}' lon='{lon:R}'/>\n");
        }

        xml.Append("<way id='101' version='1'><nd ref='1'/><nd ref='2'/><tag k='highway' v='primary'/></way>\n");
        xml.Append("<way id='102' version='1'><nd ref='3'/><nd ref='4'/><tag k='highway' v='residential'/></way>\n");
        xml.Append("<way id='103' version='1'><nd ref='5'/><nd ref='6'/><nd ref='7'/><nd ref='8'/><nd ref='5'/><tag k='building' v='yes'/></way>\n");
        xml.Append("</osm>\n");
        var path = Path.Combine(folder, "test.osm");
        File.WriteAllText(path, xml.ToString());
        return path;
    }

    private static byte[] ReadBand(string path, int band)
    {
        using var dataset = GdalDataset.Open(path);
        var values = new byte[dataset.Width * dataset.Height];
        dataset.Read<byte>(band, 0, 0, dataset.Width, dataset.Height, values, dataset.Width, dataset.Height);
        return values;
    }

    [Fact]
    public async Task An_osm_file_rasterises_buildings_and_roads_with_their_widths()
    {
        var (_, samples) = await CorpusAsync();
        var sample = samples[0];
        var folder = NewFolder("ds-osm-");
        var osm = WriteOsm(folder, sample);
        var reporter = new RecordingReporter();

        var labelled = await Osm([sample], osm, reporter);

        Assert.Empty(reporter.Errors);
        Assert.Single(labelled);
        var mask = sample.AssetLocation("osm");
        var info = Independent.GdalInfo(mask);
        Assert.Equal(OsmClassMap.Default.Classes, info["bands"]!.AsArray().Select(b => (string)b!["description"]!));
        var building = ReadBand(mask, 1);
        var road = ReadBand(mask, 2);
        // The building is 40 m square from 302 to 342 m: the pixel centres at 305..335 m, 4 x 4.
        Assert.Equal(16, building.Count(b => b == 1));
        Assert.All(new[] { 30, 31, 32, 33 }, r => Assert.All(new[] { 30, 31, 32, 33 }, c => Assert.Equal(1, building[(r * 256) + c])));
        // The primary road (15 m) lies on the edge between rows 127 and 128: the centres 5 m away
        // are inside its 7.5 m half-width, the ones 15 m away are not: 2 rows.
        int[] Rows(int column) => Enumerable.Range(0, 256).Where(r => road[(r * 256) + column] == 1).ToArray();
        Assert.Equal(new[] { 127, 128 }, Rows(20));
        Assert.Equal(new[] { 127, 128 }, Rows(200));
        // The residential road (7 m) runs through the centres of column 80: one column wide.
        int[] Columns(int row) => Enumerable.Range(0, 256).Where(c => road[(row * 256) + c] == 1).ToArray();
        Assert.Equal(new[] { 80 }, Columns(50));
        var shares = Item(sample)["properties"]!["deepsentinel:osm_shares"]!;
        Assert.Equal(16 / 65536.0, (double)shares["building"]!, 6);
        Assert.Equal(road.Count(r => r == 1) / 65536.0, (double)shares["road"]!, 6);

        // The same features as GeoJSON with tag properties give the same masks.
        var geojson = Path.Combine(folder, "test.geojson");
        var osmLayers = Path.Combine(folder, "test.gpkg");
        Independent.Python(
            "import sys\nfrom osgeo import gdal\ngdal.UseExceptions()\ngdal.VectorTranslate(sys.argv[2], sys.argv[1], format='GeoJSON', layers=['lines'])\ngdal.VectorTranslate(sys.argv[3], sys.argv[1], format='GeoJSON', layers=['multipolygons'])\n",
            osm,
            geojson,
            osmLayers + ".polygons.geojson");
        var merged = JsonNode.Parse(File.ReadAllText(geojson))!.AsObject();
        foreach (var feature in JsonNode.Parse(File.ReadAllText(osmLayers + ".polygons.geojson"))!["features"]!.AsArray())
        {
            merged["features"]!.AsArray().Add(feature!.DeepClone());
        }

        File.WriteAllText(geojson, merged.ToJsonString());
        await Osm([sample], geojson, reporter, force: true);
        Assert.Empty(reporter.Errors);
        Assert.Equal(building, ReadBand(mask, 1));
        Assert.Equal(road, ReadBand(mask, 2));

        // A user mapping: 40 m roads cover four rows around the edge.
        var map = OsmClassMap.Parse("""[{"class": "wide_road", "key": "highway", "values": ["primary"], "geometry": "Line", "width": 40}]""");
        await Osm([sample], osm, reporter, map, force: true);
        Assert.Empty(reporter.Errors);
        var wide = ReadBand(mask, 1);
        Assert.Equal(new[] { 126, 127, 128, 129 }, Enumerable.Range(0, 256).Where(r => wide[(r * 256) + 100] == 1));
        Assert.Equal("wide_road", (string)Independent.GdalInfo(mask)["bands"]![0]!["description"]!);
    }

    [Fact]
    public async Task A_corrupt_pbf_and_a_bad_class_map_fail_with_stable_ids_and_write_nothing()
    {
        var (_, samples) = await CorpusAsync();
        var folder = NewFolder("ds-osm-bad-");
        var pbf = Path.Combine(folder, "corrupt.osm.pbf");
        var junk = new byte[4096];
        new Random(3).NextBytes(junk);
        File.WriteAllBytes(pbf, [0, 0, 0, 13, 10, 9, .. "OSMHeader"u8, .. junk]);
        var reporter = new RecordingReporter();

        var failure = await Record.ExceptionAsync(() => Osm(samples, pbf, reporter));
        var ids = reporter.Errors.Select(e => e.ErrorId).Append((failure as DeepSentinelException)?.ErrorId).Where(i => i is not null).Distinct().ToList();
        Assert.Equal([ErrorIds.LabelSourceUnreadable], ids);
        Assert.All(samples, s => Assert.Null(Item(s)["assets"]!["osm"]));
        Assert.All(samples, s => Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(s.AssetLocation(PatchSample.AssetKeys.Item))!, "osm.tif"))));

        var missing = await Assert.ThrowsAsync<DeepSentinelException>(() => Osm(samples, Path.Combine(folder, "none.osm.pbf"), new RecordingReporter()));
        Assert.Equal(ErrorIds.LabelSourceUnreadable, missing.ErrorId);
        var map = Assert.Throws<DeepSentinelException>(() => OsmClassMap.Parse("""[{"class": "x", "key": "highway", "geometry": "Point"}]"""));
        Assert.Equal(ErrorIds.LabelClassMapInvalid, map.ErrorId);
    }

    [Fact]
    public void The_legend_has_the_44_CLC_classes_with_parents()
    {
        Assert.Equal(44, ClcLegend.Classes.Count);
        Assert.Equal(44, ClcLegend.Classes.Select(c => c.Code).Distinct().Count());
        Assert.All(ClcLegend.Classes, c => Assert.True(ClcLegend.Level2Names.ContainsKey(c.Level2) && ClcLegend.Level1Names.ContainsKey(c.Level1), c.Code.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(15, ClcLegend.Classes.Select(c => c.Level2).Distinct().Count());
        Assert.Equal(311, ClcLegend.CodeOf(23));
        Assert.Equal(0, ClcLegend.CodeOf(48));
        Assert.Equal(-1, ClcLegend.CodeOf(700));
        Assert.Equal((byte)128, ClcLegend.Find(311)!.Red);
    }
}
