using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hub.Api.Commands;

/// <summary>The webphone's own command names and the payload each needs (seed 001, section 5.2).</summary>
public static partial class CommandValidator
{
    public const int MaxPayloadBytes = 4096;

    public static readonly IReadOnlySet<string> Types = new HashSet<string>(StringComparer.Ordinal)
    {
        "call", "hangup", "send_dtmf", "mute", "unmute", "hold", "unhold", "answer", "refresh_token",
    };

    /// <summary>Null when valid, otherwise what is wrong.</summary>
    public static string? Check(string? type, JsonElement payload)
    {
        if (type is null || !Types.Contains(type))
        {
            return $"type must be one of: {string.Join(", ", Types)}.";
        }

        if (payload.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
        {
            return "payload must be a JSON object.";
        }

        if (payload.ValueKind == JsonValueKind.Object && System.Text.Encoding.UTF8.GetByteCount(payload.GetRawText()) > MaxPayloadBytes)
        {
            return $"payload must be at most {MaxPayloadBytes} bytes.";
        }

        return type switch
        {
            "call" when !IsDialable(StringOf(payload, "number")) => "call needs payload.number: a phone number of 3 to 32 digits, + * # allowed.",
            "call" when payload.TryGetProperty("options", out var options) && options.ValueKind != JsonValueKind.Object => "payload.options must be an object.",
            "send_dtmf" when StringOf(payload, "digits") is not { } digits || !DtmfPattern().IsMatch(digits) => "send_dtmf needs payload.digits: 1 to 32 of 0-9 * # A-D.",
            "refresh_token" when StringOf(payload, "token") is not { Length: > 0 and <= 4096 } => "refresh_token needs payload.token.",
            _ => null,
        };
    }

    public static bool IsDialable(string? number) => number is not null && DialablePattern().IsMatch(number);

    private static string? StringOf(JsonElement payload, string name) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    [GeneratedRegex(@"^\+?[0-9*#() .\-]{3,40}$")]
    private static partial Regex DialablePattern();

    [GeneratedRegex("^[0-9*#A-D]{1,32}$")]
    private static partial Regex DtmfPattern();
}
