using System.Net;
using System.Net.Sockets;
using Hub.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hub.Workers.Webhooks;

/// <summary>The HTTP client webhooks are posted with: it connects only to addresses <see cref="WebhookTargets"/> allows.</summary>
internal static class WebhookHttp
{
    public const string ClientName = "hub-webhooks";

    public static IServiceCollection AddWebhookHttpClient(this IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client =>
            {
                // Each attempt is cut at Hub:Webhooks:AttemptTimeout by its own token.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Hub-Webhooks/1");
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<HubSettings>>();
                return new SocketsHttpHandler
                {
                    // A redirect would leave the URL that was checked; a 3xx is a failed attempt.
                    AllowAutoRedirect = false,
                    // A proxy would make the connection check meaningless.
                    UseProxy = false,
                    UseCookies = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, cancellationToken) => ConnectAsync(context, options.Value.Webhooks, cancellationToken),
                };
            });
        return services;
    }

    /// <summary>
    /// Resolves the host itself and connects only to an allowed address, so a name that passed the check at
    /// creation and now resolves to a private address (DNS rebinding) is refused at the moment it matters.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, WebhookSettings settings, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(address => WebhookTargets.Refusal(address, settings) is null).ToList();
        if (allowed.Count == 0)
        {
            var refusals = addresses.Select(address => $"{address} is {WebhookTargets.Refusal(address, settings)}");
            throw new WebhookTargetException(WebhookTargets.Forbidden, $"Refused to connect to {host}: {string.Join("; ", refusals)}.");
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
}
