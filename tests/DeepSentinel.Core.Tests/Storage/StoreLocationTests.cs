using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Tests.Storage;

public sealed class StoreLocationTests
{
    [Theory]
    [InlineData("az://acct/corpus/v1/train", "acct", "corpus", "v1/train/", "https://acct.blob.core.windows.net/")]
    [InlineData("az://acct/corpus", "acct", "corpus", "", "https://acct.blob.core.windows.net/")]
    [InlineData("https://acct.blob.core.windows.net/corpus/v1/", "acct", "corpus", "v1/", "https://acct.blob.core.windows.net/")]
    [InlineData("https://acct.blob.core.chinacloudapi.cn/corpus/a", "acct", "corpus", "a/", "https://acct.blob.core.chinacloudapi.cn/")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/corpus/x/y", "devstoreaccount1", "corpus", "x/y/", "http://127.0.0.1:10000/devstoreaccount1/")]
    public void Azure_locations_parse_into_account_container_prefix_and_endpoint(string text, string account, string container, string prefix, string service)
    {
        var location = StoreLocation.Parse(text);

        Assert.Equal(StoreKind.AzureBlob, location.Kind);
        Assert.Equal(account, location.Account);
        Assert.Equal(container, location.Container);
        Assert.Equal(prefix, location.Prefix);
        Assert.Equal(service, location.ServiceUri!.AbsoluteUri);
        Assert.Null(location.SasToken);
    }

    [Fact]
    public void A_SAS_in_a_blob_URL_is_kept_for_signing_and_never_displayed()
    {
        var location = StoreLocation.Parse("https://acct.blob.core.windows.net/corpus/p?sv=2024-11-04&sp=racwl&sig=SECRETSIG%3D");

        Assert.Equal("sv=2024-11-04&sp=racwl&sig=SECRETSIG%3D", location.SasToken);
        Assert.DoesNotContain("SECRETSIG", location.DisplayName, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIG", location.ToString(), StringComparison.Ordinal);
        Assert.Equal("corpus", location.Container);
    }

    [Theory]
    [InlineData("gs://my-bucket/corpora/s2", "my-bucket", "corpora/s2/")]
    [InlineData("gs://my_bucket.example", "my_bucket.example", "")]
    public void Gcs_locations_parse_into_bucket_and_prefix(string text, string bucket, string prefix)
    {
        var location = StoreLocation.Parse(text);

        Assert.Equal(StoreKind.GoogleCloudStorage, location.Kind);
        Assert.Equal(bucket, location.Bucket);
        Assert.Equal(prefix, location.Prefix);
        Assert.Equal(prefix + "a/b.tif", location.ObjectName("a/b.tif"));
        Assert.Equal("a/b.tif", location.KeyOf(prefix + "a/b.tif"));
    }

    [Fact]
    public void Local_paths_and_file_URIs_resolve_against_the_base_directory()
    {
        var relative = StoreLocation.Parse("corpus/train", "/data");
        var absolute = StoreLocation.Parse("/mnt/corpus");
        var file = StoreLocation.Parse("file:///mnt/corpus");

        Assert.Equal(StoreKind.Local, relative.Kind);
        Assert.Equal("/data/corpus/train", relative.LocalPath);
        Assert.Equal("/mnt/corpus", absolute.LocalPath);
        Assert.Equal("/mnt/corpus", file.LocalPath);
    }

    [Theory]
    [InlineData("s3://bucket/x", "not supported")]
    [InlineData("az://acct", "needs an account and a container")]
    [InlineData("az://Acct/corpus", "not a valid storage account name")]
    [InlineData("az://acct/Corpus", "not a valid container name")]
    [InlineData("az://acct/corpus?sig=abc", "no query string")]
    [InlineData("gs://", "needs a bucket")]
    [InlineData("gs://UPPER/x", "not a valid bucket name")]
    [InlineData("gs://bucket/a/../b", "'.' or '..'")]
    [InlineData("https://example.org", "needs an account and a container")]
    [InlineData("  ", "empty")]
    public void Invalid_locations_fail_with_InvalidStoreLocation(string text, string why)
    {
        var error = Assert.Throws<DeepSentinelException>(() => StoreLocation.Parse(text));

        Assert.Equal(ErrorIds.InvalidStoreLocation, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=abc", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    public void Keys_are_validated_the_same_way_for_every_store(string key)
    {
        var location = StoreLocation.Parse("gs://bucket/p");

        Assert.Equal(ErrorIds.InvalidParameterValue, Assert.Throws<DeepSentinelException>(() => location.ObjectName(key)).ErrorId);
    }
}
