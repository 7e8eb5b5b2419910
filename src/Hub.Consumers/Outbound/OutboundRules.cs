using System.Net;
using System.Net.Sockets;
using Hub.Store;

namespace Hub.Consumers.Outbound;

/// <summary>
/// The operator's SSRF switches as one value: <c>Hub__Outbound__*</c>, or their older names under
/// <c>Hub__Webhooks__*</c> (either turns a switch on), for webhooks and CRM lookups alike.
/// </summary>
public readonly record struct OutboundRules(bool AllowHttpLoopback, bool AllowPrivateNetworks)
{
    public static OutboundRules From(HubSettings settings) => new(
        settings.Outbound.AllowHttpLoopback || settings.Webhooks.AllowHttpLoopback,
        settings.Outbound.AllowPrivateNetworks || settings.Webhooks.AllowPrivateNetworks);

    /// <summary>
    /// Why the hub may not connect to this address, or null when it may. The reason is for the operator's
    /// log only: a tenant is told one thing whatever it is (<see cref="OutboundTargets.NotAllowed"/>).
    /// </summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return AllowHttpLoopback || AllowPrivateNetworks ? null : "a loopback address";
        }

        if (IsReserved(address))
        {
            // Link-local holds the cloud metadata services (169.254.169.254): never, whatever the settings.
            return "a link-local, multicast or reserved address";
        }

        return IsPrivate(address) && !AllowPrivateNetworks ? "a private-network address" : null;
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
