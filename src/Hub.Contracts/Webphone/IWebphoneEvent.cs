using System.Text.Json;

namespace Hub.Contracts;

/// <summary>
/// Every event a webphone posted to its CRM page and the relay handed to the hub. Each webphone event
/// type has its own message (past tense); consumers that care about all of them consume this interface.
/// </summary>
public interface IWebphoneEvent
{
    /// <summary>Assigned by the relay; the idempotency key of the event within its tenant.</summary>
    Guid EventId { get; }

    string TenantId { get; }

    string AgentId { get; }

    /// <summary>The webphone's <c>call.uuid</c> when the event is about a call, otherwise null.</summary>
    string? CallId { get; }

    /// <summary>The relay's per-page sequence number: a tiebreaker between events of equal time.</summary>
    long Seq { get; }

    /// <summary>The webphone event type exactly as posted, for example <c>call_hangup</c>.</summary>
    string Type { get; }

    DateTimeOffset OccurredAt { get; }

    DateTimeOffset ReceivedAt { get; }

    /// <summary>The payload exactly as the webphone posted it.</summary>
    JsonElement Payload { get; }
}
