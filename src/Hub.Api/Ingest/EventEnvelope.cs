using System.Text.Json;

namespace Hub.Api.Ingest;

/// <summary>A relay envelope that passed validation.</summary>
public sealed record EventEnvelope(Guid EventId, long Seq, DateTimeOffset OccurredAt, string Type, JsonElement Payload, string? CallId);

/// <summary>The hub's answer to one envelope: <c>accepted</c>, <c>duplicate</c>, or (in a batch) <c>rejected</c>.</summary>
public sealed record PublishAck(string? EventId, string Status, string? Error = null)
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}
