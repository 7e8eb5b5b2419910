using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Hub.Tests.Fixtures;

/// <summary>
/// A PostgreSQL server in a container (Testcontainers' module: durability off, password auth), published
/// on a loopback port chosen here and bound explicitly, so <see cref="StopAsync"/> and
/// <see cref="StartAgainAsync"/> stop and restart it on the same port and data; use them only on an
/// instance of your own, never on the shared one. Removed on dispose, or when the test process exits.
/// </summary>
/// <remarks>
/// The module turns durability off: <c>fsync</c> and <c>full_page_writes</c> (which only matter when the machine
/// itself crashes: a killed server's writes are in the kernel's page cache) and <c>synchronous_commit</c>, which
/// does matter to a killed server: it answers a COMMIT before its WAL leaves the server's memory, so a crash loses
/// the last commits it confirmed. A server that tests kill is started <c>crashSafe</c>, with it on, as in production.
/// </remarks>
public sealed partial class PostgresServer : IAsyncDisposable
{
    public const string OfficialImage = "postgres:16";
    public const string LocalImage = "hub-test/postgres:local";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly PostgreSqlContainer container;
    private readonly SemaphoreSlim transitions = new(1, 1);
    private bool running = true;

    private PostgresServer(PostgreSqlContainer container, int port)
    {
        this.container = container;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = ContainerEngine.Host,
            Port = port,
            Username = PostgreSqlBuilder.DefaultUsername,
            Password = PostgreSqlBuilder.DefaultPassword,
            Database = PostgreSqlBuilder.DefaultDatabase,
            Pooling = true,
            MaxPoolSize = 50,
        }.ConnectionString;
    }

    public int Port { get; }

    /// <summary>Connection string for the <c>postgres</c> maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>From the call to <see cref="StartAsync"/> until the server accepts connections.</summary>
    public TimeSpan StartupDuration { get; private set; }

    /// <summary>The postmaster's process id on this machine (every backend is its child), for the bench's CPU figures.</summary>
    public Task<int> ProcessIdAsync() => ContainerEngine.ProcessIdAsync(container);

    /// <param name="crashSafe">Confirm a commit only once its WAL is written (PostgreSQL's default), for a server that tests kill.</param>
    public static async Task<PostgresServer> StartAsync(bool crashSafe = false)
    {
        var stopwatch = Stopwatch.StartNew();
        var image = await ContainerEngine.ImageAsync(OfficialImage, LocalImage);
        // A fixed host port, not Docker's random one: a restarted container would get a new random port.
        var port = ServerProcess.FreePorts(1)[0];
        var container = ContainerEngine.Configure(new PostgreSqlBuilder(image))
            .WithPortBinding(port, PostgreSqlBuilder.PostgreSqlPort)
            // Test hosts each keep a pool; the default 100 is too few for a parallel run.
            .WithCommand("-c", "max_connections=300")
            // After the module's own "-c synchronous_commit=off": PostgreSQL takes the last value given.
            .WithCommand(crashSafe ? ["-c", "synchronous_commit=on"] : [])
            // Docker gives a container 64 MiB of /dev/shm; parallel queries over a large table (the bench's
            // 1,000,000-call stats) need more, or PostgreSQL answers 53100 "could not resize shared memory segment".
            .WithCreateParameterModifier(parameters =>
            {
                parameters.HostConfig ??= new();
                parameters.HostConfig.ShmSize = 1L << 30;
            })
            .Build();
        await ContainerEngine.StartAsync(container);
        return new PostgresServer(container, port) { StartupDuration = stopwatch.Elapsed };
    }

    /// <summary>
    /// Stops the server for real and waits until its port is closed: SIGKILL to every process of it when
    /// <paramref name="abrupt"/> (a crash: no checkpoint, open connections reset), else a clean shutdown.
    /// </summary>
    public async Task StopAsync(bool abrupt = false)
    {
        await transitions.WaitAsync();
        try
        {
            if (!running)
            {
                throw new InvalidOperationException("The server is not running.");
            }
            await ContainerEngine.StopAsync(container, abrupt, Port, "PostgreSQL");
            running = false;
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Starts the stopped server again (same container, port and data) and returns once it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        await transitions.WaitAsync();
        try
        {
            if (running)
            {
                throw new InvalidOperationException("The server is already running.");
            }
            await ContainerEngine.StartAsync(container);
            running = true;
            // The wait strategy reads the log, where the first start's "ready to accept connections" still is.
            await ServerProcess.WaitUntilAsync($"PostgreSQL on port {Port}", CanConnectAsync, Timeout, () => "");
        }
        finally
        {
            transitions.Release();
        }
    }

    /// <summary>Creates a fresh, empty database (default name <c>hub_&lt;guid&gt;</c>) and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string? name = null) => CreateDatabaseOnAsync(ConnectionString, name);

    /// <summary>Creates a database on any server the given (privileged) connection string reaches.</summary>
    internal static async Task<string> CreateDatabaseOnAsync(string adminConnectionString, string? name)
    {
        name ??= $"hub_{Guid.NewGuid():N}";
        // template0: nobody is ever connected to it, so concurrent CREATE DATABASEs never collide.
        await ExecuteAsync(adminConnectionString, $"CREATE DATABASE \"{Checked(name)}\" TEMPLATE template0 ENCODING 'UTF8'");
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database, closing whatever connections are still open to it.</summary>
    internal static async Task DropDatabaseOnAsync(string adminConnectionString, string name)
    {
        await ExecuteAsync(adminConnectionString, $"DROP DATABASE IF EXISTS \"{Checked(name)}\" WITH (FORCE)");
    }

    public async ValueTask DisposeAsync()
    {
        ContainerEngine.Forget(container);
        await container.DisposeAsync();
        transitions.Dispose();
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Checked(string name) =>
        DatabaseName().IsMatch(name)
            ? name
            : throw new ArgumentException($"'{name}' is not a plain lower-case database name.", nameof(name));

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
