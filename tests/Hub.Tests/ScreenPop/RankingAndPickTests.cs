using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.ScreenPop;

/// <summary>A switchboard number shared by several contacts: rank order, the agent's pick, and what the call links to.</summary>
public sealed class RankingAndPickTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Shared_number_pops_every_match_newest_first_and_the_call_links_to_none_until_a_pick()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await SeedSwitchboardAsync(crm);
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        var eventId = Guid.NewGuid();

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0281234567"), eventId));
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        await _factory.CallLogConsumedAsync(eventId);

        Assert.Equal(["a-recent", "b-older"], pop.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("external_id").GetString()!));
        Assert.Equal("https://crm.example/a-recent", pop.GetProperty("url").GetString());
        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-1"), HttpStatusCode.OK);
        Assert.Null(call["contact"]);
    }

    [Fact]
    public async Task The_agents_pick_links_the_call_and_ranks_first_next_time()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await SeedSwitchboardAsync(crm);
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        var incomingId = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0281234567"), incomingId));
        await pops.ReadAsync().AsTask().WaitAsync(Timeout);

        await agent.InvokeAsync("PickContact", new { call_id = "call-1", external_id = "b-older" });
        // The pop and the call log are separate consumers: the pop may come first.
        await _factory.CallLogConsumedAsync(incomingId);

        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-1"), HttpStatusCode.OK);
        Assert.Equal(("b-older", "Older Contact"), (call["contact"]!["external_id"]!.GetValue<string>(), call["contact"]!["display_name"]!.GetValue<string>()));
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-2", "+84 28 1234 567")));
        var next = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(["b-older", "a-recent"], next.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("external_id").GetString()!));

        // Another agent's pops keep the default order: a pick is this agent's habit, not the tenant's.
        await using var other = await ConnectAgentAsync(_factory, crm, "agent-8");
        var otherPops = other.Subscribe("ScreenPop");
        await other.InvokeAsync("Publish", Envelope("incoming_call", Call("call-3", "0281234567")));
        var otherPop = await otherPops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("a-recent", otherPop.GetProperty("matches")[0].GetProperty("external_id").GetString());
    }

    [Fact]
    public async Task A_pick_of_a_contact_the_pop_did_not_offer_is_refused()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await SeedSwitchboardAsync(crm);
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0281234567")));
        await pops.ReadAsync().AsTask().WaitAsync(Timeout);

        var refused = await Assert.ThrowsAsync<HubException>(() => agent.InvokeAsync("PickContact", new { call_id = "call-1", external_id = "someone-else" }));
        var unknownCall = await Assert.ThrowsAsync<HubException>(() => agent.InvokeAsync("PickContact", new { call_id = "no-such-call", external_id = "b-older" }));

        Assert.StartsWith("invalid_pick:", refused.HubMessage);
        Assert.StartsWith("invalid_pick:", unknownCall.HubMessage);
        Assert.True(agent.IsConnected);
    }

    [Fact]
    public async Task Unknown_caller_gets_the_new_contact_url_with_the_number_encoded()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new
        {
            screen_pop = new { new_contact_url_template = "https://crm.example/new?phone={number}&agent={agent_id}" },
        }), HttpStatusCode.OK);
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent 7".Replace(' ', '.'));
        var pops = agent.Subscribe("ScreenPop");

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "+84 99 888 7777")));

        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.Equal("https://crm.example/new?phone=%2B84%2099%20888%207777&agent=agent.7", pop.GetProperty("url").GetString());
    }

    /// <summary>
    /// Two contacts behind one switchboard number, "a-recent" updated after "b-older". Were both updates in
    /// the same millisecond, the tie-break (external id) gives the same order, so the assertions hold exactly.
    /// </summary>
    private static async Task SeedSwitchboardAsync(HttpClient crm)
    {
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "b-older", display_name = "Older Contact", phones = new[] { "+84 28 1234 567" }, url = "https://crm.example/b-older" },
        }), HttpStatusCode.OK);
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "a-recent", display_name = "Recent Contact", phones = new[] { "028 1234 567" }, url = "https://crm.example/a-recent" },
        }), HttpStatusCode.OK);
    }
}
