using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Testcontainers.RabbitMq;

namespace Hub.Tests.Fixtures;

/// <summary>
/// A RabbitMQ node in a container (Testcontainers' module, with the management plugin), its AMQP and
/// management ports published on loopback. The host ports are chosen here and bound explicitly, so
/// <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> really stop and restart the node on the same
/// ports and data (durable queues and persistent messages survive); use them only on an instance of your
/// own, never on the shared one. Removed on dispose, or when the test process exits.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    public const string OfficialImage = "rabbitmq:3-management";
    public const string LocalImage = "hub-test/rabbitmq:local";
    private const int ManagementPort = 15672;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly RabbitMqContainer container;
    private readonly SemaphoreSlim transitions = new(1, 1);
    private bool running;

    private RabbitMqServer(RabbitMqContainer container, int amqpPort, int managementPort)
    {
        this.container = container;
        AmqpPort = amqpPort;
        var credentials = $"{RabbitMqBuilder.DefaultUsername}:{RabbitMqBuilder.DefaultPassword}@{ContainerEngine.Host}";
        AmqpUrl = $"amqp://{credentials}:{ServerProcess.Invariant(amqpPort)}/";
        ManagementUrl = new Uri($"http://{credentials}:{ServerProcess.Invariant(managementPort)}/");
    }

    public int AmqpPort { get; }

    /// <summary>The default virtual host, as the container's default user.</summary>
    public string AmqpUrl { get; }

    /// <summary>The management plugin's HTTP API, with the same user in the URL.</summary>
    public Uri ManagementUrl { get; }

    /// <summary>From the call to <see cref="StartAsync"/> until an AMQP connection succeeds.</summary>
    public TimeSpan StartupDuration { get; private set; }

    /// <summary>The node's first process on this machine (its descendants are beam.smp and helpers), for the bench's CPU figures.</summary>
    public async Task<IReadOnlyList<int>> ProcessIdsAsync() => [await ContainerEngine.ProcessIdAsync(container)];

    public static async Task<RabbitMqServer> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        var image = await ContainerEngine.ImageAsync(OfficialImage, LocalImage);
        // Fixed host ports, not Docker's random ones: a restarted container would get new random ports.
        var ports = ServerProcess.FreePorts(2);
        var container = ContainerEngine.Configure(new RabbitMqBuilder(image))
            .WithPortBinding(ports[0], RabbitMqBuilder.RabbitMqPort)
            .WithPortBinding(ports[1], ManagementPort)
            .Build();
        var server = new RabbitMqServer(container, ports[0], ports[1]);
        await server.StartContainerAsync();
        server.StartupDuration = stopwatch.Elapsed;
        return server;
    }

    /// <summary>
    /// Stops the node for real and waits until its AMQP port is closed. Graceful by default (docker stop:
    /// SIGTERM, the node shuts down cleanly); <paramref name="abrupt"/> SIGKILLs it instead.
    /// </summary>
    public async Task StopAsync(bool abrupt = false)
    {
        await transitions.WaitAsync();
        try
        {
            if (!running)
            {
                throw new InvalidOperationException("The node is not running.");
            }
            await ContainerEngine.StopAsync(container, abrupt, AmqpPort, "RabbitMQ");
            running = false;
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Starts the stopped node again: same container, ports and data.</summary>
    public async Task StartAgainAsync()
    {
        await transitions.WaitAsync();
        try
        {
            if (running)
            {
                throw new InvalidOperationException("The node is already running.");
            }
            await StartContainerAsync();
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Adds a virtual host <c>hub-&lt;guid&gt;</c> where the default user has all permissions; returns its AMQP URL.</summary>
    public Task<string> CreateVirtualHostAsync() => RabbitMqManagement.CreateVirtualHostAsync(AmqpUrl, ManagementUrl);

    public async ValueTask DisposeAsync()
    {
        ContainerEngine.Forget(container);
        await container.DisposeAsync();
        transitions.Dispose();
    }

    private async Task StartContainerAsync()
    {
        await ContainerEngine.StartAsync(container);
        running = true;
        // The wait strategy reads the log, where a restarted node's first "startup complete" still is.
        await ServerProcess.WaitUntilAsync($"RabbitMQ on port {AmqpPort}", CanConnectAsync, Timeout, () => "");
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            var factory = new ConnectionFactory
            {
                Uri = new Uri(AmqpUrl),
                AutomaticRecoveryEnabled = false,
                RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            };
            await using var connection = await factory.CreateConnectionAsync();
            return connection.IsOpen;
        }
        catch (BrokerUnreachableException)
        {
            return false;
        }
    }
}
