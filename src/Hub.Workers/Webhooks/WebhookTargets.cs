using System.Net;
using System.Net.Sockets;
using Hub.Store;

namespace Hub.Workers.Webhooks;

/// <summary>A webhook URL the hub refuses; <see cref="Code"/> is the problem+json code the API answers with.</summary>
public sealed class WebhookTargetException(string code, string detail) : Exception(detail)
{
    public string Code { get; } = code;
}

/// <summary>
/// Where webhooks may go (SSRF rules). Checked when a subscription is created, and again on every
/// connection (<see cref="WebhookHttp"/>) because a name may resolve elsewhere later (DNS rebinding).
/// </summary>
public static class WebhookTargets
{
    public const string InvalidUrl = "invalid_webhook_url";
    public const string Forbidden = "webhook_target_forbidden";
    public const int MaxUrlLength = 2048;

    /// <summary>The URL as it will be called, or a <see cref="WebhookTargetException"/> saying why not.</summary>
    public static async Task<Uri> ValidateAsync(string? url, WebhookSettings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new WebhookTargetException(InvalidUrl, $"url must be an absolute https URL of at most {MaxUrlLength} characters.");
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && settings.AllowHttpLoopback && uri.IsLoopback))
        {
            throw new WebhookTargetException(InvalidUrl, settings.AllowHttpLoopback
                ? "url must use https (http only to a loopback host)."
                : "url must use https.");
        }

        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new WebhookTargetException(InvalidUrl, "url must not carry credentials or a fragment.");
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            throw new WebhookTargetException(InvalidUrl, $"The host {uri.Host} does not resolve.");
        }

        if (addresses.Length == 0)
        {
            throw new WebhookTargetException(InvalidUrl, $"The host {uri.Host} does not resolve.");
        }

        foreach (var address in addresses)
        {
            if (Refusal(address, settings) is { } reason)
            {
                throw new WebhookTargetException(Forbidden, $"The host {uri.Host} resolves to {address}, {reason}; webhooks may not target it.");
            }
        }

        return uri;
    }

    /// <summary>Why the hub may not connect to this address, or null when it may.</summary>
    public static string? Refusal(IPAddress address, WebhookSettings settings)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return settings.AllowHttpLoopback || settings.AllowPrivateNetworks ? null : "a loopback address";
        }

        if (IsReserved(address))
        {
            // Link-local holds the cloud metadata services (169.254.169.254): never, whatever the settings.
            return "a link-local, multicast or reserved address";
        }

        return IsPrivate(address) && !settings.AllowPrivateNetworks ? "a private-network address" : null;
    }

    private static bool IsReserved(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            return address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) // 2001:db8::/32, documentation
                || (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b); // 64:ff9b::/96 NAT64 reaches IPv4 behind the check
        }

        var b = address.GetAddressBytes();
        return b[0] == 0 // 0.0.0.0/8
            || (b[0] == 169 && b[1] == 254) // link-local, metadata
            || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2) // IETF protocol assignments, TEST-NET-1
            || (b[0] == 198 && b[1] == 51 && b[2] == 100) // TEST-NET-2
            || (b[0] == 203 && b[1] == 0 && b[2] == 113) // TEST-NET-3
            || b[0] >= 224; // multicast, reserved, broadcast
    }

    private static bool IsPrivate(IPAddress address)
    {
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return (b[0] & 0xfe) == 0xfc; // fc00::/7, unique local
        }

        return b[0] == 10
            || (b[0] == 172 && (b[1] & 0xf0) == 16)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && (b[1] & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
            || (b[0] == 198 && (b[1] & 0xfe) == 18); // 198.18.0.0/15, benchmarking
    }
}
