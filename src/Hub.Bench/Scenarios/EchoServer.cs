using System.Globalization;
using System.Text.Json;
using Hub.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Bench.Scenarios;

/// <summary>
/// The bare SignalR baseline: a minimal ASP.NET Core app in the bench process whose only hub returns what it
/// gets. Same client, protocol and message size as the agents' Publish, none of Hub's logic.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<EchoServer> StartAsync()
    {
        var url = $"http://127.0.0.1:{ServerProcess.FreePorts(1)[0].ToString(CultureInfo.InvariantCulture)}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapHub<EchoHub>("/echo");
        await app.StartAsync();
        return new EchoServer(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed class EchoHub : Microsoft.AspNetCore.SignalR.Hub
    {
        public JsonElement Echo(JsonElement message) => message;
    }
}
