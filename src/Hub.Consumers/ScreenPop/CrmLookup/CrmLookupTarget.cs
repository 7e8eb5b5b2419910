using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Hub.Store.Config;
using Hub.Consumers.Outbound;

namespace Hub.Consumers.ScreenPop.CrmLookup;

/// <summary>
/// An account's <c>crm_lookup</c> settings with defaults applied and limits enforced: where to ask, how
/// long to wait, how to sign and how long to remember answers.
/// </summary>
public sealed record CrmLookupTarget
{
    public const int DefaultTimeoutMs = 1500;
    public const int MinTimeoutMs = 100;
    public const int MaxTimeoutMs = 10_000;
    public const int DefaultCacheSeconds = 300;
    public const int DefaultMissCacheSeconds = 60;
    public const int MaxCacheSeconds = 86_400;

    /// <summary>The URL as configured.</summary>
    public required string Url { get; init; }

    /// <summary>The URL to call, or null when Hub refuses to call <see cref="Url"/> (see <see cref="IsAllowedUrl"/>).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>How long one lookup may take, from the request to the parsed answer (100 ms..10 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(DefaultTimeoutMs);

    /// <summary>The Standard Webhooks signing secret (<c>whsec_…</c>), or null to send requests unsigned.</summary>
    public string? Secret { get; init; }

    /// <summary>How long a number the CRM knows is remembered; zero does not remember it.</summary>
    public TimeSpan HitCacheTime { get; init; } = TimeSpan.FromSeconds(DefaultCacheSeconds);

    /// <summary>How long a number the CRM does not know is remembered; zero does not remember it.</summary>
    public TimeSpan MissCacheTime { get; init; } = TimeSpan.FromSeconds(DefaultMissCacheSeconds);

    /// <summary>The target for these settings, or null when the account has no <c>crm_lookup.url</c>.</summary>
    public static CrmLookupTarget? From(CrmLookupSettings? settings)
    {
        if (string.IsNullOrWhiteSpace(settings?.Url))
        {
            return null;
        }

        return new CrmLookupTarget
        {
            Url = settings.Url,
            Endpoint = IsAllowedUrl(settings.Url, out var endpoint) ? endpoint : null,
            Timeout = TimeSpan.FromMilliseconds(Math.Clamp(settings.TimeoutMs ?? DefaultTimeoutMs, MinTimeoutMs, MaxTimeoutMs)),
            Secret = string.IsNullOrWhiteSpace(settings.Secret) ? null : settings.Secret,
            HitCacheTime = TimeSpan.FromSeconds(Math.Clamp(settings.CacheSeconds ?? DefaultCacheSeconds, 0, MaxCacheSeconds)),
            MissCacheTime = TimeSpan.FromSeconds(Math.Clamp(settings.MissCacheSeconds ?? DefaultMissCacheSeconds, 0, MaxCacheSeconds)),
        };
    }

    /// <summary>
    /// The form of the outbound policy (<see cref="OutboundTargets.Parse"/>) at its most lenient: an absolute
    /// <c>https</c> URL, or <c>http</c> to a loopback host, with no credentials or fragment. Anything else is
    /// never called, whatever the config API let through. Where it may connect (and whether plain http to
    /// loopback is allowed at all) is the outbound client's check, on every connection.
    /// </summary>
    public static bool IsAllowedUrl(string? text, [NotNullWhen(true)] out Uri? url)
    {
        try
        {
            url = OutboundTargets.Parse(text, new OutboundRules(AllowHttpLoopback: true, AllowPrivateNetworks: false));
            return true;
        }
        catch (OutboundTargetException)
        {
            url = null;
            return false;
        }
    }

    /// <summary>
    /// <c>secret</c>, <c>cache_seconds</c> and <c>miss_cache_seconds</c> read by their JSON names, so this
    /// compiles and defaults while <see cref="CrmLookupSettings"/> lacks them and picks them up as soon as
    /// it has them. Replace with plain property reads once it does.
    /// </summary>
}
