using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Calls;

public sealed record CallEventResponse(string EventId, string Type, long Seq, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt, JsonElement Payload);

/// <summary>A call with its event timeline (API.md: the call "adds events[]").</summary>
public sealed record CallDetailResponse : CallResponse
{
    public CallDetailResponse(CallResponse call, IReadOnlyList<CallEventResponse> events)
        : base(call) => Events = events;

    public IReadOnlyList<CallEventResponse> Events { get; }
}

public sealed record CallPage(IReadOnlyList<CallResponse> Items, string? NextCursor);

internal static class CallEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    public static void MapCallEndpoints(this IEndpointRouteBuilder app)
    {
        var calls = app.MapGroup("/api/v1/calls").WithTags("Calls").RequireAuthorization(HubPolicies.CallsReader);
        calls.MapGet("/", ListAsync);
        // Literal segments win over the {callId} parameter, so these two are never read as call ids.
        calls.MapGet("/stats", CallStats.GetAsync);
        calls.MapGet("/export.csv", CallExport.WriteAsync);
        calls.MapGet("/{callId}", GetAsync);
    }

    /// <summary>Newest first, paged by a keyset cursor (started_at, call_id) that stays stable while calls are inserted.</summary>
    private static async Task<CallPage> ListAsync(
        HttpRequest request, WorkingAccount account, HubDatabase database, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var take = DefaultLimit;
        if (CallFilter.Single(request.Query, "limit") is { } limit
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxLimit))
        {
            throw CallFilter.Invalid("limit", $"must be a whole number between 1 and {MaxLimit}.");
        }

        var filter = await CallFilter.ParseAsync(request.Query, account.TenantId, configs, cancellationToken);
        var (afterStarted, afterCallId) = KeysetCursor.Decode(CallFilter.Single(request.Query, "cursor"));
        var rows = await ReadPageAsync(database, filter, afterStarted, afterCallId, take + 1, cancellationToken);

        var page = rows.Take(take).Select(row => row.ToResponse(account.TenantId)).ToList();
        var next = rows.Count > take ? KeysetCursor.Encode(rows[take - 1].StartedAt, rows[take - 1].CallId) : null;
        return new CallPage(page, next);
    }

    /// <summary>Up to <paramref name="fetch"/> calls newest first, after the keyset position when one is given.</summary>
    internal static async Task<List<CallRow>> ReadPageAsync(
        HubDatabase database, CallFilter filter, long? afterStarted, string? afterCallId, int fetch, CancellationToken cancellationToken)
    {
        var sql = filter.AppendWhere(new StringBuilder(CallRow.SelectCalls));
        // The first bound is implied by the second; it is there because an index range can use it, an OR cannot
        // (without it every page or export chunk rescans all newer calls).
        if (afterCallId is not null)
        {
            sql.Append(" AND c.started_at <= @afterStarted AND (c.started_at < @afterStarted OR (c.started_at = @afterStarted AND c.call_id < @afterCallId))");
        }


        sql.Append(" ORDER BY c.started_at DESC, c.call_id DESC LIMIT @fetch");

        var parameters = new DynamicParameters(filter);
        parameters.AddDynamicParams(new { afterStarted, afterCallId, fetch });
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<CallRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).ToList();
    }

    private static async Task<CallDetailResponse> GetAsync(string callId, WorkingAccount account, HubDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var args = new { tenantId = account.TenantId, callId };
        var call = await connection.QueryFirstOrDefaultAsync<CallRow>(new CommandDefinition(
            CallRow.SelectCalls + " WHERE c.tenant_id = @tenantId AND c.call_id = @callId", args, cancellationToken: cancellationToken))
            ?? throw HubProblemException.NotFound("call_not_found", $"No call {callId} in this account.");
        var events = await connection.QueryAsync<EventRow>(new CommandDefinition(
            """
            SELECT event_id, type, seq, occurred_at, received_at, payload FROM call_events
            WHERE tenant_id = @tenantId AND call_id = @callId
            ORDER BY occurred_at, seq, event_id
            """, args, cancellationToken: cancellationToken));
        return new CallDetailResponse(call.ToResponse(account.TenantId), events.Select(e => new CallEventResponse(
            e.EventId, e.Type, e.Seq, Clock.FromMs(e.OccurredAt), Clock.FromMs(e.ReceivedAt), JsonDocument.Parse(e.Payload).RootElement.Clone())).ToList());
    }

    private sealed record EventRow
    {
        public string EventId { get; init; } = "";
        public string Type { get; init; } = "";
        public long Seq { get; init; }
        public long OccurredAt { get; init; }
        public long ReceivedAt { get; init; }
        public string Payload { get; init; } = "{}";
    }
}
