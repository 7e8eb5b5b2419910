using System.Diagnostics;
using System.Security.Cryptography;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Hub.Tests.Fixtures;

/// <summary>
/// A private RabbitMQ node from Debian's packages, run as the <c>rabbitmq</c> user from
/// /tmp/hub-test-rabbit-*: its own node name, Erlang cookie, epmd (on a private port, started
/// and reaped by this class), AMQP and distribution ports on loopback, no plugins.
/// guest/guest may connect (loopback_users = none). Killed and deleted on dispose, and by its
/// <see cref="Watchdog"/> when the test process ends in any way. <see cref="StopAsync"/> and
/// <see cref="StartAgainAsync"/> really stop and restart the node on the same port and data
/// directory; use them only on an instance of your own, never on the shared one.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    private const string User = "rabbitmq";
    private const string Scripts = "/usr/lib/rabbitmq/bin";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    // Run by the watchdog when the server is disposed or the test process ends: $0 is the
    // server's directory. Kills the launcher's and epmd's process groups (and beam, in case it
    // outlived its group leader), then waits until they are gone before the directory goes.
    private const string CleanupScript = """
        for f in launcher epmd; do p=$(cat "$0/$f.pid" 2>/dev/null); owned "$p" && kill -KILL -- "-$p"; done
        p=$(cat "$0/beam.pid" 2>/dev/null); owned "$p" && kill -KILL "$p"
        for f in launcher epmd beam; do
          p=$(cat "$0/$f.pid" 2>/dev/null); n=0
          while owned "$p" && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
        done
        """;

    private readonly string root;
    private readonly int epmdPort;
    private readonly Dictionary<string, string> environment;
    private readonly string serverLog;
    private readonly SemaphoreSlim transitions = new(1, 1);
    private readonly Watchdog watchdog;
    private Process? epmd;
    private Process? launcher;
    private int disposed;

    private RabbitMqServer(string root, int amqpPort, int distributionPort, int epmdPort)
    {
        this.root = root;
        this.epmdPort = epmdPort;
        AmqpPort = amqpPort;
        NodeName = $"hub-test-{Guid.NewGuid():N}@localhost";
        serverLog = Path.Combine(root, "server.log");
        environment = new Dictionary<string, string>
        {
            // The Erlang cookie is read from $HOME/.erlang.cookie by the node and by rabbitmqctl alike.
            ["HOME"] = Path.Combine(root, "home"),
            ["LANG"] = "C.UTF-8",
            ["LC_ALL"] = "C.UTF-8",
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_NODE_PORT"] = Invariant(amqpPort),
            ["RABBITMQ_DIST_PORT"] = Invariant(distributionPort),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(root, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(root, "log"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(root, "rabbitmq.conf"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(root, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(root, "rabbitmq-env.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(root, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(root, "beam.pid"),
            // Never spawn a shared, daemonized epmd (the default); this node's own epmd is listening.
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
            ["ERL_EPMD_PORT"] = Invariant(epmdPort),
        };
        watchdog = Watchdog.Start(root, CleanupScript, []);
    }

    public int AmqpPort { get; }

    public string NodeName { get; }

    /// <summary>The node's own processes: its epmd and the rabbitmq-server launcher, whose descendants are beam.smp and its helpers.</summary>
    public IReadOnlyList<int> ProcessIds => [.. new[] { epmd?.Id, launcher?.Id }.OfType<int>()];

    public string AmqpUrl => $"amqp://guest:guest@127.0.0.1:{Invariant(AmqpPort)}/";

    /// <summary>From the call to <see cref="StartAsync"/> until an AMQP connection succeeds.</summary>
    public TimeSpan StartupDuration { get; private set; }

    public static async Task<RabbitMqServer> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        const string alternative = $"set {RabbitMqFixture.UrlVariable} to use an existing broker";
        ServerProcess.RequireFile(Path.Combine(Scripts, "rabbitmq-server"), "RabbitMQ server (rabbitmq-server)", alternative);
        ServerProcess.RequireFile(Path.Combine(Scripts, "rabbitmqctl"), "RabbitMQ control (rabbitmqctl)", alternative);
        ServerProcess.RequireFile(EpmdPath, "Erlang port mapper (epmd)", alternative);
        await ServerProcess.CleanUpAbandonedAsync("rabbit", CleanupScript, _ => []);

        var root = await ServerProcess.CreateTempDirectoryAsync("rabbit", User);
        var ports = ServerProcess.FreePorts(3);
        var server = new RabbitMqServer(root, ports[0], ports[1], ports[2]);
        try
        {
            await server.PrepareAsync();
            await server.StartEpmdAsync();
            await server.StartNodeAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        server.StartupDuration = stopwatch.Elapsed;
        return server;
    }

    /// <summary>
    /// Stops the node for real and waits until its AMQP port is closed. Graceful by default
    /// (SIGTERM: the node shuts down cleanly); <paramref name="abrupt"/> SIGKILLs it instead.
    /// </summary>
    public async Task StopAsync(bool abrupt = false)
    {
        await transitions.WaitAsync();
        try
        {
            var node = launcher ?? throw new InvalidOperationException("The node is not running.");
            if (!abrupt)
            {
                // The rabbitmq-server script traps TERM, passes it to beam and waits for it.
                await ServerProcess.SignalAsync("TERM", node.Id);
                using var deadline = new CancellationTokenSource(StopTimeout);
                try
                {
                    await node.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    // Falls through to the group kill.
                }
            }
            // The whole group: beam and its helpers (erl_child_setup, inet_gethost, disk monitor).
            await ServerProcess.SignalAsync("KILL", -node.Id);
            await node.WaitForExitAsync();
            node.Dispose();
            launcher = null;
            File.Delete(Path.Combine(root, "launcher.pid"));
            await ServerProcess.WaitUntilAsync(
                $"RabbitMQ node {NodeName} stopping",
                async () => !await ServerProcess.IsPortOpenAsync(AmqpPort),
                StopTimeout,
                () => ServerProcess.Tail(serverLog));
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Starts the stopped node again: same node name, port and data (durable queues and persistent messages survive).</summary>
    public async Task StartAgainAsync()
    {
        await transitions.WaitAsync();
        try
        {
            if (launcher is not null)
            {
                throw new InvalidOperationException("The node is already running.");
            }
            await StartNodeAsync();
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Adds a virtual host <c>hub-&lt;guid&gt;</c> where guest has all permissions; returns its AMQP URL.</summary>
    public async Task<string> CreateVirtualHostAsync()
    {
        var virtualHost = $"hub-{Guid.NewGuid():N}";
        await RabbitMqCtlAsync("add_vhost", virtualHost);
        await RabbitMqCtlAsync("set_permissions", "-p", virtualHost, "guest", ".*", ".*", ".*");
        return AmqpUrl + Uri.EscapeDataString(virtualHost);
    }

    /// <summary>Kills the node and its epmd and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        await transitions.WaitAsync();
        try
        {
            await watchdog.DisposeAsync();
            launcher?.Dispose();
            epmd?.Dispose();
        }
        finally
        {
            transitions.Release();
        }
        transitions.Dispose();
    }

    private async Task PrepareAsync()
    {
        Directory.CreateDirectory(environment["HOME"]);
        Directory.CreateDirectory(environment["RABBITMQ_MNESIA_BASE"]);
        Directory.CreateDirectory(environment["RABBITMQ_LOG_BASE"]);
        await File.WriteAllTextAsync(environment["RABBITMQ_CONFIG_FILE"], string.Join('\n',
            $"listeners.tcp.default = 127.0.0.1:{Invariant(AmqpPort)}",
            "loopback_users = none",
            // A small /tmp or a container's memory limit must not raise alarms that block publishers.
            "disk_free_limit.absolute = 1MB",
            "vm_memory_high_watermark.absolute = 1GB",
            // One log: the console, which goes to server.log.
            "log.file = false",
            "log.console = true",
            "log.console.level = info",
            ""));
        await File.WriteAllTextAsync(environment["RABBITMQ_CONF_ENV_FILE"], "");
        await File.WriteAllTextAsync(environment["RABBITMQ_ENABLED_PLUGINS_FILE"], "[].\n");
        var cookie = Path.Combine(environment["HOME"], ".erlang.cookie");
        await File.WriteAllTextAsync(cookie, RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 32));
        ServerProcess.SetMode(cookie, UnixFileMode.UserRead);
        await ServerProcess.ChownAsync(root, User);
    }

    private async Task StartEpmdAsync()
    {
        var log = Path.Combine(root, "epmd.log");
        epmd = ServerProcess.StartServer(User, EpmdPath, ["-port", Invariant(epmdPort), "-address", "127.0.0.1"], root, log);
        await File.WriteAllTextAsync(Path.Combine(root, "epmd.pid"), Invariant(epmd.Id) + "\n");
        await ServerProcess.WaitUntilAsync(
            $"epmd on port {epmdPort}",
            () => ServerProcess.IsPortOpenAsync(epmdPort),
            StartTimeout,
            () => ServerProcess.Tail(log),
            epmd);
    }

    private async Task StartNodeAsync()
    {
        var node = ServerProcess.StartServer(User, Path.Combine(Scripts, "rabbitmq-server"), [], root, serverLog, environment);
        await File.WriteAllTextAsync(Path.Combine(root, "launcher.pid"), Invariant(node.Id) + "\n");
        try
        {
            await ServerProcess.WaitUntilAsync(
                $"RabbitMQ node {NodeName} on port {AmqpPort}",
                CanConnectAsync,
                StartTimeout,
                () => ServerProcess.Tail(serverLog),
                node);
        }
        catch
        {
            await ServerProcess.SignalAsync("KILL", -node.Id);
            node.Dispose();
            throw;
        }
        launcher = node;
    }

    private async Task<bool> CanConnectAsync()
    {
        if (!await ServerProcess.IsPortOpenAsync(AmqpPort))
        {
            return false;
        }
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

    private async Task RabbitMqCtlAsync(params string[] arguments)
    {
        var info = ServerProcess.StartInfo(
            User, Path.Combine(Scripts, "rabbitmqctl"), ["-n", NodeName, "-q", .. arguments], root, environment);
        await ServerProcess.RunCheckedAsync(info, CommandTimeout);
    }

    private static string EpmdPath =>
        new[] { "/usr/bin/epmd", "/usr/lib/erlang/bin/epmd" }.FirstOrDefault(File.Exists) ?? "/usr/bin/epmd";

    private static string Invariant(int value) => ServerProcess.Invariant(value);
}

/// <summary>
/// One RabbitMQ node for the whole test run (started on first use, killed when the test process
/// ends); use as <c>IClassFixture&lt;RabbitMqFixture&gt;</c> or a collection fixture and call
/// <see cref="CreateVirtualHostAsync"/> to isolate each test host. Tests that stop the broker
/// must start their own <see cref="RabbitMqServer"/>.
/// With <c>HUB_TEST_RABBITMQ_URL</c> set, <see cref="AmqpUrl"/> is that URL and
/// <see cref="CreateVirtualHostAsync"/> throws <see cref="NotSupportedException"/>: creating a
/// virtual host needs rabbitmqctl on the broker's own node, and silently sharing one virtual host
/// would let test hosts consume each other's messages.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    public const string UrlVariable = "HUB_TEST_RABBITMQ_URL";

    private static readonly Lazy<Task<RabbitMqServer>> Shared = new(RabbitMqServer.StartAsync);

    private RabbitMqServer? server;
    private string? amqpUrl;

    /// <summary>The default virtual host of the shared (or external) broker.</summary>
    public string AmqpUrl => amqpUrl ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public bool IsExternal { get; private set; }

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(UrlVariable);
        IsExternal = !string.IsNullOrWhiteSpace(external);
        if (IsExternal)
        {
            amqpUrl = external;
        }
        else
        {
            server = await Shared.Value;
            amqpUrl = server.AmqpUrl;
        }
    }

    public Task<string> CreateVirtualHostAsync() =>
        IsExternal
            ? throw new NotSupportedException(
                $"{UrlVariable} is set, so there is no local rabbitmqctl node to add a virtual host to. " +
                $"Unset {UrlVariable} to run against a private broker, or use {nameof(AmqpUrl)} with unique queue names.")
            : (server ?? throw new InvalidOperationException("The fixture has not been initialized.")).CreateVirtualHostAsync();

    // The shared node outlives test classes; its watchdog kills it when the test process ends.
    public Task DisposeAsync() => Task.CompletedTask;
}
