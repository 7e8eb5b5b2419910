using Hub.Contracts;
using Hub.Tests.Support;
using Hub.Consumers.WebphoneEvents;
using Microsoft.AspNetCore.SignalR;
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
        // Long enough for an in-memory publish on a loaded machine, short enough to wait out once for a refusal.
        ["Hub:PublishTimeout"] = "00:00:02",
    }));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Slots_come_back_once_every_endpoint_is_done_so_a_long_stream_fits_a_small_backlog()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var consumed = _factory.Services.GetRequiredService<ConsumedEvents>();

        // Five times the backlog, one after the other: each waits for the slots of those written before it. An
        // incoming call takes both slots (the call log's and the screen-pop's), so it fits only once both gave theirs back.
        for (var i = 0; i < 5; i++)
        {
            var incoming = Guid.NewGuid();
            var hold = Guid.NewGuid();
            Assert.Equal("accepted", (await agent.InvokeAsync("Publish", Envelope("incoming_call", Call($"call-{i}", "0912345678"), incoming))).GetProperty("status").GetString());
            Assert.Equal("accepted", (await agent.InvokeAsync("Publish", Envelope("call_hold", Call($"call-{i}"), hold))).GetProperty("status").GetString());
            await consumed.WaitAsync("hub-screen-pop", incoming, Timeout);
            await consumed.WaitAsync("hub-events", incoming, Timeout);
            await consumed.WaitAsync("hub-events", hold, Timeout);
        }
    }

    [Fact]
    public async Task A_full_backlog_answers_bus_unavailable_publishes_nothing_and_takes_the_resend_once_there_is_room()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var backlog = _factory.Services.GetRequiredService<EventBacklog>();
        Assert.Equal(2, backlog.Capacity);

        // An incoming call no endpoint has consumed yet holds both slots.
        Assert.True(await backlog.EnterAsync(2, TimeSpan.Zero));
        var eventId = Guid.NewGuid();
        var envelope = Envelope("incoming_call", Call("call-1", "0912345678"), eventId);

        var refused = await Assert.ThrowsAsync<HubException>(() => agent.InvokeAsync("Publish", envelope));

        Assert.StartsWith("bus_unavailable:", refused.HubMessage);

        // The store caught up: the relay's resend is accepted, not "duplicate", and written.
        backlog.Leave(2);
        var ack = await agent.InvokeAsync("Publish", envelope);
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        await _factory.Services.GetRequiredService<ConsumedEvents>().WaitAsync("hub-events", eventId, Timeout);
        var again = await agent.InvokeAsync("Publish", envelope);
        Assert.Equal("duplicate", again.GetProperty("status").GetString());

        // Published once in all: the refused attempt put nothing on the bus.
        Assert.Single(_factory.Harness.Published.Select<IncomingCallReceived>(message => message.Context.Message.EventId == eventId));
    }
}
