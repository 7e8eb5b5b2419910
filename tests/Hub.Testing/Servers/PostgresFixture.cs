using Npgsql;

namespace Hub.Tests.Fixtures;

/// <summary>
/// One PostgreSQL server for the whole test run (a container started on first use, removed when the test
/// process exits); use as <c>IClassFixture&lt;PostgresFixture&gt;</c> or a collection fixture and call
/// <see cref="CreateDatabaseAsync"/> for an empty database per test host. The databases a fixture created
/// are dropped when it is disposed (after its test class or collection), so a run does not pile them up.
/// With <c>HUB_TEST_POSTGRES</c> set (an Npgsql connection string whose user may CREATE DATABASE),
/// databases are created, and dropped, on that server instead.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "HUB_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => PostgresServer.StartAsync());

    private readonly List<string> created = []; // connection strings
    private string? connectionString;

    /// <summary>The maintenance database of the shared (or external) server.</summary>
    public string ConnectionString =>
        connectionString ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public bool IsExternal { get; private set; }

    public Task InitializeAsync() => InitializeAsync(Environment.GetEnvironmentVariable(ConnectionStringVariable));

    /// <summary>With a connection string, that server; without, the shared container.</summary>
    internal async Task InitializeAsync(string? external)
    {
        IsExternal = !string.IsNullOrWhiteSpace(external);
        connectionString = IsExternal ? external : (await Shared.Value).ConnectionString;
    }

    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        var database = await PostgresServer.CreateDatabaseOnAsync(ConnectionString, name);
        lock (created)
        {
            created.Add(database);
        }
        return database;
    }

    public async Task DisposeAsync()
    {
        string[] databases;
        lock (created)
        {
            databases = [.. created];
            created.Clear();
        }
        foreach (var database in databases)
        {
            // Pools may still hold connections to it (the test's and its hosts'); WITH (FORCE) closes them.
            await PostgresServer.DropDatabaseOnAsync(ConnectionString, new NpgsqlConnectionStringBuilder(database).Database!);
            using var pooled = new NpgsqlConnection(database);
            NpgsqlConnection.ClearPool(pooled);
        }
    }
}
