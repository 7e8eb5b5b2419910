using Hub.Tests.Fixtures;
using Xunit.Abstractions;
using static Hub.Tests.Faults.RecoveryFigures;

namespace Hub.Tests.Faults;

/// <summary>Hub.Workers processes killed with SIGKILL while they write batches of a stream of calls.</summary>
[Collection(ProductionCollection.Name)]
public sealed class WorkerCrashTests(PostgresFixture postgres, RabbitMqFixture rabbitMq, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_worker_killed_mid_batch_and_started_again_logs_every_acked_event_exactly_once()
    {
        var topology = new FaultTopology(await postgres.CreateDatabaseAsync(), await rabbitMq.CreateVirtualHostAsync(), "worker-kill");
        // Workers first: their durable queues must be bound before anything is published.
        var workers = await topology.StartWorkersAsync("workers-1");
        await using var api = await topology.StartApiAsync("api-a");
        var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([api.Url], 4);
        await using var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5));
        try
        {
            await traffic.WaitForAcksAsync(400, Timeout);
            await workers.KillAsync();
            var loggedAtKill = await CallLogAudit.LoggedCountAsync(topology.Postgres, tenantId);
            var ackedAtKill = traffic.AckedCount;

            // The Api does not need the workers to ack: events wait on the broker meanwhile.
            await traffic.WaitForMoreAcksAsync(300, Timeout);
            await workers.DisposeAsync();
            workers = await topology.StartWorkersAsync("workers-2");
            var backlog = traffic.AckedCount;
            var caughtUp = await CallLogAudit.WaitUntilLoggedAsync(topology.Postgres, tenantId, backlog);
            Report(output, "Hub.Workers SIGKILLed mid-batch",
                $"killed with {ackedAtKill - loggedAtKill} of {ackedAtKill} acked events not yet logged; the restarted process logged the {backlog} acked by then {Seconds(caughtUp)} after it was ready");

            await traffic.WaitForMoreAcksAsync(300, Timeout);
            await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, await traffic.StopAsync());
        }
        finally
        {
            await workers.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_competing_worker_processes_log_every_acked_event_exactly_once_when_one_is_killed()
    {
        var topology = new FaultTopology(await postgres.CreateDatabaseAsync(), await rabbitMq.CreateVirtualHostAsync(), "competing-workers");
        await using var survivor = await topology.StartWorkersAsync("workers-1");
        var victim = await topology.StartWorkersAsync("workers-2");
        await using var api = await topology.StartApiAsync("api-a");
        var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([api.Url], 4);
        await using var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5));
        try
        {
            await traffic.WaitForAcksAsync(400, Timeout);
            await victim.KillAsync();
            var killedAt = traffic.Now;
            var ackedAtKill = traffic.AckedCount;
            // What the killed process held unacked goes back to the queue, and the other process takes it.
            await CallLogAudit.WaitUntilLoggedAsync(topology.Postgres, tenantId, ackedAtKill);
            Report(output, "One of two Hub.Workers SIGKILLed",
                $"the other logged all {ackedAtKill} events acked at the kill {Seconds(traffic.Now - killedAt)} after it");

            await traffic.WaitForMoreAcksAsync(300, Timeout);
            await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, await traffic.StopAsync());
        }
        finally
        {
            await victim.DisposeAsync();
        }
    }
}
