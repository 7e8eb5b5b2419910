namespace Hub.Consumers.ScreenPop;

/// <summary>
/// Fills <c>{placeholder}</c>s in a screen-pop URL template with URL-encoded values. Unknown
/// placeholders are left as written so a typo is visible rather than silently empty.
/// </summary>
public static class UrlTemplate
{
    public static string? Expand(string? template, IReadOnlyDictionary<string, string?> values)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return null;
        }

        var result = template;
        foreach (var (name, value) in values)
        {
            result = result.Replace("{" + name + "}", Uri.EscapeDataString(value ?? ""), StringComparison.Ordinal);
        }

        return result;
    }
}
