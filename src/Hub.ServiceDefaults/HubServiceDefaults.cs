using Hub.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.ServiceDefaults;

/// <summary>What Hub.Api and Hub.Workers set up the same way, called first by both hosts' <c>Program.cs</c>.</summary>
public static class HubServiceDefaults
{
    /// <summary>
    /// Log redaction (no credential in any log line), telemetry, the store (its migrations run before any other
    /// hosted service starts), and the store's readiness check. The bus and its readiness check (MassTransit's) come
    /// with each host's consumers, on <see cref="HubTransport.UsingHubTransport"/>.
    /// </summary>
    public static WebApplicationBuilder AddHubServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.AddHubLogRedaction();
        builder.AddHubTelemetry();
        builder.Services.AddHubStore(builder.Configuration);
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: ["ready"]);
        return builder;
    }

    /// <summary>The endpoints every process serves: <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c>.</summary>
    public static WebApplication MapHubDefaultEndpoints(this WebApplication app)
    {
        app.MapHubHealthEndpoints();
        app.MapHubMetrics();
        return app;
    }
}
