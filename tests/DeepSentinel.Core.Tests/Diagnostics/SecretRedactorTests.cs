using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Tests.Diagnostics;

public sealed class SecretRedactorTests
{
    [Theory]
    [InlineData("https://a.blob.core.windows.net/c/b.tif?st=2019&se=2020&sp=rl&sv=2021&sr=c&sig=abc%3D", "https://a.blob.core.windows.net/c/b.tif?st=REDACTED&se=REDACTED&sp=REDACTED&sv=REDACTED&sr=REDACTED&sig=REDACTED")]
    [InlineData("GET https://x/y?page=2&token=next:abc", "GET https://x/y?page=2&token=REDACTED")]
    [InlineData("Authorization: Bearer eyJhbGciOi.abc.def", "Authorization: Bearer REDACTED")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=core.windows.net")]
    [InlineData("Ocp-Apim-Subscription-Key: abc123", "Ocp-Apim-Subscription-Key: REDACTED")]
    [InlineData("nothing secret here", "nothing secret here")]
    public void Redacts_secrets_and_keeps_the_rest(string input, string expected) =>
        Assert.Equal(expected, SecretRedactor.Redact(input));

    [Fact]
    public void A_signed_URI_shows_only_a_redacted_form()
    {
        var signed = new SignedUri(new Uri("https://a.blob.core.windows.net/c/b.tif"), "sv=2021&sig=SECRET", DateTimeOffset.UnixEpoch);

        Assert.DoesNotContain("SECRET", signed.ToString(), StringComparison.Ordinal);
        Assert.Equal("https://a.blob.core.windows.net/c/b.tif?sv=2021&sig=SECRET", signed.Reveal());
    }
}
