using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Hub.Api.EventStream;

/// <summary>
/// <c>GET /api/v1/events/stream</c>: the working account's webphone events as server-sent events, each
/// with its store position as the SSE id. A client resumes after <c>Last-Event-ID</c> (or
/// <c>?last_event_id=</c>); without one it gets only new events, or everything kept with
/// <c>?from=beginning</c>. The stream reads the shared store, so a client reconnecting to another Api
/// node resumes exactly where it left off. Scope <c>webhooks</c>: it is the push channel for CRM backends.
/// A credential holds at most <see cref="LimitSettings.StreamsPerCredential"/> streams on a node (<c>429
/// too_many_streams</c> past it), and each stream looks its credential up again every
/// <see cref="LimitSettings.StreamCredentialCheck"/>: it ends once the key is revoked or the session is over.
/// </summary>
internal static class EventStreamEndpoints
{
    private const int BatchSize = 500;

    /// <summary>How often a caught-up stream looks for new rows. (A bus-driven wake-up may replace this.)</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>A comment line this often keeps proxies and load balancers from closing an idle stream.</summary>
    private static readonly TimeSpan KeepaliveInterval = TimeSpan.FromSeconds(15);

    public static void MapEventStreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events/stream", StreamAsync).WithTags("Events").RequireAuthorization(HubPolicies.Scope(Scopes.Webhooks));
    }

    private static async Task StreamAsync(
        HttpContext http, WorkingAccount account, HubDatabase database, TimeProvider clock, StreamSlots slots, IOptions<HubSettings> options,
        [FromQuery(Name = "last_event_id")] string? lastEventIdQuery = null, string? from = null, string? types = null)
    {
        var cancellationToken = http.RequestAborted;
        var lastEventId = http.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? lastEventIdQuery;
        long? after = null;
        if (!string.IsNullOrWhiteSpace(lastEventId))
        {
            after = long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw HubProblemException.BadRequest("invalid_query", "Last-Event-ID must be an event id of this stream.");
        }

        if (from is not (null or "beginning" or "now"))
        {
            throw HubProblemException.BadRequest("invalid_query", "from must be beginning or now.");
        }

        var typeFilter = types?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (typeFilter is { Length: 0 })
        {
            typeFilter = null;
        }

        var limits = options.Value.Limits;
        var credential = StreamCredential.Of(http.User);
        using var slot = slots.TryEnter(credential.Key, limits.StreamsPerCredential)
            ?? throw new HubProblemException(StatusCodes.Status429TooManyRequests, "too_many_streams",
                $"This credential already holds {limits.StreamsPerCredential} open event streams on this node; close one first.");

        var position = after ?? (from == "beginning" ? 0 : await CurrentPositionAsync(database, account.TenantId, cancellationToken));

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var sql = new StringBuilder("SELECT seq, event_id, type, occurred_at, data FROM event_stream WHERE tenant_id = @tenantId AND seq > @position");
        if (typeFilter is not null)
        {
            sql.Append($" AND type {database.InList("typeFilter")}");
        }

        sql.Append(" ORDER BY seq LIMIT @BatchSize");
        var query = sql.ToString();

        try
        {
            await http.Response.StartAsync(cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            var lastWrite = clock.GetTimestamp();
            var lastCheck = clock.GetTimestamp();
            while (!cancellationToken.IsCancellationRequested)
            {
                if (clock.GetElapsedTime(lastCheck) >= limits.StreamCredentialCheck)
                {
                    if (!await credential.HoldsAsync(database, clock, cancellationToken))
                    {
                        // A comment, so a client that reads events only is not handed a fake one; its reconnect gets 401.
                        await http.Response.Body.WriteAsync(": credential_revoked\n\n"u8.ToArray(), cancellationToken);
                        await http.Response.Body.FlushAsync(cancellationToken);
                        return;
                    }

                    lastCheck = clock.GetTimestamp();
                }

                List<StreamRow> rows;
                await using (var connection = await database.OpenAsync(cancellationToken))
                {
                    rows = (await connection.QueryAsync<StreamRow>(new CommandDefinition(query,
                        new { tenantId = account.TenantId, position, typeFilter, BatchSize }, cancellationToken: cancellationToken))).ToList();
                }

                if (rows.Count > 0)
                {
                    foreach (var row in rows)
                    {
                        await http.Response.Body.WriteAsync(Format(row, account.TenantId), cancellationToken);
                        position = row.Seq;
                    }

                    await http.Response.Body.FlushAsync(cancellationToken);
                    lastWrite = clock.GetTimestamp();
                    if (rows.Count == BatchSize)
                    {
                        continue;
                    }
                }
                else if (clock.GetElapsedTime(lastWrite) >= KeepaliveInterval)
                {
                    await http.Response.Body.WriteAsync(": keepalive\n\n"u8.ToArray(), cancellationToken);
                    await http.Response.Body.FlushAsync(cancellationToken);
                    lastWrite = clock.GetTimestamp();
                }

                await Task.Delay(PollInterval, clock, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: that is how a stream ends.
        }
    }

    private static async Task<long> CurrentPositionAsync(HubDatabase database, string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(seq) FROM event_stream WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken: cancellationToken)) ?? 0;
    }

    /// <summary><c>id: position</c>, <c>event: type</c>, <c>data: {id, type, tenant_id, occurred_at, data}</c> on one line.</summary>
    private static ReadOnlyMemory<byte> Format(StreamRow row, string tenantId)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id: {row.Seq}\nevent: {row.Type}\ndata: ")));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", row.EventId);
            writer.WriteString("type", row.Type);
            writer.WriteString("tenant_id", tenantId);
            writer.WriteString("occurred_at", Clock.FromMs(row.OccurredAt));
            writer.WritePropertyName("data");
            writer.WriteRawValue(row.Data, skipInputValidation: true);
            writer.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
        return buffer.WrittenMemory;
    }

    private sealed record StreamRow
    {
        public long Seq { get; init; }
        public string EventId { get; init; } = "";
        public string Type { get; init; } = "";
        public long OccurredAt { get; init; }
        public string Data { get; init; } = "{}";
    }
}
