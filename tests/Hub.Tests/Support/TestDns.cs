using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Hub.Consumers.Outbound;

namespace Hub.Tests.Support;

/// <summary>
/// The DNS a test hub's outbound policy sees. Names under <c>.example</c> (RFC 2606: they never exist in
/// real DNS) stand for hosts on the public internet, so a test may configure <c>https://crm.example/lookup</c>
/// as a tenant would a real CRM; <see cref="Answer"/> makes a name resolve elsewhere (an internal name, or a
/// rebinding one that changes its answer); everything else is the machine's own resolver.
/// </summary>
public sealed class TestDns : OutboundResolver
{
    /// <summary>What <c>.example</c> names resolve to: a public address (example.com's, once).</summary>
    public static readonly IPAddress PublicAddress = IPAddress.Parse("93.184.215.14");

    private readonly ConcurrentDictionary<string, IPAddress[]> _answers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>From now on <paramref name="host"/> resolves to these addresses; none means it does not resolve.</summary>
    public void Answer(string host, params string[] addresses) => _answers[host] = addresses.Select(IPAddress.Parse).ToArray();

    public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (_answers.TryGetValue(host, out var answer))
        {
            return answer.Length > 0 ? Task.FromResult(answer) : throw new SocketException((int)SocketError.HostNotFound);
        }

        return host.EndsWith(".example", StringComparison.OrdinalIgnoreCase) ? Task.FromResult<IPAddress[]>([PublicAddress]) : base.ResolveAsync(host, cancellationToken);
    }
}
