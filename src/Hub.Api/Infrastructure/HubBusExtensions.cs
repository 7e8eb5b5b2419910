using Hub.Api.Agents;
using Hub.Store;
using Hub.Workers;
using MassTransit;

namespace Hub.Api.Infrastructure;

internal static class HubBusExtensions
{
    /// <summary>
    /// The bus. Each Api node consumes agent-bound messages (screen-pops, commands) on an endpoint of
    /// its own, so every node gets a copy and pushes to the connections it holds. In the embedded
    /// default the workers' consumers run here too.
    /// </summary>
    public static IServiceCollection AddHubBus(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(HubSettings.Section).Get<HubSettings>() ?? new HubSettings();
        if (!string.Equals(options.Bus, "inmemory", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Hub:Bus '{options.Bus}' is not supported by this build; use 'inmemory'.");
        }

        var nodeEndpoint = $"hub-api-{(string.IsNullOrWhiteSpace(options.NodeId) ? Environment.MachineName : options.NodeId)}-{Guid.NewGuid():N}"
            .ToLowerInvariant();
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<ShowScreenPopConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = nodeEndpoint;
                endpoint.Temporary = true;
            });
            bus.AddConsumer<SendWebphoneCommandConsumer>().Endpoint(endpoint =>
            {
                endpoint.Name = nodeEndpoint;
                endpoint.Temporary = true;
            });
            bus.AddHubWorkers();
            bus.UsingInMemory((context, transport) => transport.ConfigureEndpoints(context));
        });
        return services;
    }
}
