using System.Net;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Core.Stac;

/// <summary>Fetches STAC JSON documents and turns HTTP and parse failures into clear errors.</summary>
internal static class StacJson
{
    private const int MaxErrorBody = 300;

    /// <summary>Sends a request and parses the JSON answer; errors carry the redacted URL.</summary>
    public static async Task<JsonDocument> SendAsync(ResilientHttpClient http, Func<HttpRequestMessage> createRequest, string what, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(createRequest, cancellationToken).ConfigureAwait(false);
        var url = SecretRedactor.Redact(response.RequestMessage?.RequestUri);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw StatusError(response.StatusCode, url, what, bytes);
        }

        return Parse(bytes, url, what);
    }

    /// <summary>Parses JSON bytes, or throws <see cref="ErrorIds.StacResponseMalformed"/>.</summary>
    public static JsonDocument Parse(byte[] bytes, string source, string what)
    {
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            var looksHtml = bytes.Length > 0 && System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 512)).TrimStart().StartsWith('<');
            if (looksHtml)
            {
                throw new DeepSentinelException(ErrorIds.NotAStacEndpoint, ErrorKind.ProtocolError, $"{source} answered with HTML, not STAC JSON, for {what}. Check that the URL is a STAC API landing page or catalog.", source);
            }

            // A local file is the user's to fix; a server's answer may be a passing fault.
            var local = !source.Contains("://", StringComparison.Ordinal);
            var what2 = what.StartsWith("the ", StringComparison.Ordinal) ? what[4..] : what;
            throw new DeepSentinelException(ErrorIds.StacResponseMalformed, ErrorKind.InvalidData, local
                ? $"The {what2} {source} is not valid JSON ({ex.Message}). Fix or replace the file."
                : $"The {what2} from {source} is not valid JSON ({ex.Message}). The server may be misbehaving; try again later.", source, ex);
        }
    }

    /// <summary>Maps an unsuccessful status to an error with the server's own explanation.</summary>
    public static DeepSentinelException StatusError(HttpStatusCode status, string url, string what, byte[] body)
    {
        var detail = ServerMessage(body);
        var code = (int)status;
        return status switch
        {
            HttpStatusCode.NotFound => new DeepSentinelException(ErrorIds.NotAStacEndpoint, ErrorKind.ObjectNotFound, $"{url} answered 404 Not Found for {what}. Check the URL.{detail}", url),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new DeepSentinelException(ErrorIds.StacRequestFailed, ErrorKind.PermissionDenied, $"{url} refused {what} with HTTP {code} ({status}). Check the subscription key or credentials.{detail}", url),
            _ => new DeepSentinelException(ErrorIds.StacRequestFailed, code is >= 400 and < 500 ? ErrorKind.InvalidArgument : ErrorKind.ProtocolError, $"{url} answered HTTP {code} ({status}) for {what}.{detail}", url),
        };
    }

    // The server's own explanation (STAC APIs return {"code": ..., "description": ...}), shortened and redacted.
    private static string ServerMessage(byte[] body)
    {
        if (body.Length == 0)
        {
            return string.Empty;
        }

        string text;
        try
        {
            using var doc = JsonDocument.Parse(body);
            text = StacItemReader.GetString(doc.RootElement, "description") ?? StacItemReader.GetString(doc.RootElement, "detail") ?? StacItemReader.GetString(doc.RootElement, "message") ?? doc.RootElement.GetRawText();
        }
        catch (JsonException)
        {
            text = System.Text.Encoding.UTF8.GetString(body);
        }

        text = SecretRedactor.Redact(text.Replace('\n', ' ').Replace('\r', ' ').Trim());
        if (text.Length > MaxErrorBody)
        {
            text = text[..MaxErrorBody] + "...";
        }

        return text.Length == 0 ? string.Empty : " The server said: " + text;
    }
}
