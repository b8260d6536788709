using DeepSentinel.Core.Demo;
using DeepSentinel.Core.Diagnostics;

namespace DeepSentinel.Core.Tests.Raster;

/// <summary>A small synthetic S1+S2 catalog of COGs, generated once per test run.</summary>
public sealed class DemoCatalogFixture : IDisposable
{
    public DemoCatalogFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "ds-demo-" + Guid.NewGuid().ToString("N")[..8]);
        Options = new DemoCatalogOptions { Destination = Root, TileSize = 600, Tiles = 2, S2ScenesPerTile = 3, S1Scenes = 3 };
        Catalog = new DemoCatalogGenerator().Generate(Options, NullReporter.Instance, CancellationToken.None);
    }

    public string Root { get; }

    public DemoCatalogOptions Options { get; }

    public DemoCatalog Catalog { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class DemoCatalogCollection : ICollectionFixture<DemoCatalogFixture>
{
    public const string Name = "Demo catalog";
}
