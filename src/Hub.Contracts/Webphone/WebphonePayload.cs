using System.Globalization;
using System.Text.Json;

namespace Hub.Contracts;

/// <summary>
/// The fields the hub reads from a webphone event's payload, read in one place: the Api's bus messages and the
/// workers' call record use this reader, so a call's number, billsec and hangup cause on the bus are those stored.
/// Absent or malformed fields are null; strings are non-blank, numbers are rendered invariantly.
/// </summary>
/// <param name="Number"><c>call.number</c>: the caller of an incoming call, the callee of an outgoing one.</param>
/// <param name="CallTo"><c>call.to</c>, else <c>call.destination</c>.</param>
/// <param name="CallFrom"><c>call.from</c>.</param>
/// <param name="Billsec"><c>billsec</c>: a whole number &gt;= 0 that fits an int, from a JSON number or a numeric string.</param>
/// <param name="HangupCause">The first of <c>cause</c>, <c>hangup_cause</c>, <c>call.hangup_cause</c>, <c>reason</c>.</param>
/// <param name="Reason"><c>reason</c>, else <c>message</c> (why a registration failed).</param>
/// <param name="Message"><c>message</c> (of an <c>error</c>).</param>
/// <param name="CampaignId"><c>options.campaignId</c> (or <c>campaign_id</c>), else the same under <c>call.options</c>.</param>
/// <param name="LeadId"><c>options.leadId</c> (or <c>lead_id</c>), else the same under <c>call.options</c>.</param>
public sealed record WebphonePayload(
    string? Number,
    string? CallTo,
    string? CallFrom,
    int? Billsec,
    string? HangupCause,
    string? Reason,
    string? Message,
    string? CampaignId,
    string? LeadId)
{
    public static WebphonePayload Read(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            payload = default;
        }

        var call = Property(payload, "call");
        var options = Property(payload, "options");
        var callOptions = Property(call, "options");
        return new WebphonePayload(
            Number: Text(Property(call, "number")),
            CallTo: Text(Property(call, "to")) ?? Text(Property(call, "destination")),
            CallFrom: Text(Property(call, "from")),
            Billsec: WholeNonNegative(Property(payload, "billsec")),
            HangupCause: Text(Property(payload, "cause"))
                ?? Text(Property(payload, "hangup_cause"))
                ?? Text(Property(call, "hangup_cause"))
                ?? Text(Property(payload, "reason")),
            Reason: Text(Property(payload, "reason")) ?? Text(Property(payload, "message")),
            Message: Text(Property(payload, "message")),
            CampaignId: Option(options, callOptions, "campaignId", "campaign_id"),
            LeadId: Option(options, callOptions, "leadId", "lead_id"));
    }

    /// <summary>Reads stored payload text; text that is not JSON reads as an empty payload.</summary>
    public static WebphonePayload Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Read(default(JsonElement));
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return Read(document.RootElement);
        }
        catch (JsonException)
        {
            return Read(default(JsonElement));
        }
    }

    private static string? Option(JsonElement options, JsonElement callOptions, string camel, string snake) =>
        Text(Property(options, camel)) ?? Text(Property(options, snake))
        ?? Text(Property(callOptions, camel)) ?? Text(Property(callOptions, snake));

    /// <summary>The property, or an undefined element when the value is not an object or lacks it.</summary>
    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>A non-blank string as posted, or a number rendered invariantly; anything else is absent.</summary>
    private static string? Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString() is { } text && !string.IsNullOrWhiteSpace(text) ? text : null,
        JsonValueKind.Number when element.TryGetInt64(out var whole) => whole.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number when element.TryGetDecimal(out var exact) => exact.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number => element.GetRawText(),
        _ => null,
    };

    /// <summary>A whole number &gt;= 0 that fits an int, from a JSON number or numeric string; else absent.</summary>
    private static int? WholeNonNegative(JsonElement element)
    {
        decimal value;
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetDecimal(out var number):
                value = number;
                break;
            case JsonValueKind.String when decimal.TryParse(
                element.GetString(),
                NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture,
                out var parsed):
                value = parsed;
                break;
            default:
                return null;
        }

        return value >= 0 && value <= int.MaxValue && decimal.Truncate(value) == value ? (int)value : null;
    }
}
