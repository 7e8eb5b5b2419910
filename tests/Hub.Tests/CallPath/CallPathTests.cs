using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.CallPath;

/// <summary>
/// The acceptance walk of issue 2: one call from the agent's connection to a pop, a log row and
/// click-to-call. The same tests run on each store (<see cref="SqliteCallPathTests"/>,
/// <see cref="PostgresCallPathTests"/>).
/// </summary>
public abstract class CallPathTests : StoreTestBase
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Incoming_call_pops_the_contact_whose_number_is_written_another_way()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Nguyen Van A", company = "Acme", phones = new[] { "+84 912 345 678" }, custom_fields = new { tier = "gold" } },
        }), HttpStatusCode.OK);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");

        var ack = await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0912345678")));

        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("call-1", pop.GetProperty("call_id").GetString());
        Assert.False(pop.GetProperty("unknown_caller").GetBoolean());
        var match = Assert.Single(pop.GetProperty("matches").EnumerateArray());
        Assert.Equal("c-1", match.GetProperty("external_id").GetString());
        Assert.Equal("Nguyen Van A", match.GetProperty("display_name").GetString());
        Assert.Equal("gold", match.GetProperty("custom_fields").GetProperty("tier").GetString());
    }

    [Fact]
    public async Task Unknown_caller_gets_a_pop_with_no_matches()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-2", "0987000111")));

        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.Empty(pop.GetProperty("matches").EnumerateArray());
    }

    [Fact]
    public async Task Every_connection_of_the_agent_gets_the_pop_and_other_agents_do_not()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var tab1 = await ConnectAgentAsync(Factory, crm, "agent-7");
        await using var tab2 = await ConnectAgentAsync(Factory, crm, "agent-7");
        await using var other = await ConnectAgentAsync(Factory, crm, "agent-8");
        var pops1 = tab1.Subscribe("ScreenPop");
        var pops2 = tab2.Subscribe("ScreenPop");
        var otherPops = other.Subscribe("ScreenPop");

        await tab1.InvokeAsync("Publish", Envelope("incoming_call", Call("call-3", "0912345678")));
        await pops1.ReadAsync().AsTask().WaitAsync(Timeout);
        await pops2.ReadAsync().AsTask().WaitAsync(Timeout);

        // The other agent's own pop proves its channel works and that nothing of agent-7 came before it.
        await other.InvokeAsync("Publish", Envelope("incoming_call", Call("call-4", "0912000000")));
        var otherPop = await otherPops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("call-4", otherPop.GetProperty("call_id").GetString());
    }

    [Fact]
    public async Task Answered_call_is_logged_with_the_billsec_the_webphone_reported()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Nguyen Van A", phones = new[] { "84912345678" } },
        }), HttpStatusCode.OK);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        var start = DateTimeOffset.UtcNow;

        await PublishAllLoggedAsync(agent,
            Envelope("incoming_call", Call("call-5", "+84 912 345 678"), seq: 1, occurredAt: start),
            Envelope("call_answered", Call("call-5"), seq: 2, occurredAt: start.AddSeconds(4)),
            Envelope("call_hangup", new { call = new { uuid = "call-5" }, billsec = 42 }, seq: 3, occurredAt: start.AddSeconds(46)));
        await pops.ReadAsync().AsTask().WaitAsync(Timeout);

        var page = await ReadAsync(await crm.GetAsync("/api/v1/calls"), HttpStatusCode.OK);
        var call = Assert.Single(page["items"]!.AsArray())!;
        Assert.Equal("call-5", call["call_id"]!.GetValue<string>());
        Assert.Equal(tenantId, call["tenant_id"]!.GetValue<string>());
        Assert.Equal("agent-7", call["agent_id"]!.GetValue<string>());
        Assert.Equal("inbound", call["direction"]!.GetValue<string>());
        Assert.Equal("answered", call["status"]!.GetValue<string>());
        Assert.Equal(42, call["billsec"]!.GetValue<int>());
        Assert.Equal(4, call["ring_seconds"]!.GetValue<int>());
        Assert.Equal("c-1", call["contact"]!["external_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Same_event_twice_is_accepted_then_duplicate_and_logged_once()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var envelope = Envelope("incoming_call", Call("call-6", "0912345678"));

        var first = await agent.InvokeAsync("Publish", envelope);
        var second = await agent.InvokeAsync("Publish", envelope);

        Assert.Equal("accepted", first.GetProperty("status").GetString());
        Assert.Equal("duplicate", second.GetProperty("status").GetString());
        var eventId = Guid.Parse(first.GetProperty("event_id").GetString()!);
        await Factory.CallLogConsumedAsync(eventId);
        var detail = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-6"), HttpStatusCode.OK);
        Assert.Single(detail["events"]!.AsArray());
    }

    [Fact]
    public async Task Same_event_from_many_connections_at_once_is_accepted_exactly_once_per_tenant()
    {
        // Concurrent Publish calls are written in groups: a duplicate inside one group must still be one.
        var (_, acme) = await CreateTenantAsync(Factory, "Acme");
        var (_, other) = await CreateTenantAsync(Factory, "Other");
        var acmeAgents = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ConnectAgentAsync(Factory, acme, $"agent-{i}")));
        await using var otherAgent = await ConnectAgentAsync(Factory, other, "agent-0");
        var envelope = Envelope("incoming_call", Call("call-raced", "0912345678"));

        var acks = await Task.WhenAll(acmeAgents.Select(agent => agent.InvokeAsync("Publish", envelope)).Append(otherAgent.InvokeAsync("Publish", envelope)));

        var statuses = acks.Select(ack => ack.GetProperty("status").GetString()).ToList();
        Assert.Equal(1, statuses.Take(8).Count(status => status == "accepted"));
        Assert.Equal(7, statuses.Take(8).Count(status => status == "duplicate"));
        Assert.Equal("accepted", statuses[8]);
        // Both tenants' copies carry the same event id: wait for both, not for whichever came first.
        await Factory.CallLogConsumedAsync(Guid.Parse(acks[0].GetProperty("event_id").GetString()!), delivery: 2);
        Assert.Single((await ReadAsync(await acme.GetAsync("/api/v1/calls/call-raced"), HttpStatusCode.OK))["events"]!.AsArray());
        foreach (var agent in acmeAgents)
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task Hangup_without_answer_is_one_missed_call()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var start = DateTimeOffset.UtcNow;

        await PublishAllLoggedAsync(agent,
            Envelope("incoming_call", Call("call-7", "0912345678"), seq: 1, occurredAt: start),
            Envelope("call_hangup", new { call = new { uuid = "call-7" }, billsec = 0 }, seq: 2, occurredAt: start.AddSeconds(20)));

        var page = await ReadAsync(await crm.GetAsync("/api/v1/calls?status=missed"), HttpStatusCode.OK);
        var call = Assert.Single(page["items"]!.AsArray())!;
        Assert.Equal("call-7", call["call_id"]!.GetValue<string>());
        Assert.Equal(20, call["ring_seconds"]!.GetValue<int>());
    }

    [Fact]
    public async Task Late_answer_after_the_hangup_does_not_reopen_a_missed_call()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var start = DateTimeOffset.UtcNow;

        await PublishAllLoggedAsync(agent,
            Envelope("call_hangup", new { call = new { uuid = "call-8" }, billsec = 0 }, seq: 2, occurredAt: start.AddSeconds(10)),
            Envelope("incoming_call", Call("call-8", "0912345678"), seq: 1, occurredAt: start),
            Envelope("call_answered", Call("call-8"), seq: 3, occurredAt: start.AddSeconds(11)));

        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-8"), HttpStatusCode.OK);
        Assert.Equal("missed", call["status"]!.GetValue<string>());
        Assert.Equal(3, call["events"]!.AsArray().Count);
    }

    [Fact]
    public async Task Malformed_event_is_invalid_event_and_the_connection_lives_on()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        var refused = await Assert.ThrowsAsync<HubException>(() =>
            agent.InvokeAsync("Publish", Envelope("incoming_call", new { call = new { uuid = "call-9" } })));
        Assert.Equal("invalid_event: incoming_call needs payload.call.number", refused.HubMessage);

        var ack = await agent.InvokeAsync("Publish", Envelope("registered", new { }));
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        Assert.True(agent.IsConnected);
    }

    [Fact]
    public async Task Unknown_event_type_is_accepted_and_kept_in_the_calls_events()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var transferId = Guid.NewGuid();

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-10", "0912345678"), seq: 1));
        var ack = await agent.InvokeAsync("Publish", Envelope("call_transferred", new { call = new { uuid = "call-10" }, target = "1002" }, transferId, 2));
        await Factory.CallLogConsumedAsync(transferId);

        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        var detail = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-10"), HttpStatusCode.OK);
        var transfer = Assert.Single(detail["events"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "call_transferred")!;
        Assert.Equal("1002", transfer["payload"]!["target"]!.GetValue<string>());
    }

    [Fact]
    public async Task PublishBatch_answers_each_envelope_in_order()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var repeated = Envelope("registered", new { });
        await agent.InvokeAsync("Publish", repeated);

        var acks = await agent.InvokeAsync("PublishBatch", (object)new[]
        {
            Envelope("incoming_call", Call("call-11", "0912345678"), seq: 2),
            repeated,
            Envelope("call_hangup", new { call = new { uuid = "call-11" } }, seq: 3),
            Envelope("call_answered", Call("call-11"), seq: 4),
        });

        var statuses = acks.EnumerateArray().Select(ack => ack.GetProperty("status").GetString()!).ToArray();
        Assert.Equal(["accepted", "duplicate", "rejected", "accepted"], statuses);
        Assert.StartsWith("invalid_event: call_hangup needs payload.billsec", acks[2].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Dial_arrives_as_a_call_command_and_its_result_marks_it_delivered()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var commands = agent.Subscribe("Command");

        var accepted = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/agents/agent-7/dial",
            new { number = "0912345678", options = new { campaignId = 36, leadId = 78912 } }), HttpStatusCode.Accepted);
        var commandId = accepted["command_id"]!.GetValue<string>();
        Assert.Equal("pending", accepted["status"]!.GetValue<string>());

        var command = await commands.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(commandId, command.GetProperty("command_id").GetString());
        Assert.Equal("call", command.GetProperty("type").GetString());
        Assert.Equal("0912345678", command.GetProperty("payload").GetProperty("number").GetString());
        Assert.Equal(36, command.GetProperty("payload").GetProperty("options").GetProperty("campaignId").GetInt32());

        await agent.InvokeAsync("CommandResult", new { command_id = commandId, status = "delivered" });
        var status = await ReadAsync(await crm.GetAsync($"/api/v1/commands/{commandId}"), HttpStatusCode.OK);
        Assert.Equal("delivered", status["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Outgoing_call_from_click_to_call_carries_its_campaign_and_lead()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var commands = agent.Subscribe("Command");
        await ReadAsync(await crm.PostAsJsonAsync("/api/v1/agents/agent-7/dial",
            new { number = "0912 345 678", options = new { campaignId = 36, leadId = 78912 } }), HttpStatusCode.Accepted);
        await commands.ReadAsync().AsTask().WaitAsync(Timeout);
        var outgoingId = Guid.NewGuid();

        // The webphone reports the number in its own format and does not echo the options.
        await agent.InvokeAsync("Publish", Envelope("outgoing_call", Call("call-12", "+84912345678"), outgoingId));
        await Factory.CallLogConsumedAsync(outgoingId);

        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-12"), HttpStatusCode.OK);
        Assert.Equal("outbound", call["direction"]!.GetValue<string>());
        Assert.Equal("36", call["campaign_id"]!.GetValue<string>());
        Assert.Equal("78912", call["lead_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dial_to_an_agent_with_no_connection_is_agent_offline()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");

        var response = await crm.PostAsJsonAsync("/api/v1/agents/agent-nobody/dial", new { number = "0912345678" });

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "agent_offline");
    }

    [Fact]
    public async Task Agents_list_shows_who_is_online_and_registered()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var registeredId = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("registered", new { }, registeredId));
        await Factory.ConsumedAsync("hub-events", registeredId);

        var agents = await ReadAsync(await crm.GetAsync("/api/v1/agents"), HttpStatusCode.OK);

        var entry = Assert.Single(agents.AsArray())!;
        Assert.Equal("agent-7", entry["agent_id"]!.GetValue<string>());
        Assert.True(entry["online"]!.GetValue<bool>());
        Assert.True(entry["registered"]!.GetValue<bool>());
        Assert.Equal(1, entry["connections"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_calls_or_agents()
    {
        var (_, acme) = await CreateTenantAsync(Factory, "Acme");
        var (_, globex) = await CreateTenantAsync(Factory, "Globex");
        await using var agent = await ConnectAgentAsync(Factory, acme, "agent-7");
        var eventId = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-13", "0912345678"), eventId));
        await Factory.CallLogConsumedAsync(eventId);

        Assert.Empty((await ReadAsync(await globex.GetAsync("/api/v1/calls"), HttpStatusCode.OK))["items"]!.AsArray());
        await AssertProblemAsync(await globex.GetAsync("/api/v1/calls/call-13"), HttpStatusCode.NotFound, "call_not_found");
        Assert.Empty((await ReadAsync(await globex.GetAsync("/api/v1/agents"), HttpStatusCode.OK)).AsArray());
        await AssertProblemAsync(await globex.PostAsJsonAsync("/api/v1/agents/agent-7/dial", new { number = "0912345678" }),
            HttpStatusCode.Conflict, "agent_offline");
    }

    [Fact]
    public async Task Calls_page_newest_first_with_a_cursor()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var eventIds = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        for (var i = 0; i < 5; i++)
        {
            await agent.InvokeAsync("Publish", Envelope("incoming_call", Call($"call-p{i}", "0912345678"), eventIds[i], i, start.AddMinutes(i)));
        }

        foreach (var eventId in eventIds)
        {
            await Factory.CallLogConsumedAsync(eventId);
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await ReadAsync(await crm.GetAsync("/api/v1/calls?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))), HttpStatusCode.OK);
            seen.AddRange(page["items"]!.AsArray().Select(call => call!["call_id"]!.GetValue<string>()));
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        Assert.Equal(["call-p4", "call-p3", "call-p2", "call-p1", "call-p0"], seen);
    }

    /// <summary>
    /// Publishes in this order and waits until the call log has every one of them: consumers may take
    /// a call's events in any order, so waiting for the last one published is not enough.
    /// </summary>
    private async Task PublishAllLoggedAsync(AgentConnection agent, params object[] envelopes)
    {
        foreach (var envelope in envelopes)
        {
            await agent.InvokeAsync("Publish", envelope);
        }

        foreach (var envelope in envelopes)
        {
            await Factory.CallLogConsumedAsync(Guid.Parse((string)((Dictionary<string, object?>)envelope)["event_id"]!));
        }
    }
}
