using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Hub.Store;
using Hub.Store.Config;
using Hub.Tests.Support;
using Xunit.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.ScreenPop;

/// <summary>
/// Issue 5, point 4, end to end: an incoming call whose number no contact has is looked up in the
/// account's CRM (a real HTTP server here), and the agent gets a pop whatever the CRM does.
/// </summary>
public sealed class CrmLookupTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    // The fake CRM listens on loopback, which only an operator's setting lets the outbound policy reach.
    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:Outbound:AllowHttpLoopback"] = "true" }));
    private FakeCrm _crm = null!;

    public async Task InitializeAsync() => _crm = await FakeCrm.StartAsync();

    public async Task DisposeAsync()
    {
        _factory.Dispose();
        await _crm.DisposeAsync();
    }

    /// <summary>
    /// A tenant whose config asks the fake CRM, and its agent connected. The config is written before the
    /// tenant's first call, so the 5 s config cache of the workers cannot hold an older one.
    /// </summary>
    private async Task<(string TenantId, HttpClient Crm, AgentConnection Agent, ChannelReader<JsonElement> Pops)> TenantAsync(
        object crmLookup)
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var document = JsonSerializer.Serialize(new
        {
            screen_pop = new
            {
                record_url_template = "https://crm.example/contacts/{external_id}?call={call_id}",
                new_contact_url_template = "https://crm.example/contacts/new?phone={number}",
            },
            crm_lookup = crmLookup,
        });
        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@tenantId, @document, @now)
                ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                """, new { tenantId, document, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        }

        var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        return (tenantId, crm, agent, agent.Subscribe("ScreenPop"));
    }

    private static async Task<JsonElement> CallAsync(AgentConnection agent, ChannelReader<JsonElement> pops, string callId, string number)
    {
        var ack = await agent.InvokeAsync("Publish", Envelope("incoming_call", Call(callId, number)));
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(callId, pop.GetProperty("call_id").GetString());
        return pop;
    }

    [Fact]
    public async Task Caller_the_crm_knows_pops_the_crms_match_from_a_signed_request()
    {
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _crm.Respond = FakeCrm.Json(new
        {
            matches = new object[]
            {
                new { external_id = "crm-1", display_name = "Le Thi C", company = "Mekong Foods", custom_fields = new { tier = "gold" } },
                new { external_id = "crm-2", display_name = "Le Van D", url = "https://crm.example/people/crm-2" },
            },
        });
        var (_, crm, agent, pops) = await TenantAsync(new { url = _crm.Url, timeout_ms = 1500, secret });
        await using var _ = agent;

        var pop = await CallAsync(agent, pops, "call-1", "0912 345 678");

        Assert.False(pop.GetProperty("unknown_caller").GetBoolean());
        var matches = pop.GetProperty("matches").EnumerateArray().ToList();
        Assert.Equal(["crm-1", "crm-2"], matches.Select(match => match.GetProperty("external_id").GetString()));
        Assert.Equal("Le Thi C", matches[0].GetProperty("display_name").GetString());
        Assert.Equal("Mekong Foods", matches[0].GetProperty("company").GetString());
        Assert.Equal("gold", matches[0].GetProperty("custom_fields").GetProperty("tier").GetString());
        Assert.Equal("https://crm.example/contacts/crm-1?call=call-1", matches[0].GetProperty("url").GetString());
        Assert.Equal("https://crm.example/people/crm-2", matches[1].GetProperty("url").GetString());
        Assert.Equal("https://crm.example/contacts/crm-1?call=call-1", pop.GetProperty("url").GetString());

        var request = Assert.Single(_crm.Requests);
        Assert.Equal("+84912345678", request.Query["number"]);
        Assert.Equal("0912 345 678", request.Query["raw"]);
        Assert.Equal("agent-7", request.Query["agent_id"]);
        Assert.Equal("call-1", request.Query["call_id"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
        AssertSigned(request, secret);

        // Shown, not stored: the CRM stays the owner of its records.
        var stored = await crm.GetAsync("/api/v1/contacts/crm-1");
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    /// <summary>The request verifies with the receiver's own Standard Webhooks check of the config's secret.</summary>
    private static void AssertSigned(CrmRequest request, string secret)
    {
        var timestamp = long.Parse(request.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(CrmLookupServiceTests.ExpectedSignature(secret, request.Headers["webhook-id"], timestamp), request.Headers["webhook-signature"]);
    }

    [Fact]
    public async Task Caller_the_crm_does_not_know_is_unknown_and_not_asked_about_again_within_the_miss_cache_time()
    {
        _crm.Respond = FakeCrm.Status(404);
        var (_, _, agent, pops) = await TenantAsync(new { url = _crm.Url });
        await using var _ = agent;

        var first = await CallAsync(agent, pops, "call-1", "0987 000 111");
        var second = await CallAsync(agent, pops, "call-2", "+84 987 000 111");

        Assert.True(first.GetProperty("unknown_caller").GetBoolean());
        Assert.True(second.GetProperty("unknown_caller").GetBoolean());
        Assert.Empty(second.GetProperty("matches").EnumerateArray());
        Assert.Equal("https://crm.example/contacts/new?phone=%2B84%20987%20000%20111", second.GetProperty("url").GetString());
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task Slow_crm_gives_an_unknown_caller_pop_within_the_timeout()
    {
        _crm.Respond = FakeCrm.Hang();
        var (_, crm, agent, pops) = await TenantAsync(new { url = _crm.Url, timeout_ms = 300 });
        await using var _ = agent;
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Nguyen Van A", phones = new[] { "+84 912 000 001" } },
        }), HttpStatusCode.OK);

        // A first pop (a local match, no CRM) so that the measured one does not pay for first-use costs.
        await CallAsync(agent, pops, "call-warm", "0912 000 001");
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0987 000 111")));
        var sincePublishAck = Stopwatch.StartNew();
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        sincePublishAck.Stop();
        output.WriteLine($"Unknown-caller pop {sincePublishAck.ElapsedMilliseconds} ms after the Publish ack (timeout 300 ms).");

        Assert.Equal("call-1", pop.GetProperty("call_id").GetString());
        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.True(sincePublishAck.ElapsedMilliseconds <= 400, $"The pop came {sincePublishAck.ElapsedMilliseconds} ms after the ack (timeout 300 ms).");
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task Failing_crm_gives_an_unknown_caller_pop()
    {
        _crm.Respond = FakeCrm.Status(500);
        var (_, _, agent, pops) = await TenantAsync(new { url = _crm.Url });
        await using var _ = agent;

        var pop = await CallAsync(agent, pops, "call-1", "0987 000 111");

        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.Empty(pop.GetProperty("matches").EnumerateArray());
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task After_five_failures_the_breaker_is_open_and_pops_come_without_asking_the_crm()
    {
        _crm.Respond = FakeCrm.Status(500);
        var (_, _, agent, pops) = await TenantAsync(new { url = _crm.Url });
        await using var _ = agent;
        for (var i = 0; i < 5; i++)
        {
            await CallAsync(agent, pops, $"call-{i}", $"0987 000 11{i}");
        }

        Assert.Equal(5, _crm.RequestCount);
        _crm.Respond = FakeCrm.Json(new[] { new { external_id = "crm-1", display_name = "Le Thi C" } });
        var open1 = await CallAsync(agent, pops, "call-5", "0987 000 115");
        var open2 = await CallAsync(agent, pops, "call-6", "0987 000 116");

        Assert.True(open1.GetProperty("unknown_caller").GetBoolean());
        Assert.True(open2.GetProperty("unknown_caller").GetBoolean());
        Assert.Equal(5, _crm.RequestCount);
    }

    [Fact]
    public async Task Caller_a_contact_matches_pops_without_asking_the_crm()
    {
        _crm.Respond = FakeCrm.Json(new[] { new { external_id = "crm-1", display_name = "Le Thi C" } });
        var (_, crm, agent, pops) = await TenantAsync(new { url = _crm.Url });
        await using var _ = agent;
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Nguyen Van A", phones = new[] { "+84 912 345 678" } },
        }), HttpStatusCode.OK);

        var pop = await CallAsync(agent, pops, "call-1", "0912345678");

        Assert.Equal("c-1", Assert.Single(pop.GetProperty("matches").EnumerateArray()).GetProperty("external_id").GetString());
        Assert.Equal(0, _crm.RequestCount);
    }
}
