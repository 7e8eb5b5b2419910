using System.Text.Json.Serialization;
using Hub.Store;

namespace Hub.Api.Calls;

public sealed record CallContact(string ExternalId, string? DisplayName);

/// <summary>
/// A call as API.md section 3 defines it, plus <c>talk_seconds</c> (measured by the hub: ended_at -
/// answered_at, where <c>billsec</c> is what the webphone reported) and <c>end_reason</c> (<c>swept</c> when
/// the hub closed a call that never got a hangup; null when the webphone's events closed it).
/// </summary>
public record CallResponse(
    string CallId, string TenantId, string AgentId, string? Direction, string? FromNumber, string? ToNumber, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? AnsweredAt, DateTimeOffset? EndedAt, int? RingSeconds, int? Billsec, string? HangupCause,
    CallContact? Contact, string? CampaignId, string? LeadId)
{
    [JsonPropertyOrder(1)]
    public string? RemoteNumber { get; init; }

    [JsonPropertyOrder(1)]
    public int? TalkSeconds { get; init; }

    [JsonPropertyOrder(1)]
    public string? EndReason { get; init; }

    /// <summary>When the call's numbers, payloads and contact were erased (docs/privacy.md); null for a call never erased.</summary>
    [JsonPropertyOrder(1)]
    public DateTimeOffset? ErasedAt { get; init; }
}

/// <summary>One row of <see cref="SelectCalls"/>; the list, the detail and the CSV export read the same columns.</summary>
internal sealed record CallRow
{
    public const string Columns =
        $"""
        c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.remote_number, c.status, c.started_at, c.answered_at, c.ended_at,
        c.ring_seconds, c.billsec, c.hangup_cause, c.campaign_id, c.lead_id, c.end_reason, c.erased_at,
        {CallFilter.ContactExpression} AS contact_external_id,
        CASE WHEN p.picked_external_id IS NOT NULL THEN p.picked_display_name
             WHEN p.match_count = 1 THEN p.primary_display_name END AS contact_display_name
        """;

    public const string SelectCalls = $"SELECT {Columns} FROM {CallFilter.Source}";

    public string CallId { get; init; } = "";
    public string AgentId { get; init; } = "";
    public string? Direction { get; init; }
    public string? FromNumber { get; init; }
    public string? ToNumber { get; init; }
    public string? RemoteNumber { get; init; }
    public string Status { get; init; } = "";
    public long StartedAt { get; init; }
    public long? AnsweredAt { get; init; }
    public long? EndedAt { get; init; }
    public long? RingSeconds { get; init; }
    public long? Billsec { get; init; }
    public string? HangupCause { get; init; }
    public string? CampaignId { get; init; }
    public string? LeadId { get; init; }
    public string? EndReason { get; init; }
    public long? ErasedAt { get; init; }
    public string? ContactExternalId { get; init; }
    public string? ContactDisplayName { get; init; }

    /// <summary>Talk time as the hub measured it, in whole seconds (half away from zero), never negative.</summary>
    public int? TalkSeconds => AnsweredAt is { } answered && EndedAt is { } ended
        ? (int)Math.Max(0, Math.Round((ended - answered) / 1000.0, MidpointRounding.AwayFromZero))
        : null;

    public CallResponse ToResponse(string tenantId) => new(
        CallId, tenantId, AgentId, Direction, FromNumber, ToNumber, Status, Clock.FromMs(StartedAt), Clock.FromMs(AnsweredAt), Clock.FromMs(EndedAt),
        (int?)RingSeconds, (int?)Billsec, HangupCause,
        ContactExternalId is null ? null : new CallContact(ContactExternalId, ContactDisplayName), CampaignId, LeadId)
    {
        RemoteNumber = RemoteNumber,
        TalkSeconds = TalkSeconds,
        EndReason = EndReason,
        ErasedAt = Clock.FromMs(ErasedAt),
    };
}
