using System.Net;
using Dapper;
using Hub.Store;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Hub.Consumers.CallLog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.CallLog;

/// <summary>Calls that never got a hangup, closed by the sweeper; on each store.</summary>
public abstract class CallSweeperTests : StoreTestBase
{
    [Fact]
    public async Task Stale_open_calls_are_swept_once_and_a_late_hangup_still_gives_the_real_final_record()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        await PublishLoggedAsync(agent,
            Envelope("incoming_call", Call("s-ringing", "0912345678"), seq: 1, occurredAt: start),
            Envelope("incoming_call", Call("s-talking", "0912000111"), seq: 2, occurredAt: start),
            Envelope("call_answered", Call("s-talking"), seq: 3, occurredAt: start.AddSeconds(3)),
            Envelope("call_hold", Call("s-talking"), seq: 4, occurredAt: start.AddSeconds(9)),
            Envelope("incoming_call", Call("s-done", "0912000222"), seq: 5, occurredAt: start),
            Envelope("call_hangup", new { call = new { uuid = "s-done" }, billsec = 0 }, seq: 6, occurredAt: start.AddSeconds(5)),
            Envelope("incoming_call", Call("s-fresh", "0912000333"), seq: 7, occurredAt: start));
        // Their last events were logged five hours ago, except s-fresh's.
        await using (var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("UPDATE calls SET updated_at = updated_at - @age WHERE call_id <> 's-fresh'", new { age = (long)TimeSpan.FromHours(5).TotalMilliseconds });
        }

        var sweeper = Factory.Services.GetServices<IHostedService>().OfType<CallSweeper>().Single();
        // Two workers sweeping at once close each call once.
        var swept = await Task.WhenAll(sweeper.SweepAsync(CancellationToken.None), sweeper.SweepAsync(CancellationToken.None));

        Assert.Equal(2, swept.Sum());
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        var ringing = await ReadAsync(await crm.GetAsync("/api/v1/calls/s-ringing"), HttpStatusCode.OK);
        Assert.Equal("failed", ringing["status"]!.GetValue<string>());
        Assert.Equal("swept", ringing["end_reason"]!.GetValue<string>());
        Assert.Null(ringing["hangup_cause"]);
        Assert.Equal(start.ToUnixTimeMilliseconds(), ringing["ended_at"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        var talking = await ReadAsync(await crm.GetAsync("/api/v1/calls/s-talking"), HttpStatusCode.OK);
        Assert.Equal("failed", talking["status"]!.GetValue<string>());
        Assert.Equal("swept", talking["end_reason"]!.GetValue<string>());
        Assert.Equal(start.AddSeconds(9).ToUnixTimeMilliseconds(), talking["ended_at"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        Assert.Equal(6, talking["talk_seconds"]!.GetValue<int>());
        var done = await ReadAsync(await crm.GetAsync("/api/v1/calls/s-done"), HttpStatusCode.OK);
        Assert.Equal("missed", done["status"]!.GetValue<string>());
        Assert.Null(done["end_reason"]);
        Assert.Equal("ringing", (await ReadAsync(await crm.GetAsync("/api/v1/calls/s-fresh"), HttpStatusCode.OK))["status"]!.GetValue<string>());

        // The browser comes back and its hangups arrive after the sweep: the rebuild from events wins.
        await PublishLoggedAsync(agent,
            Envelope("call_hangup", new { call = new { uuid = "s-ringing" }, billsec = 0 }, seq: 8, occurredAt: start.AddSeconds(30)),
            Envelope("call_hangup", new { call = new { uuid = "s-talking" }, billsec = 20, cause = "normal_clearing" }, seq: 9, occurredAt: start.AddSeconds(23)));

        ringing = await ReadAsync(await crm.GetAsync("/api/v1/calls/s-ringing"), HttpStatusCode.OK);
        Assert.Equal("missed", ringing["status"]!.GetValue<string>());
        Assert.Null(ringing["end_reason"]);
        Assert.Equal(30, ringing["ring_seconds"]!.GetValue<int>());
        talking = await ReadAsync(await crm.GetAsync("/api/v1/calls/s-talking"), HttpStatusCode.OK);
        Assert.Equal("answered", talking["status"]!.GetValue<string>());
        Assert.Null(talking["end_reason"]);
        Assert.Equal("normal_clearing", talking["hangup_cause"]!.GetValue<string>());
        Assert.Equal(20, talking["billsec"]!.GetValue<int>());
        Assert.Equal(20, talking["talk_seconds"]!.GetValue<int>());
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
    }

    private async Task PublishLoggedAsync(AgentConnection agent, params object[] envelopes)
    {
        foreach (var envelope in envelopes)
        {
            var ack = await agent.InvokeAsync("Publish", envelope);
            await Factory.CallLogConsumedAsync(Guid.Parse(ack.GetProperty("event_id").GetString()!));
        }
    }
}

public sealed class SqliteCallSweeperTests : CallSweeperTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCallSweeperTests(PostgresFixture postgres) : CallSweeperTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
