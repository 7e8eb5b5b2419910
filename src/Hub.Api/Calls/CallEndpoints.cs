using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;

namespace Hub.Api.Calls;

public sealed record CallContact(string ExternalId, string? DisplayName);

public record CallResponse(
    string CallId, string TenantId, string AgentId, string? Direction, string? FromNumber, string? ToNumber, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? AnsweredAt, DateTimeOffset? EndedAt, int? RingSeconds, int? Billsec, string? HangupCause,
    CallContact? Contact, string? CampaignId, string? LeadId);

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
        calls.MapGet("/{callId}", GetAsync);
    }

    /// <summary>Newest first, paged by a keyset cursor (started_at, call_id) that stays stable while calls are inserted.</summary>
    private static async Task<CallPage> ListAsync(
        WorkingAccount account, HubDatabase database, TenantConfigReader configs, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null, string? agentId = null, string? number = null,
        string? direction = null, string? status = null, int? limit = null, string? cursor = null)
    {
        var take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            throw HubProblemException.BadRequest("invalid_query", $"limit must be between 1 and {MaxLimit}.");
        }

        if (direction is not (null or "inbound" or "outbound"))
        {
            throw HubProblemException.BadRequest("invalid_query", "direction must be inbound or outbound.");
        }

        if (status is not (null or "ringing" or "in_progress" or "answered" or "missed" or "failed"))
        {
            throw HubProblemException.BadRequest("invalid_query", "status must be ringing, in_progress, answered, missed or failed.");
        }

        var (afterStarted, afterCallId) = KeysetCursor.Decode(cursor);
        string? remote = null;
        if (!string.IsNullOrWhiteSpace(number))
        {
            var config = await configs.ReadCachedAsync(account.TenantId, cancellationToken);
            remote = PhoneNumbers.Normalise(number, configs.CountryCodeOf(config.Config))?.E164 ?? number;
        }

        var sql = new StringBuilder(SelectCalls).Append(" WHERE c.tenant_id = @tenantId");
        if (from is not null) sql.Append(" AND c.started_at >= @from");
        if (to is not null) sql.Append(" AND c.started_at < @to");
        if (agentId is not null) sql.Append(" AND c.agent_id = @agentId");
        if (remote is not null) sql.Append(" AND c.remote_number = @remote");
        if (direction is not null) sql.Append(" AND c.direction = @direction");
        if (status is not null) sql.Append(" AND c.status = @status");
        if (afterCallId is not null) sql.Append(" AND (c.started_at < @afterStarted OR (c.started_at = @afterStarted AND c.call_id < @afterCallId))");
        sql.Append(" ORDER BY c.started_at DESC, c.call_id DESC LIMIT @fetch");

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<CallRow>(new CommandDefinition(sql.ToString(), new
        {
            tenantId = account.TenantId,
            from = from?.ToUnixTimeMilliseconds(),
            to = to?.ToUnixTimeMilliseconds(),
            agentId, remote, direction, status, afterStarted, afterCallId,
            fetch = take + 1,
        }, cancellationToken: cancellationToken))).ToList();

        var page = rows.Take(take).Select(row => row.ToResponse(account.TenantId)).ToList();
        var next = rows.Count > take ? KeysetCursor.Encode(rows[take - 1].StartedAt, rows[take - 1].CallId) : null;
        return new CallPage(page, next);
    }

    private static async Task<CallDetailResponse> GetAsync(string callId, WorkingAccount account, HubDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var args = new { tenantId = account.TenantId, callId };
        var call = await connection.QueryFirstOrDefaultAsync<CallRow>(new CommandDefinition(
            SelectCalls + " WHERE c.tenant_id = @tenantId AND c.call_id = @callId", args, cancellationToken: cancellationToken))
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

    private const string SelectCalls =
        """
        SELECT c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.status, c.started_at, c.answered_at, c.ended_at,
               c.ring_seconds, c.billsec, c.hangup_cause, c.campaign_id, c.lead_id,
               CASE WHEN p.picked_external_id IS NOT NULL THEN p.picked_external_id
                    WHEN p.match_count = 1 THEN p.primary_external_id END AS contact_external_id,
               CASE WHEN p.picked_external_id IS NOT NULL THEN p.picked_display_name
                    WHEN p.match_count = 1 THEN p.primary_display_name END AS contact_display_name
        FROM calls c LEFT JOIN screen_pops p ON p.tenant_id = c.tenant_id AND p.call_id = c.call_id
        """;


    private sealed record CallRow
    {
        public string CallId { get; init; } = "";
        public string AgentId { get; init; } = "";
        public string? Direction { get; init; }
        public string? FromNumber { get; init; }
        public string? ToNumber { get; init; }
        public string Status { get; init; } = "";
        public long StartedAt { get; init; }
        public long? AnsweredAt { get; init; }
        public long? EndedAt { get; init; }
        public long? RingSeconds { get; init; }
        public long? Billsec { get; init; }
        public string? HangupCause { get; init; }
        public string? CampaignId { get; init; }
        public string? LeadId { get; init; }
        public string? ContactExternalId { get; init; }
        public string? ContactDisplayName { get; init; }

        public CallResponse ToResponse(string tenantId) => new(
            CallId, tenantId, AgentId, Direction, FromNumber, ToNumber, Status, Clock.FromMs(StartedAt), Clock.FromMs(AnsweredAt), Clock.FromMs(EndedAt),
            (int?)RingSeconds, (int?)Billsec, HangupCause,
            ContactExternalId is null ? null : new CallContact(ContactExternalId, ContactDisplayName), CampaignId, LeadId);
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
