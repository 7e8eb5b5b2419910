using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Store.Phones;
using Hub.Consumers.Outbound;

namespace Hub.Api.Config;

public sealed record ConfigError(string Field, string Message);

/// <summary>
/// Checks a config document field by field before anything is stored, so an error names the field
/// and a bad document changes nothing.
/// </summary>
public static partial class ConfigValidator
{
    public static readonly IReadOnlySet<string> Placeholders = new HashSet<string>(StringComparer.Ordinal)
        { "external_id", "number", "call_id", "agent_id", "tenant_id" };

    private static readonly IReadOnlySet<string> Fields = new HashSet<string>(StringComparer.Ordinal)
    {
        "crm_origins", "webphone_origins", "frame_ancestors", "portal_origins", "screen_pop", "crm_lookup",
        "default_country_code", "call_retention_days",
    };

    private const int MaxListLength = 50;

    public static IReadOnlyList<ConfigError> Validate(JsonElement document)
    {
        var errors = new List<ConfigError>();
        if (document.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError("", "the config must be a JSON object"));
            return errors;
        }

        // Before any field's own rule: a line feed in a value would split a header it is written into
        // (frame_ancestors into Content-Security-Policy), whatever rule the field has.
        CheckNoControlCharacters(errors, "", document);
        if (errors.Count > 0)
        {
            return errors;
        }

        foreach (var property in document.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "crm_origins" or "webphone_origins" or "portal_origins":
                    CheckList(errors, property.Name, value, IsOrigin, "must be an origin such as https://crm.example.com (https, or http on localhost; no path)");
                    break;
                case "frame_ancestors":
                    CheckList(errors, property.Name, value, IsFrameAncestor, "must be 'self', 'none', an origin or https://*.domain");
                    break;
                case "screen_pop":
                    CheckObject(errors, property.Name, value, ["record_url_template", "new_contact_url_template"], (field, item) =>
                    {
                        var problem = item.ValueKind switch
                        {
                            JsonValueKind.Null => null,
                            JsonValueKind.String => TemplateProblem(item.GetString()!),
                            _ => "must be a URL template string",
                        };
                        if (problem is not null)
                        {
                            errors.Add(new ConfigError(field, problem));
                        }
                    });
                    break;
                case "crm_lookup":
                    CheckObject(errors, property.Name, value, ["url", "timeout_ms", "secret", "cache_seconds", "miss_cache_seconds"], (field, item) =>
                    {
                        var ok = field switch
                        {
                            "crm_lookup.url" => item.ValueKind == JsonValueKind.String && IsWebUrl(item.GetString()!),
                            "crm_lookup.timeout_ms" => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var ms) && ms is >= 100 and <= 10000,
                            "crm_lookup.secret" => item.ValueKind == JsonValueKind.Null || (item.ValueKind == JsonValueKind.String && item.GetString()!.Length is >= 16 and <= 256),
                            "crm_lookup.cache_seconds" or "crm_lookup.miss_cache_seconds" => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var s) && s is >= 0 and <= 86400,
                            _ => false,
                        };
                        if (!ok)
                        {
                            errors.Add(new ConfigError(field, field switch
                            {
                                "crm_lookup.url" => "must be an https URL (http only on localhost)",
                                "crm_lookup.timeout_ms" => "must be an integer from 100 to 10000",
                                "crm_lookup.secret" => "must be a string of 16 to 256 characters",
                                _ => "must be an integer from 0 to 86400",
                            }));
                        }
                    });
                    break;
                case "default_country_code":
                    if (value.ValueKind != JsonValueKind.Null && (value.ValueKind != JsonValueKind.String || !DefaultCountry.IsValid(value.GetString())))
                    {
                        errors.Add(new ConfigError(property.Name, "must be a country calling code of digits, such as \"84\" or \"44\", or a region code, such as \"VN\" or \"GB\""));
                    }

                    break;
                case "call_retention_days":
                    if (value.ValueKind != JsonValueKind.Null && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var days) && days is >= 1 and <= 3650))
                    {
                        errors.Add(new ConfigError(property.Name, "must be an integer from 1 to 3650"));
                    }

                    break;
                default:
                    errors.Add(new ConfigError(property.Name, $"is not a config field; the fields are {string.Join(", ", Fields)}"));
                    break;
            }
        }

        return errors;
    }

    /// <summary>
    /// <see cref="Validate"/>, then what needs DNS: <c>crm_lookup.url</c> must pass the outbound policy the
    /// webhooks have (the operator's loopback and private-network switches, link-local never), as it must
    /// again on every connection. Checked only once its form passed, so a bad document costs no lookup.
    /// </summary>
    public static async Task<IReadOnlyList<ConfigError>> ValidateAsync(JsonElement document, OutboundTargets outbound, CancellationToken cancellationToken)
    {
        var errors = Validate(document);
        if (errors.Any(error => error.Field == "crm_lookup.url")
            || document.ValueKind != JsonValueKind.Object
            || !document.TryGetProperty("crm_lookup", out var lookup) || lookup.ValueKind != JsonValueKind.Object
            || !lookup.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String)
        {
            return errors;
        }

        try
        {
            await outbound.ValidateAsync(url.GetString(), cancellationToken);
            return errors;
        }
        catch (OutboundTargetException exception)
        {
            return [.. errors, new ConfigError("crm_lookup.url", exception.Message)];
        }
    }

    /// <summary>Null when the template is an acceptable URL once its placeholders are filled.</summary>
    public static string? TemplateProblem(string template)
    {
        var unknown = PlaceholderPattern().Matches(template).Select(match => match.Groups[1].Value).Where(name => !Placeholders.Contains(name)).ToList();
        if (unknown.Count > 0)
        {
            return $"unknown placeholder {{{unknown[0]}}}; the placeholders are {{{string.Join("}, {", Placeholders)}}}";
        }

        var filled = PlaceholderPattern().Replace(template, "x");
        return template.Length <= 2048 && IsWebUrl(filled) ? null : "must be an https URL (http only on localhost) once its placeholders are filled";
    }

    /// <summary>https anywhere; http only to the machine itself (development).</summary>
    public static bool IsWebUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        && string.IsNullOrEmpty(uri.UserInfo);

    private static bool IsOrigin(string value) =>
        IsWebUrl(value) && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && string.Equals(value.TrimEnd('/'), value, StringComparison.Ordinal)
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), value, StringComparison.OrdinalIgnoreCase);

    private static bool IsFrameAncestor(string value) =>
        value is "'self'" or "'none'" || IsOrigin(value) || WildcardOriginPattern().IsMatch(value);

    private static void CheckNoControlCharacters(List<ConfigError> errors, string path, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String when value.GetString()!.Any(char.IsControl):
                errors.Add(new ConfigError(path, "must not contain control characters (line feeds, tabs, ...)"));
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    CheckNoControlCharacters(errors, path.Length == 0 ? property.Name : $"{path}.{property.Name}", property.Value);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    CheckNoControlCharacters(errors, $"{path}[{index++}]", item);
                }

                break;
        }
    }

    private static void CheckList(List<ConfigError> errors, string field, JsonElement value, Func<string, bool> valid, string message)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxListLength)
        {
            errors.Add(new ConfigError(field, $"must be an array of at most {MaxListLength} strings"));
            return;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !valid(item.GetString()!))
            {
                errors.Add(new ConfigError($"{field}[{index}]", message));
            }

            index++;
        }
    }

    private static void CheckObject(List<ConfigError> errors, string field, JsonElement value, string[] known, Action<string, JsonElement> check)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(field, "must be an object"));
            return;
        }

        foreach (var item in value.EnumerateObject())
        {
            if (!known.Contains(item.Name))
            {
                errors.Add(new ConfigError($"{field}.{item.Name}", $"is not a field of {field}; its fields are {string.Join(", ", known)}"));
                continue;
            }

            check($"{field}.{item.Name}", item.Value);
        }
    }

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^https://\*\.[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?$")]
    private static partial Regex WildcardOriginPattern();
}
