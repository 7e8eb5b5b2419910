using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Tests.Support;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Events;

/// <summary>
/// An integrator consuming the bus and an analyst reading the call log see the same call: the bus messages' number,
/// billsec and hangup cause are the stored call's, whichever of the payload's places the webphone put them in.
/// </summary>
public sealed class BusAndCallRecordAgreementTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    public static TheoryData<string, string, string> Payloads => new()
    {
        // direction, start payload's number, hangup payload (JSON)
        { "incoming_call", "0912345678", """{"billsec": 5, "cause": "NORMAL_CLEARING"}""" },
        { "incoming_call", "+84 912 345 678", """{"billsec": 5, "hangup_cause": "USER_BUSY"}""" },
        { "incoming_call", "0912345678", """{"billsec": 0, "call": {"hangup_cause": "NO_ANSWER"}}""" },
        { "outgoing_call", "0912345678", """{"billsec": 0, "reason": "CANCEL"}""" },
        { "outgoing_call", "84912345678", """{"billsec": 7, "cause": 16}""" },
        { "incoming_call", "0912345678", """{"billsec": 3, "cause": "  "}""" },
        { "incoming_call", "0912345678", """{"billsec": 3}""" },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task The_bus_messages_and_the_stored_call_agree(string start, string number, string hangupJson)
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var callId = "call-" + Guid.NewGuid().ToString("N");
        var hangupPayload = System.Text.Json.Nodes.JsonNode.Parse(hangupJson)!.AsObject();
        var call = hangupPayload["call"]?.AsObject() ?? [];
        hangupPayload.Remove("call");
        call["uuid"] = callId;
        hangupPayload["call"] = call;
        var startId = Guid.NewGuid();
        var hangupId = Guid.NewGuid();

        await agent.InvokeAsync("Publish", Envelope(start, Call(callId, number), startId, 1));
        await agent.InvokeAsync("Publish", Envelope("call_hangup", hangupPayload, hangupId, 2));
        await _factory.CallLogConsumedAsync(hangupId);
        await _factory.CallLogConsumedAsync(startId);

        var hangup = Assert.Single(_factory.Harness.Published.Select<CallHungUp>(), message => message.Context.Message.EventId == hangupId).Context.Message;
        var busNumber = start == "incoming_call"
            ? Assert.Single(_factory.Harness.Published.Select<IncomingCallReceived>(), message => message.Context.Message.EventId == startId).Context.Message.Number
            : Assert.Single(_factory.Harness.Published.Select<OutgoingCallStarted>(), message => message.Context.Message.EventId == startId).Context.Message.Number;

        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var stored = await connection.QuerySingleAsync<(string? FromNumber, string? ToNumber, int? Billsec, string? HangupCause)>(
            "SELECT from_number, to_number, billsec, hangup_cause FROM calls WHERE tenant_id = @tenantId AND call_id = @callId", new { tenantId, callId });

        Assert.Equal(stored.Billsec, hangup.Billsec);
        Assert.Equal(stored.HangupCause, hangup.HangupCause);
        Assert.Equal(start == "incoming_call" ? stored.FromNumber : stored.ToNumber, busNumber);
        Assert.Equal(number, busNumber);
    }
}
