using System.Text.RegularExpressions;

namespace Hub.Store.Logging;

/// <summary>
/// Masks credentials in log text: the value of any <c>access_token=</c> (the agent hub's query, which
/// ASP.NET Core's request lines and Kestrel's errors quote), the hub's own secrets by their prefix
/// (<c>hubk_</c> API keys, <c>hubs_</c> sessions, <c>hub_embed_</c> signing keys, <c>whsec_</c> webhook
/// secrets), anything shaped like a JWT (three base64url segments, the first <c>eyJ</c>: embed and SSO
/// tokens), and the configured values that have no recognisable form (an operator's own admin key).
/// It works on values, not on which field a value came from, so a log line nobody has written yet
/// cannot leak either.
/// </summary>
public sealed partial class LogRedactor
{
    public const string Mask = "[redacted]";

    // Literals shorter than this are left alone: masking short common strings would mangle every line.
    private const int MinimumLiteralLength = 8;

    private readonly string[] _literals;

    public LogRedactor(IEnumerable<string?>? literals = null)
    {
        _literals = (literals ?? []).Where(literal => literal is { Length: >= MinimumLiteralLength })
            .Select(literal => literal!).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The text with every credential masked; the same instance when there is none.</summary>
    public string Redact(string text)
    {
        var redacted = SecretPattern().Replace(text, static match => match.Groups["keep"].Value + Mask);
        foreach (var literal in _literals)
        {
            if (redacted.Contains(literal, StringComparison.Ordinal))
            {
                redacted = redacted.Replace(literal, Mask, StringComparison.Ordinal);
            }
        }

        return redacted;
    }

    // "keep" is the part that says what was masked. access_token first, so access_token=hubs_... is
    // masked as a whole; the names' boundaries keep a word such as "github_..." intact.
    [GeneratedRegex("""
        (?<keep>(?i:access_token)=)[^&\s"'<>]+
        | (?<![A-Za-z0-9])(?<keep>hubk_|hubs_|hub_embed_)[A-Za-z0-9_-]+
        | (?<![A-Za-z0-9])(?<keep>whsec_)[A-Za-z0-9+/=_-]+
        | eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();
}
