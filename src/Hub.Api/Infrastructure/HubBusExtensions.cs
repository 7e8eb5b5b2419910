using Hub.Api.Agents;
using Hub.Consumers;
using Hub.Consumers.WebphoneEvents;
using Hub.ServiceDefaults;
using MassTransit;

namespace Hub.Api.Infrastructure;

internal static class HubBusExtensions
{
    /// <summary>
    /// The bus. Each Api node consumes agent-bound messages (screen-pops, commands, session revocations) on a temporary
    /// endpoint of its own (an auto-delete queue on RabbitMQ), so every node gets a copy and pushes to
    /// the connections it holds. In the embedded default the workers' consumers run here too; on
    /// RabbitMQ they run in Hub.Workers processes.
    /// </summary>
    public static IServiceCollection AddHubBus(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = HubTransport.ReadSettings(configuration);
        var nodeEndpoint = $"hub-api-{(string.IsNullOrWhiteSpace(settings.NodeId) ? Environment.MachineName : settings.NodeId)}-{Guid.NewGuid():N}"
            .ToLowerInvariant();
        // Always registered: cheap, and the workers' consumers run here in the embedded default.
        services.AddHubConsumerServices();
        if (!HubTransport.IsRabbitMq(configuration))
        {
            services.AddSingleton(new EventBacklog(settings.EmbeddedBacklog));
        }

        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<ShowScreenPopConsumer>().Endpoint(endpoint => NodeLocal(endpoint, nodeEndpoint));
            bus.AddConsumer<SendWebphoneCommandConsumer>().Endpoint(endpoint => NodeLocal(endpoint, nodeEndpoint));
            bus.AddConsumer<SessionRevokedConsumer>().Endpoint(endpoint => NodeLocal(endpoint, nodeEndpoint));
            if (!HubTransport.IsRabbitMq(configuration))
            {
                bus.AddHubConsumers();
            }

            bus.UsingHubTransport(configuration);
        });
        return services;
    }

    private static void NodeLocal(IEndpointRegistrationConfigurator endpoint, string name)
    {
        endpoint.Name = name;
        endpoint.Temporary = true;
    }
}
