namespace DeepSentinel.Core.Stac;

/// <summary>
/// What a STAC API declares it can do (its conformsTo URIs), reduced to the capabilities the
/// search planner chooses between.
/// </summary>
public sealed class StacConformance
{
    /// <summary>Creates the capabilities from the conformance URIs.</summary>
    public StacConformance(IEnumerable<string> conformsTo)
    {
        ArgumentNullException.ThrowIfNull(conformsTo);
        Classes = conformsTo.ToArray();
        ItemSearch = Has("/item-search");
        Query = Has("item-search#query");
        Filter = Has("item-search#filter") || Has("ogcapi-features-3/1.0/conf/filter");
        Cql2Json = Has("cql2/1.0/conf/cql2-json");
        BasicCql2 = Has("cql2/1.0/conf/basic-cql2");
        ArrayFunctions = Has("cql2/1.0/conf/array-functions") || Has("cql2/1.0/conf/array-operators");
        Collections = Has("ogcapi-features-1/1.0/conf/core") || Has("/collections");
    }

    /// <summary>The conformance URIs as declared.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>STAC API Item Search.</summary>
    public bool ItemSearch { get; }

    /// <summary>The Query extension ("query": {"prop": {"lte": 10}}).</summary>
    public bool Query { get; }

    /// <summary>The Filter extension.</summary>
    public bool Filter { get; }

    /// <summary>CQL2 in its JSON encoding.</summary>
    public bool Cql2Json { get; }

    /// <summary>Basic CQL2 (comparison, and/or/not).</summary>
    public bool BasicCql2 { get; }

    /// <summary>CQL2 array functions (a_contains ...).</summary>
    public bool ArrayFunctions { get; }

    /// <summary>OGC API Features collections (/collections/{id}).</summary>
    public bool Collections { get; }

    /// <summary>True when CQL2-JSON filters can be sent.</summary>
    public bool CanFilterCql2Json => Filter && Cql2Json;

    private bool Has(string fragment) => Classes.Any(c => c.Contains(fragment, StringComparison.OrdinalIgnoreCase));
}
