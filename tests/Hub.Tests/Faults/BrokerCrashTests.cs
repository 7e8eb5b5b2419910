using Hub.Tests.Fixtures;
using Xunit.Abstractions;
using static Hub.Tests.Faults.RecoveryFigures;

namespace Hub.Tests.Faults;

/// <summary>The broker killed (SIGKILL, not a clean stop) and started again while agents publish calls.</summary>
[Collection(ProductionCollection.Name)]
public sealed class BrokerCrashTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private RabbitMqServer _broker = null!;

    // A broker of its own: killing the shared one would break the other tests.
    public async Task InitializeAsync() => _broker = await RabbitMqServer.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Every_acked_event_is_logged_exactly_once_across_a_broker_crash_and_acks_resume_by_themselves()
    {
        var topology = new FaultTopology(await postgres.CreateDatabaseAsync(), _broker.AmqpUrl, "broker-kill");
        await using var workers = await topology.StartWorkersAsync("workers-1");
        await using var api = await topology.StartApiAsync("api-a");
        var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([api.Url], 4);
        await using var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5));

        await traffic.WaitForAcksAsync(300, Timeout);
        await _broker.StopAsync(abrupt: true);
        // Nothing is acked without the broker's confirm: the agents keep their events and retry.
        await traffic.WaitForRefusalAsync(Timeout);

        await _broker.StartAgainAsync();
        var back = traffic.Now;
        var firstAck = await traffic.FirstAckAfterAsync(back, Timeout);
        Report(output, "RabbitMQ SIGKILLed and started again", $"first ack {Seconds(firstAck)} after the broker's return ({traffic.Refusals} refusals meanwhile)");

        await traffic.WaitForMoreAcksAsync(300, Timeout);
        await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, await traffic.StopAsync());
    }
}
