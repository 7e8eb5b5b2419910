using System.Net;
using Hub.Consumers.Outbound;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Consumers.ScreenPop.CrmLookup;

/// <summary>
/// The screen-pop's CRM lookup and the client it is made with: the same outbound policy as webhooks
/// (<see cref="OutboundHttp"/>), since a tenant's config chooses the URL and the answer is shown to its agents.
/// </summary>
internal static class CrmLookupHttp
{
    public static IServiceCollection AddHubCrmLookup(this IServiceCollection services)
    {
        services.AddSingleton<CrmLookupClient>();
        services.AddSingleton<CrmLookupService>();
        services.AddOutboundHttpClient(CrmLookupClient.HttpClientName, client =>
            {
                // A backstop only: each lookup is cut at its account's timeout_ms (at most 10 s).
                client.Timeout = TimeSpan.FromSeconds(30);
                client.MaxResponseContentBufferSize = CrmLookupClient.MaxResponseBytes;
            },
            handler =>
            {
                handler.AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli;
                handler.ConnectTimeout = TimeSpan.FromSeconds(10);
            });
        return services;
    }
}
