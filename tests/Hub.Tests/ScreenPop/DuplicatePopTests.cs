using System.Text.Json;
using Hub.Contracts;
using Hub.Tests.Support;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.ScreenPop;

/// <summary>The bus delivers at least once: an incoming call that reaches the screen-pop worker twice pops once.</summary>
public sealed class DuplicatePopTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task An_incoming_call_delivered_twice_pops_once()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var incoming = new IncomingCallReceived
        {
            EventId = Guid.NewGuid(),
            TenantId = tenantId,
            AgentId = "agent-7",
            CallId = "call-twice",
            Seq = 1,
            Type = "incoming_call",
            Number = "0912345678",
            OccurredAt = DateTimeOffset.UtcNow,
            ReceivedAt = DateTimeOffset.UtcNow,
            Payload = JsonSerializer.SerializeToElement(new { call = new { uuid = "call-twice", number = "0912345678" } }),
        };

        // One after the other, as a redelivery follows the first delivery.
        var consumed = _factory.Services.GetRequiredService<ConsumedEvents>();
        await _factory.Harness.Bus.Publish(incoming);
        await consumed.WaitAsync("hub-screen-pop", incoming.EventId, Timeout);
        await _factory.Harness.Bus.Publish(incoming);
        await consumed.WaitAsync("hub-screen-pop", incoming.EventId, Timeout, delivery: 2);

        Assert.Single(_factory.Harness.Published.Select<ShowScreenPop>(pop => pop.Context.Message.CallId == "call-twice"));
    }
}
