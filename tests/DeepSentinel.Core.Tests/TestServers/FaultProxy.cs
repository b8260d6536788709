using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>What the proxy does with one request.</summary>
public enum Fault
{
    /// <summary>Pass it to the server and the answer back.</summary>
    None,
    /// <summary>Answer 503 Service Unavailable without involving the server.</summary>
    ServiceUnavailable,
    /// <summary>Send the server half of the body, then drop both connections (a dropped connection mid-upload).</summary>
    DropMidBody,
    /// <summary>Pass the request to the server, then drop the connection instead of answering (the write happened; its answer is lost).</summary>
    DropResponse,
    /// <summary>Pass the request to the server and the answer's head and half its body back, then drop the connection (a download cut mid-body).</summary>
    DropResponseMidBody,
    /// <summary>Pass the request to the server and the answer back with one byte of its body changed (corruption on the way).</summary>
    CorruptResponseBody,
}

/// <summary>A request as the proxy saw it.</summary>
public sealed record ProxiedRequest(int Index, string Method, string PathAndQuery, long ContentLength);

/// <summary>
/// A loopback HTTP/1.1 proxy in front of a real server (Azurite, the GCS emulator) that injects
/// faults per request. It reads each request's head, asks <see cref="Decide"/> what to do, and
/// forces one request per connection (Connection: close) so a fault hits exactly one request.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _count;

    public FaultProxy(Uri target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseUri { get; }

    /// <summary>Chooses the fault for each request; default: none.</summary>
    public Func<ProxiedRequest, Fault> Decide { get; set; } = _ => Fault.None;

    /// <summary>Every request and the fault applied to it.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(ProxiedRequest Request, Fault Fault)> Log { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var token = timeout.Token;
        try
        {
            var clientStream = client.GetStream();
            var (head, rest) = await ReadHeadAsync(clientStream, token);
            if (head is null)
            {
                return;
            }

            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            var length = ContentLength(lines);
            var request = new ProxiedRequest(Interlocked.Increment(ref _count), requestLine[0], requestLine[1], length);
            var fault = Decide(request);
            Log.Enqueue((request, fault));

            if (fault == Fault.ServiceUnavailable)
            {
                await DrainAsync(clientStream, rest, length, token);
                var answer = Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                await clientStream.WriteAsync(answer, token);
                return;
            }

            using var upstream = new TcpClient();
            await upstream.ConnectAsync(_target.Host, _target.Port, token);
            var server = upstream.GetStream();
            var newHead = string.Join("\r\n", lines.Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && !l.StartsWith("Keep-Alive:", StringComparison.OrdinalIgnoreCase)).Append("Connection: close")) + "\r\n\r\n";
            await server.WriteAsync(Encoding.ASCII.GetBytes(newHead), token);
            var toSend = fault == Fault.DropMidBody ? length / 2 : length;
            await CopyBodyAsync(clientStream, server, rest, toSend, token);
            if (fault == Fault.DropMidBody)
            {
                // Reset both sides: the server sees a truncated request, the client a dropped connection.
                upstream.Client.LingerState = new LingerOption(true, 0);
                client.Client.LingerState = new LingerOption(true, 0);
                return;
            }

            if (fault == Fault.DropResponse)
            {
                await server.CopyToAsync(Stream.Null, token);
                client.Client.LingerState = new LingerOption(true, 0);
                return;
            }

            if (fault == Fault.CorruptResponseBody)
            {
                var (responseHead, responseRest) = await ReadHeadAsync(server, token);
                if (responseHead is null)
                {
                    return;
                }

                using var body = new MemoryStream();
                body.Write(responseRest);
                await server.CopyToAsync(body, token);
                var bytes = body.ToArray();
                if (bytes.Length > 0)
                {
                    bytes[bytes.Length / 2] ^= 0x5A;
                }

                await clientStream.WriteAsync(Encoding.ASCII.GetBytes(responseHead + "\r\n\r\n"), token);
                await clientStream.WriteAsync(bytes, token);
                return;
            }

            if (fault == Fault.DropResponseMidBody)
            {
                var (responseHead, responseRest) = await ReadHeadAsync(server, token);
                if (responseHead is null)
                {
                    return;
                }

                var bodyLength = ContentLength(responseHead.Split("\r\n"));
                await clientStream.WriteAsync(Encoding.ASCII.GetBytes(responseHead + "\r\n\r\n"), token);
                await CopyBodyAsync(server, clientStream, responseRest, bodyLength / 2, token);
                await clientStream.FlushAsync(token);
                client.Client.LingerState = new LingerOption(true, 0);
                return;
            }

            await server.CopyToAsync(clientStream, token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, token);
            if (n == 0)
            {
                return (null, []);
            }

            buffer.AddRange(chunk.AsSpan(0, n).ToArray());
            var all = buffer.ToArray();
            var end = IndexOf(all, "\r\n\r\n"u8);
            if (end >= 0)
            {
                return (Encoding.ASCII.GetString(all, 0, end), all[(end + 4)..]);
            }
        }
    }

    private static long ContentLength(IEnumerable<string> headLines) =>
        headLines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => long.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> pattern) => data.AsSpan().IndexOf(pattern);

    private static async Task DrainAsync(NetworkStream client, byte[] rest, long length, CancellationToken token)
    {
        var remaining = length - rest.Length;
        var buffer = new byte[65536];
        while (remaining > 0)
        {
            var n = await client.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), token);
            if (n == 0)
            {
                return;
            }

            remaining -= n;
        }
    }

    private static async Task CopyBodyAsync(NetworkStream from, NetworkStream to, byte[] rest, long count, CancellationToken token)
    {
        var first = (int)Math.Min(rest.Length, count);
        await to.WriteAsync(rest.AsMemory(0, first), token);
        var remaining = count - first;
        var buffer = new byte[65536];
        while (remaining > 0)
        {
            var n = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), token);
            if (n == 0)
            {
                return;
            }

            await to.WriteAsync(buffer.AsMemory(0, n), token);
            remaining -= n;
        }
    }
}
