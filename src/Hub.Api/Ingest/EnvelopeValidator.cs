using System.Globalization;
using System.Text.Json;
using Hub.Contracts;

namespace Hub.Api.Ingest;

/// <summary>
/// Checks a relay envelope <c>{event_id, seq, occurred_at, type, payload}</c> and the fields its type
/// needs. Errors read <c>invalid_event: &lt;what is wrong&gt;</c>. Unknown types pass with no field checks:
/// a newer webphone must not be refused by an older hub.
/// </summary>
public static class EnvelopeValidator
{
    public const int MaxEnvelopeBytes = 32 * 1024;
    private const int MaxIdLength = 128;

    private static readonly HashSet<string> NeedsCallId = new(StringComparer.Ordinal)
    {
        "incoming_call", "outgoing_call", "call_answered", "call_hangup", "call_hold", "call_unhold", "call_mute", "call_unmute",
    };

    public static bool TryValidate(JsonElement raw, out EventEnvelope? envelope, out string? error)
    {
        envelope = null;
        error = Check(raw, out var valid);
        envelope = valid;
        return error is null;
    }

    private static string? Check(JsonElement raw, out EventEnvelope? envelope)
    {
        envelope = null;
        if (raw.ValueKind != JsonValueKind.Object)
        {
            return "invalid_event: the envelope must be a JSON object";
        }

        // The raw text is what the relay sent, re-read by the protocol; close enough to its wire size.
        if (System.Text.Encoding.UTF8.GetByteCount(raw.GetRawText()) > MaxEnvelopeBytes)
        {
            return $"invalid_event: the envelope is larger than {MaxEnvelopeBytes / 1024} KiB";
        }

        if (!raw.TryGetProperty("event_id", out var id) || id.ValueKind != JsonValueKind.String || !Guid.TryParse(id.GetString(), out var eventId))
        {
            return "invalid_event: event_id must be a UUID string";
        }

        if (!raw.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var seq) || seq < 0)
        {
            return "invalid_event: seq must be a non-negative integer";
        }

        if (!raw.TryGetProperty("occurred_at", out var at) || at.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var occurredAt)
            || occurredAt.Year < 2000 || occurredAt.Year > 9000)
        {
            return "invalid_event: occurred_at must be an RFC 3339 time";
        }

        if (!raw.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
            || typeElement.GetString() is not { Length: > 0 and <= 64 } type || !type.All(IsTypeChar))
        {
            return "invalid_event: type must be 1 to 64 of a-z 0-9 _ . -";
        }

        var payload = raw.TryGetProperty("payload", out var p) && p.ValueKind != JsonValueKind.Null ? p : EmptyObject;
        var call = payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("call", out var c) && c.ValueKind == JsonValueKind.Object
            ? c
            : default;
        var callId = StringOf(call, "uuid");

        if (NeedsCallId.Contains(type) && callId is null)
        {
            return $"invalid_event: {type} needs payload.call.uuid (a string of at most {MaxIdLength} characters)";
        }

        // Read as the bus message and the call record read it: a blank number is no number.
        if (type is WebphoneEventTypes.IncomingCall or WebphoneEventTypes.OutgoingCall
            && (StringOf(call, "number") is null || WebphonePayload.Read(payload).Number is null))
        {
            return $"invalid_event: {type} needs payload.call.number";
        }

        if (type == "call_hangup" && !(payload.TryGetProperty("billsec", out var billsec) && IsNonNegativeInteger(billsec)))
        {
            return "invalid_event: call_hangup needs payload.billsec, an integer >= 0";
        }

        envelope = new EventEnvelope(eventId, seq, occurredAt.ToUniversalTime(), type, payload.Clone(), callId);
        return null;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static bool IsTypeChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-';

    private static bool IsNonNegativeInteger(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n >= 0 && n <= int.MaxValue;

    /// <summary>A non-empty string (or a number, which some webphones send for numbers) without control characters.</summary>
    private static string? StringOf(JsonElement parent, string name)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value))
        {
            return null;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        return text is { Length: > 0 and <= MaxIdLength } && !text.Any(char.IsControl) ? text : null;
    }
}
