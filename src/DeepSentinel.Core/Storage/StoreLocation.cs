using System.Text.RegularExpressions;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Storage;

/// <summary>Where a store lives.</summary>
public enum StoreKind
{
    /// <summary>A folder on local disk.</summary>
    Local,
    /// <summary>An Azure Blob Storage container (and prefix).</summary>
    AzureBlob,
    /// <summary>A Google Cloud Storage bucket (and prefix).</summary>
    GoogleCloudStorage,
}

/// <summary>
/// A parsed storage location: a local path; <c>az://account/container/prefix</c>;
/// <c>https://account.blob.core.windows.net/container/prefix</c> (optionally with a SAS query);
/// a path-style blob endpoint such as Azurite's <c>http://127.0.0.1:10000/devstoreaccount1/container</c>;
/// or <c>gs://bucket/prefix</c>. A SAS carried in the text is kept apart from the display form,
/// which never shows it.
/// </summary>
public sealed partial class StoreLocation
{
    private StoreLocation(StoreKind kind, string display)
    {
        Kind = kind;
        DisplayName = display;
    }

    /// <summary>The kind of store.</summary>
    public StoreKind Kind { get; }

    /// <summary>The full path of the folder (local stores).</summary>
    public string? LocalPath { get; private init; }

    /// <summary>The storage account name (Azure).</summary>
    public string? Account { get; private init; }

    /// <summary>The container (Azure).</summary>
    public string? Container { get; private init; }

    /// <summary>The blob service endpoint, with a trailing '/' (Azure): host-style for Azure, path-style for emulators.</summary>
    public Uri? ServiceUri { get; private init; }

    /// <summary>The bucket (Google Cloud Storage).</summary>
    public string? Bucket { get; private init; }

    /// <summary>The key prefix inside the container or bucket: empty, or ending with '/'.</summary>
    public string Prefix { get; private init; } = string.Empty;

    /// <summary>The location as text, with any signature redacted.</summary>
    public string DisplayName { get; }

    /// <summary>A SAS query (without '?') that came with an https location. A secret: never display it.</summary>
    internal string? SasToken { get; private init; }

    /// <inheritdoc />
    public override string ToString() => DisplayName;

    /// <summary>The full object name of <paramref name="key"/> in the container or bucket.</summary>
    public string ObjectName(string key) => Prefix + ObjectKey.Validate(key);

    /// <summary>The key of a full object name under this location's prefix.</summary>
    public string KeyOf(string objectName) => objectName[Prefix.Length..];

    /// <summary>
    /// Parses <paramref name="text"/>. A relative local path is resolved against
    /// <paramref name="baseDirectory"/> (the caller's current location), or the process's.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidStoreLocation"/> when the text is not a location.</exception>
    public static StoreLocation Parse(string text, string? baseDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid(text ?? string.Empty, "it is empty");
        }

        text = text.Trim();
        var scheme = SchemeOf().Match(text);
        if (!scheme.Success || scheme.Groups["scheme"].Value.Length == 1)
        {
            // No scheme, or a Windows drive letter: a local path.
            var full = Path.GetFullPath(text, baseDirectory ?? Directory.GetCurrentDirectory());
            return new StoreLocation(StoreKind.Local, full) { LocalPath = full };
        }

        var uriScheme = scheme.Groups["scheme"].Value.ToLowerInvariant();
        return uriScheme switch
        {
            "file" => ParseFile(text),
            "az" => ParseAz(text),
            "gs" => ParseGs(text),
            "http" or "https" => ParseBlobUrl(text),
            _ => throw Invalid(text, $"the scheme '{uriScheme}://' is not supported (use a local path, az://, https://<account>.blob.core.windows.net/ or gs://)"),
        };
    }

    /// <summary>A location for a blob service endpoint given explicitly (a connection string's BlobEndpoint).</summary>
    internal StoreLocation WithServiceUri(Uri serviceUri)
    {
        var uri = new Uri(serviceUri.AbsoluteUri.TrimEnd('/') + "/");
        return new StoreLocation(Kind, SecretRedactor.Redact(uri.AbsoluteUri + Container + "/" + Prefix))
        {
            Account = Account,
            Container = Container,
            Prefix = Prefix,
            ServiceUri = uri,
            SasToken = SasToken,
        };
    }

    private static StoreLocation ParseFile(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !uri.IsFile)
        {
            throw Invalid(text, "it is not a valid file:// URI");
        }

        var full = Path.GetFullPath(uri.LocalPath);
        return new StoreLocation(StoreKind.Local, full) { LocalPath = full };
    }

    private static StoreLocation ParseAz(string text)
    {
        var parts = SplitAfterScheme(text, "az://");
        if (parts.Length < 2)
        {
            throw Invalid(text, "an az:// location needs an account and a container: az://<account>/<container>/<prefix>");
        }

        var account = ValidateAccount(text, parts[0]);
        var container = ValidateContainer(text, parts[1]);
        var prefix = JoinPrefix(text, parts.Skip(2));
        var service = new Uri($"https://{account}.blob.core.windows.net/");
        return new StoreLocation(StoreKind.AzureBlob, $"az://{account}/{container}/{prefix}")
        {
            Account = account,
            Container = container,
            Prefix = prefix,
            ServiceUri = service,
        };
    }

    private static StoreLocation ParseGs(string text)
    {
        var parts = SplitAfterScheme(text, "gs://");
        if (parts.Length < 1 || parts[0].Length == 0)
        {
            throw Invalid(text, "a gs:// location needs a bucket: gs://<bucket>/<prefix>");
        }

        var bucket = parts[0];
        if (!BucketName().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            throw Invalid(text, $"'{bucket}' is not a valid bucket name (3-63 lowercase letters, digits, '-', '_' and '.')");
        }

        var prefix = JoinPrefix(text, parts.Skip(1));
        return new StoreLocation(StoreKind.GoogleCloudStorage, $"gs://{bucket}/{prefix}") { Bucket = bucket, Prefix = prefix };
    }

    private static StoreLocation ParseBlobUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Invalid(text, "it is not a valid URL");
        }

        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var hostLabels = uri.Host.Split('.');
        string account;
        Uri service;
        int containerIndex;
        if (hostLabels.Length > 2 && hostLabels[1].Equals("blob", StringComparison.OrdinalIgnoreCase))
        {
            // Host-style (Azure public and sovereign clouds): https://<account>.blob.<suffix>/<container>/...
            account = ValidateAccount(text, hostLabels[0].ToLowerInvariant());
            service = new Uri($"{uri.Scheme}://{uri.Authority}/");
            containerIndex = 0;
        }
        else
        {
            // Path-style (Azurite, Azure Stack, private endpoints by IP): http://host:port/<account>/<container>/...
            if (segments.Length < 1)
            {
                throw Invalid(text, "a path-style blob URL needs an account and a container: http://host:port/<account>/<container>/<prefix>");
            }

            account = ValidateAccount(text, segments[0]);
            service = new Uri($"{uri.Scheme}://{uri.Authority}/{account}/");
            containerIndex = 1;
        }

        if (segments.Length <= containerIndex)
        {
            throw Invalid(text, "the URL names no container");
        }

        var container = ValidateContainer(text, segments[containerIndex]);
        var prefix = JoinPrefix(text, segments.Skip(containerIndex + 1));
        var sas = uri.Query.TrimStart('?');
        return new StoreLocation(StoreKind.AzureBlob, SecretRedactor.Redact($"{service.AbsoluteUri}{container}/{prefix}{uri.Query}"))
        {
            Account = account,
            Container = container,
            Prefix = prefix,
            ServiceUri = service,
            SasToken = sas.Length == 0 ? null : sas,
        };
    }

    private static string[] SplitAfterScheme(string text, string scheme)
    {
        var rest = text[scheme.Length..];
        var query = rest.IndexOfAny(['?', '#']);
        if (query >= 0)
        {
            throw Invalid(text, $"{scheme} locations take no query string (give credentials as parameters)");
        }

        return rest.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string JoinPrefix(string text, IEnumerable<string> parts)
    {
        var list = parts.ToList();
        if (list.Any(p => p is "." or ".."))
        {
            throw Invalid(text, "the prefix contains '.' or '..'");
        }

        return list.Count == 0 ? string.Empty : string.Join('/', list) + "/";
    }

    private static string ValidateAccount(string text, string account)
    {
        if (!AccountName().IsMatch(account))
        {
            throw Invalid(text, $"'{account}' is not a valid storage account name (3-24 lowercase letters and digits)");
        }

        return account;
    }

    private static string ValidateContainer(string text, string container)
    {
        if (!ContainerName().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
        {
            throw Invalid(text, $"'{container}' is not a valid container name (3-63 lowercase letters, digits and single hyphens)");
        }

        return container;
    }

    private static DeepSentinelException Invalid(string text, string why) =>
        DeepSentinelException.InvalidArgument(ErrorIds.InvalidStoreLocation, $"'{SecretRedactor.Redact(text)}' is not a storage location: {why}.", SecretRedactor.Redact(text));

    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*):(//|\\)?")]
    private static partial Regex SchemeOf();

    [GeneratedRegex(@"^[a-z0-9]{3,24}$")]
    private static partial Regex AccountName();

    [GeneratedRegex(@"^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$")]
    private static partial Regex ContainerName();

    [GeneratedRegex(@"^[a-z0-9](?:[a-z0-9_.\-]{1,220})[a-z0-9]$")]
    private static partial Regex BucketName();
}
