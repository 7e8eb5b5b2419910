using Hub.Contracts;
using Hub.Tests.Support;
using Hub.Workers.Events;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Ingest;

/// <summary>
/// The embedded default's bus is in memory, so the events it acked and has not yet written wait in the
/// process: their number is bounded, and past the bound the hub pushes back instead of growing.
/// </summary>
public sealed class EmbeddedBacklogTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:EmbeddedBacklog"] = "2",
        ["Hub:PublishTimeout"] = "00:00:00.300",
    }));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Slots_come_back_once_events_are_written_so_a_long_stream_fits_a_small_backlog()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");

        // Five times the backlog, one after the other: each waits for the slot of one written before it.
        var eventIds = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            var eventId = Guid.NewGuid();
            var ack = await agent.InvokeAsync("Publish", Envelope("call_hold", Call($"call-{i}"), eventId));
            Assert.Equal("accepted", ack.GetProperty("status").GetString());
            eventIds.Add(eventId);
        }

        foreach (var eventId in eventIds)
        {
            await _factory.Services.GetRequiredService<ConsumedEvents>().WaitAsync("hub-events", eventId, Timeout);
        }
    }

    [Fact]
    public async Task A_full_backlog_answers_bus_unavailable_publishes_nothing_and_takes_the_resend_once_there_is_room()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var backlog = _factory.Services.GetRequiredService<EventBacklog>();
        Assert.Equal(2, backlog.Capacity);

        // Two events the store has not written yet hold both slots.
        Assert.True(await backlog.EnterAsync(1, TimeSpan.Zero));
        Assert.True(await backlog.EnterAsync(1, TimeSpan.Zero));
        var eventId = Guid.NewGuid();
        var envelope = Envelope("incoming_call", Call("call-1", "0912345678"), eventId);

        var refused = await Assert.ThrowsAsync<HubInvocationException>(() => agent.InvokeAsync("Publish", envelope));

        Assert.StartsWith("bus_unavailable:", refused.HubMessage);

        // The store caught up with one: the relay's resend is accepted, not "duplicate", and written.
        backlog.Leave();
        var ack = await agent.InvokeAsync("Publish", envelope);
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        await _factory.Services.GetRequiredService<ConsumedEvents>().WaitAsync("hub-events", eventId, Timeout);
        var again = await agent.InvokeAsync("Publish", envelope);
        Assert.Equal("duplicate", again.GetProperty("status").GetString());

        // Published once in all: the refused attempt put nothing on the bus.
        Assert.Single(_factory.Harness.Published.Select<IncomingCallReceived>(message => message.Context.Message.EventId == eventId));
    }
}
