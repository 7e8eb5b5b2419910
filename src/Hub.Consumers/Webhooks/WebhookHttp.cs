using Hub.Consumers.Outbound;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Consumers.Webhooks;

/// <summary>The HTTP client webhooks are posted with, under the shared outbound policy (<see cref="OutboundHttp"/>).</summary>
internal static class WebhookHttp
{
    public const string ClientName = "hub-webhooks";

    public static IServiceCollection AddWebhookHttpClient(this IServiceCollection services)
    {
        services.AddOutboundHttpClient(ClientName, client =>
        {
            // Each attempt is cut at Hub:Webhooks:AttemptTimeout by its own token.
            client.Timeout = Timeout.InfiniteTimeSpan;
            client.DefaultRequestHeaders.UserAgent.ParseAdd("Hub-Webhooks/1");
        });
        return services;
    }
}
