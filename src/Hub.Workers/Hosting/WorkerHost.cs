using Hub.Store;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Workers.Hosting;

/// <summary>
/// <c>dotnet run --project src/Hub.Workers</c>: the consumers as their own process, competing with
/// the other worker processes on the same queues. It serves only <c>/health/live</c> and
/// <c>/health/ready</c>. (Not named Program: the Api references this assembly and has its own.)
/// </summary>
public static class WorkerHost
{
    public static void Main(string[] args) => Create(args).Run();

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (!HubTransport.IsRabbitMq(builder.Configuration))
        {
            throw new InvalidOperationException(
                "Hub.Workers runs the consumers of the production topology: set Hub__Bus=rabbitmq. In the embedded default the Api hosts them.");
        }

        builder.Logging.AddHubLogRedaction();
        builder.Services.AddHubStore(builder.Configuration);
        builder.Services.AddHubWorkerServices();
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: ["ready"]);
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddHubWorkers();
            bus.UsingHubTransport(builder.Configuration);
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapHubHealthEndpoints();
        return app;
    }
}
