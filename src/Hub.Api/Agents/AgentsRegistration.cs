using Hub.Api.Commands;
using Hub.Api.EventStream;
using Hub.Api.Infrastructure;
using Hub.Api.Ingest;
using Hub.Api.Telemetry;

namespace Hub.Api.Agents;

internal static class AgentsRegistration
{
    /// <summary>The agent hub and what it stands on: connections and presence, event ingest, commands, contact picks.</summary>
    public static IServiceCollection AddHubAgents(this IServiceCollection services)
    {
        services.AddSignalR(options =>
            {
                // Room for a PublishBatch; each envelope is still held to 32 KiB by the validator.
                options.MaximumReceiveMessageSize = 1024 * 1024;
            })
            .AddJsonProtocol(options => HubJson.Configure(options.PayloadSerializerOptions));
        services.AddSingleton<AgentPresence>();
        services.AddSingleton<AgentConnections>();
        services.AddSingleton<HubApiMetrics>();
        services.AddHostedService<NodeHeartbeat>();
        services.AddSingleton<ConfirmedPublisher>();
        services.AddSingleton<EventIdClaims>();
        services.AddSingleton<IngestQueue>();
        services.AddHostedService(provider => provider.GetRequiredService<IngestQueue>());
        services.AddSingleton<EventIngestor>();
        services.AddScoped<CommandStore>();
        services.AddSingleton<ContactPicks>();
        services.AddSingleton<StreamSlots>();
        return services;
    }
}
