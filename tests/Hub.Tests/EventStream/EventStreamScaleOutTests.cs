using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.EventStream;

/// <summary>The event stream across two Api nodes and a worker process (issue 7's acceptance).</summary>
[Collection(ProductionCollection.Name)]
public sealed class EventStreamScaleOutTests(PostgresFixture postgres, RabbitMqFixture rabbitMq) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private ProductionCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProductionCluster.StartAsync(postgres, rabbitMq);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_client_reading_node_A_resumes_on_node_B_after_its_last_event_with_nothing_missing_or_repeated()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var admin = _cluster.NodeA.Admin();
        var (tenantId, crmOnA) = await CreateTenantAsync(_cluster.NodeA, "Acme", parent: admin);
        using var crmOnB = _cluster.NodeB.ClientWithKey(await CreateKeyAsync(admin, tenantId, CrmScopes));
        await using var agent = await _cluster.NodeA.ConnectAgentAsync(await SignInAsync(_cluster.NodeA, crmOnA, "agent-7"));
        var published = await PublishAsync(agent,
            Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1),
            Envelope("call_answered", Call("call-1"), seq: 2));

        long lastSeen;
        await using (var onA = await SseStream.OpenAsync(crmOnA, "?from=beginning", null, timeout.Token))
        {
            var seen = await onA.ReadAsync(2, timeout.Token);
            Assert.Equal(published, seen.Select(e => e.EventId));
            lastSeen = seen[^1].Id;
        }

        published.AddRange(await PublishAsync(agent, Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 9 }, seq: 3)));
        await using var onB = await SseStream.OpenAsync(crmOnB, "", lastSeen, timeout.Token);
        Assert.Equal(published[2], (await onB.ReadAsync(timeout.Token)).EventId);

        published.AddRange(await PublishAsync(agent, Envelope("unregistered", null, seq: 4)));
        var next = await onB.ReadAsync(timeout.Token);
        Assert.Equal(published[3], next.EventId);
        Assert.True(next.Id > lastSeen);
    }

    private async Task<List<Guid>> PublishAsync(AgentConnection agent, params object[] envelopes)
    {
        var ids = new List<Guid>();
        foreach (var envelope in envelopes)
        {
            var ack = await agent.InvokeAsync("Publish", envelope);
            Assert.Equal("accepted", ack.GetProperty("status").GetString());
            var eventId = Guid.Parse(ack.GetProperty("event_id").GetString()!);
            await _cluster.Workers.WaitAsync("hub-events", eventId);
            ids.Add(eventId);
        }

        return ids;
    }
}
