using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Hub.Tests.Fixtures;

/// <summary>
/// A PostgreSQL server in a container (Testcontainers' module: durability off, password auth), published
/// on a free loopback port. Removed on dispose, or when the test process exits.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    public const string OfficialImage = "postgres:16";
    public const string LocalImage = "hub-test/postgres:local";

    private readonly PostgreSqlContainer container;

    private PostgresServer(PostgreSqlContainer container)
    {
        this.container = container;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = ContainerEngine.Host,
            Port = container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort),
            Username = PostgreSqlBuilder.DefaultUsername,
            Password = PostgreSqlBuilder.DefaultPassword,
            Database = PostgreSqlBuilder.DefaultDatabase,
            Pooling = true,
            MaxPoolSize = 50,
        }.ConnectionString;
    }

    /// <summary>Connection string for the <c>postgres</c> maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>From the call to <see cref="StartAsync"/> until the server accepts connections.</summary>
    public TimeSpan StartupDuration { get; private set; }

    /// <summary>The postmaster's process id on this machine (every backend is its child), for the bench's CPU figures.</summary>
    public Task<int> ProcessIdAsync() => ContainerEngine.ProcessIdAsync(container);

    public static async Task<PostgresServer> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        var image = await ContainerEngine.ImageAsync(OfficialImage, LocalImage);
        var container = ContainerEngine.Configure(new PostgreSqlBuilder(image))
            // Test hosts each keep a pool; the default 100 is too few for a parallel run.
            .WithCommand("-c", "max_connections=300")
            // Docker gives a container 64 MiB of /dev/shm; parallel queries over a large table (the bench's
            // 1,000,000-call stats) need more, or PostgreSQL answers 53100 "could not resize shared memory segment".
            .WithCreateParameterModifier(parameters =>
            {
                parameters.HostConfig ??= new();
                parameters.HostConfig.ShmSize = 1L << 30;
            })
            .Build();
        await ContainerEngine.StartAsync(container);
        return new PostgresServer(container) { StartupDuration = stopwatch.Elapsed };
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
