using Hub.Tests.Faults;
using Hub.Tests.Fixtures;
using static Hub.Tests.Telemetry.MetricsTests;

namespace Hub.Tests.Telemetry;

/// <summary><c>GET /metrics</c> on every process of the production topology: real Hub.Api and Hub.Workers processes on RabbitMQ and PostgreSQL.</summary>
[Collection(ProductionCollection.Name)]
public sealed class ProductionMetricsTests(PostgresFixture postgres, RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task The_api_node_and_the_worker_each_serve_their_own_metrics_and_the_libraries()
    {
        var topology = new FaultTopology(await postgres.CreateDatabaseAsync(), await rabbitMq.CreateVirtualHostAsync(), "metrics");
        await using var workers = await topology.StartWorkersAsync("workers-1");
        await using var api = await topology.StartApiAsync("api-a");
        var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([api.Url], 2);
        await using (var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5)))
        {
            await traffic.WaitForAcksAsync(30, TimeSpan.FromSeconds(60));
            await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, await traffic.StopAsync());
        }

        using var apiClient = new HttpClient { BaseAddress = new Uri(api.Url) };
        using var workersClient = new HttpClient { BaseAddress = new Uri(workers.Url) };
        var apiMetrics = await ScrapeAsync(apiClient);
        var workerMetrics = await ScrapeAsync(workersClient);

        Assert.True(Value(apiMetrics, "hub_ingest_events_total", "type=\"incoming_call\"", "outcome=\"accepted\"") >= 10);
        Assert.True(Value(apiMetrics, "hub_ingest_publish_duration_seconds_count") >= 30);
        Assert.Equal(0, Value(apiMetrics, "hub_ingest_events_total", "outcome=\"refused\""));
        Assert.True(Value(workerMetrics, "hub_events_lag_seconds_count") >= 30);
        Assert.True(Value(workerMetrics, "hub_events_batch_size_count") >= 1);
        // Each process its own: the worker ingests nothing, the Api node writes no batches.
        Assert.DoesNotContain("hub_ingest_events_total", Families(workerMetrics));
        Assert.DoesNotContain("hub_events_batch_size", Families(apiMetrics));
        // MassTransit's own instruments, on both (the Api publishes, the worker consumes), and Npgsql's.
        Assert.Contains(Families(workerMetrics), family => family.StartsWith("messaging_masstransit_consume", StringComparison.Ordinal));
        Assert.Contains(Families(apiMetrics), family => family.StartsWith("messaging_masstransit_", StringComparison.Ordinal));
        Assert.Contains(Families(workerMetrics), family => family.StartsWith("db_client_", StringComparison.Ordinal));
    }
}
