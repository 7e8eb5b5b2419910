using System.Text.Json;
using Hub.Contracts;

namespace Hub.Consumers.ScreenPop.CrmLookup;

/// <summary>
/// Reads a CRM's 200 answer liberally: <c>{"matches": [...]}</c>, a bare array, or one match object; an
/// empty body, <c>null</c>, <c>{}</c> or an empty list is "not known". Anything else is a failure.
/// </summary>
/// <remarks>
/// A match needs <c>external_id</c> (a string or a number; <c>externalId</c> and <c>id</c> are accepted
/// too) and is skipped without one. <c>display_name</c> (or <c>displayName</c>, <c>name</c>) falls back
/// to the id. <c>company</c> is kept when it is a string, <c>url</c> only when it is an absolute http(s)
/// URL (the agent's browser opens it), <c>custom_fields</c> only when it is an object. At most
/// <see cref="MaxMatches"/> matches, the first of each id, in the CRM's order.
/// </remarks>
public static class CrmLookupResponse
{
    public const int MaxMatches = 50;
    private const int MaxUrlLength = 2048;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32, AllowTrailingCommas = true };

    public static IReadOnlyList<ScreenPopMatch> Parse(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        if (IsBlank(body))
        {
            return [];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), Options);
        }
        catch (JsonException exception)
        {
            throw new CrmLookupException("the CRM's answer is not JSON", exception);
        }

        using (document)
        {
            var root = document.RootElement;
            IEnumerable<JsonElement> entries = root.ValueKind switch
            {
                JsonValueKind.Null => [],
                JsonValueKind.Array => root.EnumerateArray(),
                JsonValueKind.Object when root.TryGetProperty("matches", out var matches) => matches.ValueKind switch
                {
                    JsonValueKind.Array => matches.EnumerateArray(),
                    JsonValueKind.Null => [],
                    _ => throw new CrmLookupException("the CRM's \"matches\" is not a list"),
                },
                JsonValueKind.Object when !root.EnumerateObject().Any() => [],
                JsonValueKind.Object when IdOf(root) is not null => [root],
                _ => throw new CrmLookupException("the CRM's answer has no \"matches\""),
            };

            return entries
                .Select(ToMatch)
                .OfType<ScreenPopMatch>()
                .DistinctBy(match => match.ExternalId, StringComparer.Ordinal)
                .Take(MaxMatches)
                .ToList();
        }
    }

    private static ScreenPopMatch? ToMatch(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object || IdOf(entry) is not { } id)
        {
            return null;
        }

        var name = Text(entry, "display_name") ?? Text(entry, "displayName") ?? Text(entry, "name");
        var fields = Property(entry, "custom_fields") ?? Property(entry, "customFields");
        return new ScreenPopMatch
        {
            ExternalId = id,
            DisplayName = string.IsNullOrWhiteSpace(name) ? id : name,
            Company = Text(entry, "company"),
            Url = Text(entry, "url") is { } url && IsWebUrl(url) ? url : null,
            CustomFields = fields is { ValueKind: JsonValueKind.Object } custom ? custom.Clone() : null,
        };
    }

    private static string? IdOf(JsonElement entry)
    {
        var id = Property(entry, "external_id") ?? Property(entry, "externalId") ?? Property(entry, "id");
        var text = id?.ValueKind switch
        {
            JsonValueKind.String => id.Value.GetString(),
            JsonValueKind.Number => id.Value.GetRawText(),
            _ => null,
        };
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    private static JsonElement? Property(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? Text(JsonElement entry, string name) =>
        Property(entry, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static bool IsWebUrl(string url) =>
        url.Length <= MaxUrlLength && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static bool IsBlank(ReadOnlySpan<byte> body)
    {
        foreach (var b in body)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}
