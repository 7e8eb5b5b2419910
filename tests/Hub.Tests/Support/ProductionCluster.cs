using Hub.Tests.Fixtures;

namespace Hub.Tests.Support;

/// <summary>
/// The production topology in this test process: one worker host and two Api nodes on a fresh
/// PostgreSQL database and RabbitMQ virtual host of the shared servers.
/// </summary>
public sealed class ProductionCluster : IAsyncDisposable
{
    private ProductionCluster(string database, WorkerProcess workers, HubApiFactory nodeA, HubApiFactory nodeB)
    {
        Database = database;
        Workers = workers;
        NodeA = nodeA;
        NodeB = nodeB;
    }

    public string Database { get; }
    public WorkerProcess Workers { get; }
    public HubApiFactory NodeA { get; }
    public HubApiFactory NodeB { get; }

    public static async Task<ProductionCluster> StartAsync(PostgresFixture postgres, RabbitMqFixture rabbitMq)
    {
        var database = await postgres.CreateDatabaseAsync();
        var broker = await rabbitMq.CreateVirtualHostAsync();

        // Workers first: their durable queues must be bound before anything is published.
        var workers = await WorkerProcess.StartAsync(database, broker);
        var nodeA = new HubApiFactory(new HubTopology(database, broker, "api-a"));
        var nodeB = new HubApiFactory(new HubTopology(database, broker, "api-b"));
        _ = nodeA.Server;
        _ = nodeB.Server;
        return new ProductionCluster(database, workers, nodeA, nodeB);
    }

    public async ValueTask DisposeAsync()
    {
        NodeA.Dispose();
        NodeB.Dispose();
        await Workers.DisposeAsync();
    }
}
