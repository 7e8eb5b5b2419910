using System.Net.Http.Headers;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Hub.Consumers.Outbound;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Support;

/// <summary>Where a test host keeps its data and how its bus runs; nulls mean the embedded default (and the system clock).</summary>
public sealed record HubTopology(string? Postgres = null, string? RabbitMq = null, string? NodeId = null, IReadOnlyDictionary<string, string>? Settings = null,
    TimeProvider? Clock = null, Action<IServiceCollection>? Services = null);

/// <summary>
/// The whole hub in-process. By default the embedded topology: SQLite in a fresh temporary data
/// directory and the consumers on MassTransit's test harness. With a <see cref="HubTopology"/> it runs
/// on a real PostgreSQL and/or RabbitMQ (an Api node of the production topology, without consumers).
/// Either way <see cref="ConsumedEvents"/> tells tests when a consumer finished an event.
/// </summary>
public sealed class HubApiFactory(HubTopology? topology = null) : WebApplicationFactory<Program>
{
    public const string AdminKey = "hubk_test-admin-key-for-the-embedded-hub";

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "hub-tests", Guid.NewGuid().ToString("N"));

    public ITestHarness Harness => Services.GetTestHarness();

    /// <summary>What the hub's outbound policy (webhooks, CRM lookups) resolves names with.</summary>
    public TestDns Dns { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Hub:DataDirectory", DataDirectory);
        builder.UseSetting("Hub:AdminApiKey", AdminKey);
        // One certificate for every host, as for every process of one deployment; a test's Settings may override it.
        builder.UseSetting("Hub:DataProtection:Certificate", TestKeyRing.SharedCertificate);
        if (topology?.Postgres is { } postgres)
        {
            builder.UseSetting("ConnectionStrings:Postgres", postgres);
        }

        if (topology?.RabbitMq is { } rabbitMq)
        {
            builder.UseSetting("Hub:Bus", "rabbitmq");
            builder.UseSetting("ConnectionStrings:RabbitMq", rabbitMq);
        }

        if (topology?.NodeId is { } nodeId)
        {
            builder.UseSetting("Hub:NodeId", nodeId);
        }

        foreach (var (key, value) in topology?.Settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<ConsumedEvents>();
            services.AddSingleton<OutboundResolver>(Dns);
            services.AddConsumeObserver(provider => provider.GetRequiredService<ConsumedEvents>());
            if (topology?.Clock is { } clock)
            {
                services.AddSingleton(clock);
            }

            topology?.Services?.Invoke(services);

            if (topology?.RabbitMq is not null)
            {
                return;
            }

            services.AddMassTransitTestHarness();

            // The default inactivity window (about a second) ends a wait while consumers queue for
            // SQLite's single writer on a loaded 2-core machine; it only lengthens a failing wait.
            services.Configure<TestHarnessOptions>(options =>
            {
                options.TestInactivityTimeout = TimeSpan.FromSeconds(10);
                options.TestTimeout = TimeSpan.FromSeconds(60);
            });
        });
    }

    public HttpClient ClientWithKey(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HttpClient Admin() => ClientWithKey(AdminKey);

    /// <summary>A signed-in agent on <c>/hubs/agent</c> that said Hello, as the relay does before it sends anything.</summary>
    public async Task<AgentConnection> ConnectAgentAsync(string sessionToken)
    {
        var agent = await AgentConnection.StartAsync(CreateAgentConnection(sessionToken));

        // Hello completes only after the hub registered the connection, as a relay would wait for it.
        await agent.InvokeAsync("Hello");
        return agent;
    }

    /// <summary>
    /// The real SignalR client over this host's TestServer, asking as the browser relay does: negotiate with the
    /// token as a Bearer header, then the WebSocket with it as <c>access_token</c> (browsers cannot set headers on
    /// a WebSocket). <paramref name="origin"/> goes on both; <paramref name="skipNegotiation"/> goes straight to the upgrade.
    /// </summary>
    public HubConnection CreateAgentConnection(string sessionToken, string? origin = null, bool skipNegotiation = false) =>
        CreateAgentConnection(Server, sessionToken, origin, skipNegotiation);

    /// <inheritdoc cref="CreateAgentConnection(string, string?, bool)"/>
    public static HubConnection CreateAgentConnection(TestServer server, string sessionToken, string? origin = null, bool skipNegotiation = false) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, "hubs/agent"), options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = skipNegotiation;
                options.HttpMessageHandlerFactory = _ => server.CreateHandler();
                options.AccessTokenProvider = () => Task.FromResult<string?>(sessionToken);
                if (origin is not null)
                {
                    options.Headers["Origin"] = origin;
                }

                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var websockets = server.CreateWebSocketClient();
                    websockets.ConfigureRequest = request =>
                    {
                        foreach (var (name, value) in context.Options.Headers)
                        {
                            request.Headers[name] = value;
                        }
                    };
                    var separator = string.IsNullOrEmpty(context.Uri.Query) ? "?" : "&";
                    var uri = new Uri($"{context.Uri}{separator}access_token={Uri.EscapeDataString(sessionToken)}");
                    return await websockets.ConnectAsync(uri, cancellationToken);
                };
            })
            .AddHubJson()
            .Build();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite handle may outlive the host briefly; the temp directory is only clutter.
        }
    }
}
