using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Hub.Tests.Fixtures;

/// <summary>
/// A private PostgreSQL server from Debian's packages: initdb into /tmp/hub-test-pg-*, run as the
/// <c>postgres</c> user on a free loopback port, trust auth, durability off. Stopped (immediate)
/// and deleted on dispose, and by its <see cref="Watchdog"/> when the test process ends in any way.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private const string User = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string binDirectory;
    private readonly string root;
    private readonly string dataDirectory;
    private readonly string logFile;
    private readonly Watchdog watchdog;
    private int disposed;

    private PostgresServer(string binDirectory, string root, int port)
    {
        this.binDirectory = binDirectory;
        this.root = root;
        dataDirectory = Path.Combine(root, "data");
        logFile = Path.Combine(root, "postgres.log");
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Pooling = true,
            MaxPoolSize = 50,
        }.ConnectionString;
        watchdog = Watchdog.Start(root, CleanupScript, StopArguments(binDirectory, root));
    }

    public int Port { get; }

    /// <summary>The postmaster's process id (every backend is its child), from its postmaster.pid.</summary>
    public int ProcessId =>
        int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    /// <summary>Connection string for the <c>postgres</c> maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>initdb + start + first connection.</summary>
    public TimeSpan StartupDuration { get; private set; }

    public static async Task<PostgresServer> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        var binDirectory = FindBinDirectory();
        await ServerProcess.CleanUpAbandonedAsync("pg", CleanupScript, directory => StopArguments(binDirectory, directory));

        var root = await ServerProcess.CreateTempDirectoryAsync("pg", User);
        var server = new PostgresServer(binDirectory, root, ServerProcess.FreePorts(1)[0]);
        try
        {
            await server.InitAndStartAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        server.StartupDuration = stopwatch.Elapsed;
        return server;
    }

    /// <summary>Creates a fresh, empty database (default name <c>hub_&lt;guid&gt;</c>) and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string? name = null) => CreateDatabaseOnAsync(ConnectionString, name);

    /// <summary>Creates a database on any server the given (privileged) connection string reaches.</summary>
    internal static async Task<string> CreateDatabaseOnAsync(string adminConnectionString, string? name)
    {
        name ??= $"hub_{Guid.NewGuid():N}";
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a plain lower-case database name.", nameof(name));
        }
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync();
            // template0: nobody is ever connected to it, so concurrent CREATE DATABASEs never collide.
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Stops the server (immediate) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            await watchdog.DisposeAsync();
        }
    }

    private async Task InitAndStartAsync()
    {
        await ServerProcess.RunCheckedAsync(
            Command("initdb", "-D", dataDirectory, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                "--no-sync", "--no-instructions"),
            CommandTimeout);

        var options = string.Join(' ',
            "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", root,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=300");
        var (exitCode, output) = await ServerProcess.RunAsync(
            Command("pg_ctl", "start", "-w", "-t", "60", "-D", dataDirectory, "-l", logFile, "-o", options),
            StartTimeout + TimeSpan.FromSeconds(10));
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"pg_ctl start exited with {exitCode}:\n{output}\n{ServerProcess.Tail(logFile)}");
        }

        await ServerProcess.WaitUntilAsync(
            $"PostgreSQL on port {Port}",
            CanConnectAsync,
            StartTimeout,
            () => ServerProcess.Tail(logFile));
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private ProcessStartInfo Command(string tool, params string[] arguments) =>
        ServerProcess.StartInfo(User, Path.Combine(binDirectory, tool), arguments, root,
            new Dictionary<string, string> { ["HOME"] = root, ["LC_ALL"] = "C" });

    // Run by the watchdog when the server is disposed or the test process ends: $0 is the server's directory.
    private const string CleanupScript = "[ -f \"$0/data/postmaster.pid\" ] && \"$@\"";

    private static IEnumerable<string> StopArguments(string binDirectory, string root) =>
        ServerProcess.AsUser(User).Concat(
            [Path.Combine(binDirectory, "pg_ctl"), "stop", "-D", Path.Combine(root, "data"), "-m", "immediate", "-w", "-t", "30"]);

    private static string FindBinDirectory()
    {
        const string installations = "/usr/lib/postgresql";
        var bin = Directory.Exists(installations)
            ? Directory.EnumerateDirectories(installations)
                .Select(d => (Directory: d, Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => d.Version >= 0 && File.Exists(Path.Combine(d.Directory, "bin", "initdb")) && File.Exists(Path.Combine(d.Directory, "bin", "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Directory, "bin"))
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl) not found under {installations}/*/bin. " +
            $"Install the test servers: {ServerProcess.InstallHint} (or set {PostgresFixture.ConnectionStringVariable} to use an existing server).");
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}

/// <summary>
/// One PostgreSQL server for the whole test run (started on first use, stopped when the test
/// process exits); use as <c>IClassFixture&lt;PostgresFixture&gt;</c> or a collection fixture and call
/// <see cref="CreateDatabaseAsync"/> for an empty database per test host.
/// With <c>HUB_TEST_POSTGRES</c> set (an Npgsql connection string whose user may CREATE DATABASE),
/// databases are created on that server instead; they are not dropped afterwards.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "HUB_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(PostgresServer.StartAsync);

    private string? connectionString;

    /// <summary>The maintenance database of the shared (or external) server.</summary>
    public string ConnectionString =>
        connectionString ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public bool IsExternal { get; private set; }

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        IsExternal = !string.IsNullOrWhiteSpace(external);
        connectionString = IsExternal ? external : (await Shared.Value).ConnectionString;
    }

    public Task<string> CreateDatabaseAsync(string? name = null) =>
        PostgresServer.CreateDatabaseOnAsync(ConnectionString, name);

    // The shared server outlives test classes; its watchdog stops it when the test process ends.
    public Task DisposeAsync() => Task.CompletedTask;
}
