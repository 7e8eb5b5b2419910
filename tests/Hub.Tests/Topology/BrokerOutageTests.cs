using System.Diagnostics;
using System.Net;
using Dapper;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Npgsql;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Topology;

/// <summary>The broker process is stopped in the middle of a stream of events and started again.</summary>
[Collection(ProductionCollection.Name)]
public sealed class BrokerOutageTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RabbitMqServer _broker = null!;
    private string _database = "";
    private WorkerProcess _workers = null!;
    private HubApiFactory _api = null!;

    public async Task InitializeAsync()
    {
        // A broker of its own: stopping the shared one would break the other tests.
        _broker = await RabbitMqServer.StartAsync();
        _database = await postgres.CreateDatabaseAsync();
        _workers = await WorkerProcess.StartAsync(_database, _broker.AmqpUrl);
        // A short publish timeout keeps each refused attempt during the outage quick.
        _api = new HubApiFactory(new HubTopology(_database, _broker.AmqpUrl, "api-outage",
            new Dictionary<string, string> { ["Hub:PublishTimeout"] = "00:00:02" }));
        _ = _api.Server;
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _workers.DisposeAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Every_acked_event_is_logged_once_across_a_broker_restart_and_publishing_resumes_by_itself()
    {
        var (_, crm) = await CreateTenantAsync(_api, "Acme");
        await using var agent = await ConnectAgentAsync(_api, crm, "agent-7");
        var acked = new List<(Guid EventId, string CallId)>();
        var refused = 0;

        async Task<bool> PublishAsync(int n)
        {
            var eventId = Guid.NewGuid();
            var callId = $"call-{n}";
            try
            {
                var ack = await agent.InvokeAsync("Publish", Envelope("incoming_call", Call(callId, "0912345678"), eventId, n));
                Assert.Equal("accepted", ack.GetProperty("status").GetString());
                acked.Add((eventId, callId));
                return true;
            }
            catch (HubInvocationException exception)
            {
                Assert.StartsWith("bus_unavailable:", exception.HubMessage);
                refused++;
                return false;
            }
        }

        var n = 0;
        for (; n < 20; n++)
        {
            Assert.True(await PublishAsync(n));
        }

        await _broker.StopAsync();
        Assert.False(await PublishAsync(n++), "A publish while the broker is down must not be acked.");
        Assert.False(await PublishAsync(n++), "A publish while the broker is down must not be acked.");
        using var client = _api.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);

        await _broker.StartAgainAsync();
        var back = Stopwatch.StartNew();
        while (!await PublishAsync(n++))
        {
            Assert.True(back.Elapsed < TimeSpan.FromSeconds(15), $"Publishing did not resume within 15 s of the broker's return ({refused} refused).");
        }

        Assert.True(back.Elapsed < TimeSpan.FromSeconds(15), $"Publishing resumed only after {back.Elapsed}.");
        for (var more = 0; more < 20; more++)
        {
            Assert.True(await PublishAsync(n++));
        }

        foreach (var (eventId, _) in acked)
        {
            await _workers.WaitAsync("hub-events", eventId);
        }

        await using var connection = new NpgsqlConnection(_database);
        var logged = (await connection.QueryAsync<(string EventId, string CallId)>("SELECT event_id, call_id FROM call_events")).ToList();
        foreach (var (eventId, callId) in acked)
        {
            Assert.Single(logged, row => row.EventId == eventId.ToString());
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM calls WHERE call_id = @callId", new { callId }));
        }

        Assert.Equal(logged.Count, logged.Select(row => row.EventId).Distinct().Count());

        // Readiness has no push signal, so it is polled, with a deadline. It returns once MassTransit
        // has reconnected every receive endpoint, including this node's auto-delete push queue that
        // the broker's restart removed; a screen-pop arriving proves that queue is back.
        var ready = Stopwatch.StartNew();
        while ((await client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(ready.Elapsed < TimeSpan.FromSeconds(30), "/health/ready did not recover within 30 s of the broker's return.");
            await Task.Delay(200);
        }

        var pops = agent.Subscribe("ScreenPop");
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-after", "0912345678")));
        // Pops of the calls published just after the restart may still be on their way: skip those.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await pops.ReadAsync(deadline.Token)).GetProperty("call_id").GetString() != "call-after")
        {
        }
    }
}
