using Hub.Tests.Fixtures;
using Xunit.Abstractions;
using static Hub.Tests.Faults.RecoveryFigures;

namespace Hub.Tests.Faults;

/// <summary>An Api node killed (SIGKILL) while its agents publish: they reconnect to the other node and send again what was not acked.</summary>
[Collection(ProductionCollection.Name)]
public sealed class ApiNodeCrashTests(PostgresFixture postgres, RabbitMqFixture rabbitMq, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Agents_of_a_killed_node_carry_on_through_the_other_and_every_acked_event_is_logged_exactly_once()
    {
        var topology = new FaultTopology(await postgres.CreateDatabaseAsync(), await rabbitMq.CreateVirtualHostAsync(), "api-kill");
        await using var workers = await topology.StartWorkersAsync("workers-1");
        var nodeA = await topology.StartApiAsync("api-a");
        await using var nodeB = await topology.StartApiAsync("api-b");
        try
        {
            // Every agent is on node A first, and goes to B when A is gone.
            var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([nodeA.Url, nodeB.Url], 4);
            await using var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5));
            await traffic.WaitForAcksAsync(400, Timeout);
            Assert.All(traffic.Acked, ack => Assert.Equal(0, ack.Node));

            await nodeA.KillAsync();
            var killedAt = traffic.Now;
            var firstAck = await traffic.FirstAckAfterAsync(killedAt, Timeout);
            Report(output, "A Hub.Api node SIGKILLed with its agents connected",
                $"first ack through the other node {Seconds(firstAck)} after the kill ({agents.Count} agents reconnected)");

            await traffic.WaitForMoreAcksAsync(300, Timeout);
            var acked = await traffic.StopAsync();
            Assert.Equal(agents.Count, traffic.Reconnects);
            Assert.All(acked.Where(ack => ack.At > killedAt), ack => Assert.Equal(1, ack.Node));
            await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, acked);
        }
        finally
        {
            await nodeA.DisposeAsync();
        }
    }
}
