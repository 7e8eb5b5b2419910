using Hub.Consumers;
using Hub.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Support;

/// <summary>A Hub.Workers host of the production topology, in this test process on a real broker and database.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WorkerProcess(WebApplication app) => _app = app;

    public ConsumedEvents Consumed => _app.Services.GetRequiredService<ConsumedEvents>();

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">More command-line settings, e.g. <c>--Hub:Webhooks:AllowHttpLoopback=true</c>.</param>
    public static async Task<WorkerProcess> StartAsync(string postgres, string rabbitMq, params string[] settings)
    {
        // As Hub.Workers' Program.cs composes it, with what tests observe added.
        var builder = WebApplication.CreateBuilder(
            // The Api nodes' key ring certificate; a later setting of the same name overrides it.
            ["--Hub:Bus=rabbitmq", $"--ConnectionStrings:RabbitMq={rabbitMq}", $"--ConnectionStrings:Postgres={postgres}",
                $"--Hub:DataProtection:Certificate={TestKeyRing.SharedCertificate}", .. settings]);
        builder.AddHubServiceDefaults();
        builder.AddHubWorkers();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<ConsumedEvents>();
        builder.Services.AddConsumeObserver(provider => provider.GetRequiredService<ConsumedEvents>());
        var app = builder.Build();
        app.MapHubDefaultEndpoints();
        await app.StartAsync();
        return new WorkerProcess(app);
    }

    public Task WaitAsync(string endpoint, Guid eventId) => Consumed.WaitAsync(endpoint, eventId, TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
