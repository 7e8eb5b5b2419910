using System.Net;
using System.Net.Sockets;
using Hub.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Outbound;

/// <summary>
/// The HTTP clients the hub calls tenants' URLs with (webhooks, CRM lookups): each connects only to
/// addresses <see cref="OutboundRules"/> allows, follows no redirect and uses no proxy.
/// </summary>
public static class OutboundHttp
{
    /// <summary>The URL check and the resolver both it and the connections use.</summary>
    public static IServiceCollection AddOutboundPolicy(this IServiceCollection services)
    {
        services.TryAddSingleton<OutboundResolver>();
        services.TryAddSingleton<OutboundTargets>();
        return services;
    }

    /// <summary>A named client under the outbound policy; <paramref name="handler"/> may tune the rest (timeouts, decompression).</summary>
    public static IHttpClientBuilder AddOutboundHttpClient(this IServiceCollection services, string name, Action<HttpClient> client,
        Action<SocketsHttpHandler>? handler = null)
    {
        services.AddOutboundPolicy();
        return services.AddHttpClient(name, client)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<HubSettings>>();
                var resolver = provider.GetRequiredService<OutboundResolver>();
                var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OutboundHttp).FullName!);
                var primary = new SocketsHttpHandler
                {
                    // A redirect would leave the URL that was checked (and take a CRM lookup's signature along).
                    AllowAutoRedirect = false,
                    // A proxy would make the connection check meaningless.
                    UseProxy = false,
                    UseCookies = false,
                    // Bounds how long a pooled connection outlives the address check it passed.
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, cancellationToken) =>
                        ConnectAsync(context, OutboundRules.From(options.Value), resolver, logger, cancellationToken),
                };
                handler?.Invoke(primary);
                return primary;
            });
    }

    /// <summary>
    /// Resolves the host itself and connects only to an allowed address, so a name that passed the check
    /// when it was set and now resolves to a private address (DNS rebinding) is refused when it matters.
    /// Plain http goes only to loopback, and only when the operator allows it, whatever the stored URL says.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, OutboundRules rules, OutboundResolver resolver,
        ILogger logger, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var plainHttp = context.InitialRequestMessage.RequestUri?.Scheme == Uri.UriSchemeHttp;
        if (plainHttp && !rules.AllowHttpLoopback)
        {
            logger.LogInformation("Outbound connection to {Host} refused: plain http, and AllowHttpLoopback is off", host);
            throw Refused(host);
        }

        var addresses = await resolver.ResolveAsync(host, cancellationToken);
        var allowed = addresses.Where(address => rules.Refusal(address) is null && (!plainHttp || IPAddress.IsLoopback(address))).ToList();
        if (allowed.Count == 0)
        {
            logger.LogInformation("Outbound connection to {Host} refused: {Refusals}", host,
                string.Join("; ", addresses.Select(address => $"{address} is {rules.Refusal(address) ?? "not loopback, and the URL is plain http"}")));
            throw Refused(host);
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                last = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    // What the tenant may see (a webhook's delivery log): the rule, never the address the name resolved to.
    private static OutboundTargetException Refused(string host) =>
        new(OutboundRefusal.Forbidden, $"Refused to connect to {host}: Hub connects only to public https addresses unless the operator allows otherwise.");
}
