using System.Globalization;
using System.Text.Json.Nodes;

namespace Hub.Tests.EventStream;

/// <summary>One server-sent event: its id (the stream position), its event name and its data as JSON.</summary>
public sealed record SseEvent(long Id, string Event, JsonNode Data)
{
    public Guid EventId => Guid.Parse(Data["id"]!.GetValue<string>());
}

/// <summary>
/// A client of <c>GET /api/v1/events/stream</c>: opens the response as soon as its headers arrive and
/// parses events line by line. Disposing it disconnects.
/// </summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseStream> OpenAsync(HttpClient client, string query, long? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream" + query);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            Assert.Fail($"The stream answered {(int)response.StatusCode}: {body}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new SseStream(response, new StreamReader(stream));
    }

    /// <summary>The next event; comments (keepalives) are skipped.</summary>
    public async Task<SseEvent> ReadAsync(CancellationToken cancellationToken)
    {
        string? id = null, name = null, data = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken)
                       ?? throw new InvalidOperationException("The stream ended.");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseEvent(long.Parse(id!, CultureInfo.InvariantCulture), name ?? "message", JsonNode.Parse(data)!);
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "data": data = data is null ? value : data + "\n" + value; break;
            }
        }
    }

    public async Task<List<SseEvent>> ReadAsync(int count, CancellationToken cancellationToken)
    {
        var events = new List<SseEvent>();
        while (events.Count < count)
        {
            events.Add(await ReadAsync(cancellationToken));
        }

        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
