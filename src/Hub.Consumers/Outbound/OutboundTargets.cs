using System.Net;
using System.Net.Sockets;
using Hub.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Outbound;

/// <summary>Why a URL is refused: its form (scheme, credentials, length), or where it leads.</summary>
public enum OutboundRefusal
{
    InvalidUrl,
    Forbidden,
}

/// <summary>A URL the hub will not call. The message is safe to show the tenant: it never says how the host resolved.</summary>
public sealed class OutboundTargetException(OutboundRefusal refusal, string message) : Exception(message)
{
    public OutboundRefusal Refusal { get; } = refusal;
}

/// <summary>
/// Where the hub's own requests (webhooks, CRM lookups) may go: checked when a tenant sets the URL, and
/// again on every connection (<see cref="OutboundHttp"/>) because a name may resolve elsewhere later (DNS
/// rebinding). A refusal that depends on DNS is one message whatever the reason, so that trying URLs
/// does not map which internal names exist; the precise reason goes to the operator's log.
/// </summary>
public sealed class OutboundTargets(OutboundResolver resolver, IOptions<HubSettings> options, ILogger<OutboundTargets> logger)
{
    public const int MaxUrlLength = 2048;

    /// <summary>The one answer for a host that does not resolve, resolves to a refused address, or both.</summary>
    public const string NotAllowed =
        "must name a host whose addresses Hub may connect to: public ones (private networks and loopback only when the operator allows them; link-local and reserved never), and it must resolve";

    public OutboundRules Rules => OutboundRules.From(options.Value);

    /// <summary>The URL as it will be called, or an <see cref="OutboundTargetException"/> saying why not.</summary>
    public async Task<Uri> ValidateAsync(string? url, CancellationToken cancellationToken)
    {
        var rules = Rules;
        var uri = Parse(url, rules);
        IPAddress[] addresses;
        try
        {
            addresses = await resolver.ResolveAsync(uri.IdnHost, cancellationToken);
        }
        catch (Exception exception) when (exception is SocketException or ArgumentException)
        {
            logger.LogInformation("Outbound target {Host} refused: it does not resolve ({Error})", uri.Host, exception.Message);
            throw new OutboundTargetException(OutboundRefusal.Forbidden, NotAllowed);
        }

        if (addresses.Length == 0)
        {
            logger.LogInformation("Outbound target {Host} refused: it resolves to no address", uri.Host);
            throw new OutboundTargetException(OutboundRefusal.Forbidden, NotAllowed);
        }

        foreach (var address in addresses)
        {
            if (rules.Refusal(address) is { } reason)
            {
                logger.LogInformation("Outbound target {Host} refused: it resolves to {Address}, {Reason}", uri.Host, address, reason);
                throw new OutboundTargetException(OutboundRefusal.Forbidden, NotAllowed);
            }
        }

        return uri;
    }

    /// <summary>
    /// The form alone: absolute, at most <see cref="MaxUrlLength"/> characters, <c>https</c> (or <c>http</c>
    /// to a loopback host when <see cref="OutboundRules.AllowHttpLoopback"/>), no credentials, no fragment.
    /// </summary>
    public static Uri Parse(string? url, OutboundRules rules)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new OutboundTargetException(OutboundRefusal.InvalidUrl, $"must be an absolute https URL of at most {MaxUrlLength} characters");
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && rules.AllowHttpLoopback && uri.IsLoopback))
        {
            throw new OutboundTargetException(OutboundRefusal.InvalidUrl, rules.AllowHttpLoopback ? "must use https (http only to a loopback host)" : "must use https");
        }

        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new OutboundTargetException(OutboundRefusal.InvalidUrl, "must not carry credentials or a fragment");
        }

        return uri;
    }
}
