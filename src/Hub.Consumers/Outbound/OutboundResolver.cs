using System.Net;

namespace Hub.Consumers.Outbound;

/// <summary>
/// How outbound hosts are resolved, both when a URL is checked and when a connection is made. One
/// place, so the two checks see the same answers; tests replace it to play DNS (a name that resolves
/// privately, or publicly first and privately later).
/// </summary>
public class OutboundResolver
{
    /// <summary>The host's addresses (an IP literal is its own); throws <see cref="System.Net.Sockets.SocketException"/> when it does not resolve.</summary>
    public virtual async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
}
