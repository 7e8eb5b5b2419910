using Dapper;
using Hub.Tests.Fixtures;
using Npgsql;
using RabbitMQ.Client;

namespace Hub.Bench.Running;

/// <summary>
/// PostgreSQL and RabbitMQ for the production-topology scenarios: the tests' server containers, started on first
/// use, or the servers named by HUB_TEST_POSTGRES / HUB_TEST_RABBITMQ_URL.
/// </summary>
public sealed class Servers : IAsyncDisposable
{
    private PostgresServer? _postgres;
    private RabbitMqServer? _rabbitMq;
    private int _postgresProcess;
    private IReadOnlyList<int> _rabbitMqProcesses = [];

    private static string? ExternalPostgres => Environment.GetEnvironmentVariable(PostgresFixture.ConnectionStringVariable) is { Length: > 0 } value ? value : null;

    private static string? ExternalRabbitMq => Environment.GetEnvironmentVariable(RabbitMqFixture.UrlVariable) is { Length: > 0 } value ? value : null;

    /// <summary>A fresh, empty database.</summary>
    public async Task<string> DatabaseAsync()
    {
        if (ExternalPostgres is { } external)
        {
            return await PostgresServer.CreateDatabaseOnAsync(external, null);
        }

        if (_postgres is null)
        {
            _postgres = await PostgresServer.StartAsync();
            _postgresProcess = await _postgres.ProcessIdAsync();
        }

        return await _postgres.CreateDatabaseAsync();
    }

    /// <summary>A fresh virtual host on the broker container; with HUB_TEST_RABBITMQ_URL, that URL as it is.</summary>
    public async Task<string> VirtualHostAsync()
    {
        if (ExternalRabbitMq is { } external)
        {
            return external;
        }

        if (_rabbitMq is null)
        {
            _rabbitMq = await RabbitMqServer.StartAsync();
            _rabbitMqProcesses = await _rabbitMq.ProcessIdsAsync();
        }

        return await _rabbitMq.CreateVirtualHostAsync();
    }

    public string Where => (ExternalPostgres is null ? "PostgreSQL: container started by the bench on this machine (fsync off, as the tests run it)" : "PostgreSQL: HUB_TEST_POSTGRES")
        + "; " + (ExternalRabbitMq is null ? "RabbitMQ: container started by the bench on this machine" : "RabbitMQ: HUB_TEST_RABBITMQ_URL");

    /// <summary>
    /// The server containers' process trees (seen from this machine), for <see cref="CpuBreakdown"/>. A server named by HUB_TEST_* has none:
    /// its processes, if on this machine, count as everything else.
    /// </summary>
    public IEnumerable<CpuBreakdown.Source> CpuSources()
    {
        if (_postgres is not null)
        {
            var process = _postgresProcess;
            yield return new CpuBreakdown.Source("PostgreSQL", () => [process]);
        }

        if (_rabbitMq is not null)
        {
            var processes = _rabbitMqProcesses;
            yield return new CpuBreakdown.Source("RabbitMQ", () => processes);
        }
    }

    public static async Task<string> PostgresVersionAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<string>("SHOW server_version") ?? "?";
    }

    public static async Task<string> RabbitMqVersionAsync(string amqpUrl)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl) };
        await using var connection = await factory.CreateConnectionAsync();
        return connection.ServerProperties is { } properties && properties.TryGetValue("version", out var version) && version is byte[] bytes
            ? System.Text.Encoding.UTF8.GetString(bytes)
            : "?";
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        if (_rabbitMq is not null)
        {
            await _rabbitMq.DisposeAsync();
        }
    }
}
