using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Storage.Azure;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>
/// SAS authentication against a loopback blob endpoint that checks what arrives: the SAS query on
/// every request and no Authorization header. (Azurite accepts only SAS tokens it can verify with
/// its own key; this checks the client's side of the protocol and the redaction.)
/// </summary>
public sealed class AzureSasTests
{
    private const string Sas = "sv=2025-01-05&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=TOPSECRETSIGNATURE%3D";

    [Fact]
    public async Task A_SAS_from_the_location_signs_every_request_and_never_appears_in_reports_or_errors()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(async (context, request) =>
        {
            var ok = request.Query.Contains("sig=TOPSECRETSIGNATURE", StringComparison.Ordinal) && !request.Headers.ContainsKey("Authorization");
            // The first call is answered 503 (retried by Azure.Core), the blob PUT 201, the HEAD 403.
            context.Response.StatusCode = Interlocked.Increment(ref calls) switch
            {
                1 => 503,
                _ when !ok => 400,
                _ when request.Method == "HEAD" => 403,
                _ => 201,
            };
            BlobChecksums.Acknowledge(context);
            await context.Response.CompleteAsync();
        });
        var reporter = new RecordingReporter();
        var location = $"{server.BaseUri}acct/corpus/p?{Sas}";
        var store = (AzureBlobObjectStore)ObjectStores.Open(location, new StorageOptions { Environment = _ => null }, TestServices.Create(), reporter);

        await store.PutBytesAsync("a.tif", [1, 2, 3]);
        var error = await Assert.ThrowsAsync<Errors.DeepSentinelException>(() => store.GetInfoAsync("a.tif", CancellationToken.None));

        Assert.Equal(AzureAuthentication.SharedAccessSignature, store.Authentication);
        Assert.Equal(Errors.ErrorIds.StorageAccessDenied, error.ErrorId);
        Assert.Contains("HTTP 503", reporter.AllText, StringComparison.Ordinal);
        Assert.All(server.Requests, r => Assert.Contains("sig=TOPSECRETSIGNATURE", r.Query, StringComparison.Ordinal));
        foreach (var text in new[] { reporter.AllText, error.Message, store.DisplayName, store.Location.ToString() })
        {
            Assert.DoesNotContain("TOPSECRET", text, StringComparison.Ordinal);
        }
    }
}
