using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Hub.Store;
using Hub.Tests.Calls;
using Hub.Tests.EventStream;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Hub.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Privacy;

/// <summary><c>POST /api/v1/privacy/erasures</c> on each store (<see cref="SqliteErasureTests"/>, <see cref="PostgresErasureTests"/>).</summary>
public abstract class ErasureTests : StoreTestBase
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    protected static Dictionary<string, string> Settings => new() { ["Hub:Webhooks:AllowHttpLoopback"] = "true" };

    private async Task<List<Guid>> PublishLoggedAsync(AgentConnection agent, params object[] envelopes)
    {
        var ids = new List<Guid>();
        foreach (var envelope in envelopes)
        {
            var ack = await agent.InvokeAsync("Publish", envelope);
            Assert.Equal("accepted", ack.GetProperty("status").GetString());
            ids.Add(Guid.Parse(ack.GetProperty("event_id").GetString()!));
        }

        foreach (var id in ids)
        {
            await Factory.CallLogConsumedAsync(id);
        }

        return ids;
    }

    private async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException("no value: " + sql);
    }

    private static async Task<HttpResponseMessage> EraseAsync(HttpClient client, object body, string? accountId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/privacy/erasures") { Content = JsonContent.Create(body) };
        if (accountId is not null)
        {
            request.Headers.Add("X-Account-ID", accountId);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Erasure_forgets_the_number_in_the_account_and_its_descendants_and_keeps_everything_else()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (resellerId, reseller) = await CreateTenantAsync(Factory, "Reseller", ["admin"]);
        var (customerId, crm) = await CreateTenantAsync(Factory, "Customer", parent: reseller);
        var (globexId, _) = await CreateTenantAsync(Factory, "Globex");
        await SeedCall.InsertAsync(Factory, globexId, new SeedCall("globex-1", DateTimeOffset.UtcNow) { FromNumber = "0912345678" });
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Two phones", phones = new[] { "0912 345 678", "+84 987 000 111" } },
            new { external_id = "c-2", display_name = "Only this one", phones = new[] { "+84912345678" } },
            new { external_id = "c-3", display_name = "Someone else", phones = new[] { "+84 987 000 222" } },
        }), HttpStatusCode.OK);

        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        var start = DateTimeOffset.UtcNow;
        // Another caller's call, before there is a webhook: it stays as it is, in the call log and in the stream.
        var kept = await PublishLoggedAsync(agent, Envelope("incoming_call", Call("call-2", "0987000222"), seq: 1, occurredAt: start.AddMinutes(-5)));
        await pops.ReadAsync(timeout.Token);

        // The receiver takes the first delivery and refuses the next: one delivered, two pending (retry in 5 s).
        await using var receiver = await WebhookTestKit.OutsideThisFlow(WebhookReceiver.StartAsync);
        receiver.Respond = (_, index) => index == 0 ? 200 : 503;
        await WebhookTestKit.CreateWebhookAsync(crm, receiver);
        await PublishLoggedAsync(agent,
            Envelope("incoming_call", Call("call-1", "0912 345 678"), seq: 1, occurredAt: start),
            Envelope("call_answered", Call("call-1"), seq: 2, occurredAt: start.AddSeconds(4)),
            Envelope("call_hangup", new { call = new { uuid = "call-1", number = "0912345678" }, billsec = 42 }, seq: 3, occurredAt: start.AddSeconds(46)));
        var pop = await pops.ReadAsync(timeout.Token);
        Assert.Equal(2, pop.GetProperty("matches").GetArrayLength());
        await agent.InvokeAsync("PickContact", new { call_id = "call-1", external_id = "c-1" });
        await ReadAsync(await crm.PostAsJsonAsync("/api/v1/agents/agent-7/dial", new { number = "+84 912 345 678" }), HttpStatusCode.Accepted);
        Assert.Equal([200, 503], (await receiver.NextAsync(2)).Select(hook => hook.AnsweredWith));
        Assert.Equal("c-1", (await ReadAsync(await crm.GetAsync("/api/v1/calls/call-1"), HttpStatusCode.OK))["contact"]!["external_id"]!.GetValue<string>());

        var erased = await ReadAsync(await EraseAsync(reseller, new { number = "+84912345678" }), HttpStatusCode.OK);

        Assert.Equal(1, erased["calls"]!.GetValue<int>());
        Assert.Equal(3, erased["events"]!.GetValue<int>());
        Assert.Equal(2, erased["contacts"]!.GetValue<int>());

        // The call keeps its timing and status and loses its numbers, payloads and contact.
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/calls?number=0912345678"), HttpStatusCode.OK))["items"]!.AsArray());
        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-1"), HttpStatusCode.OK);
        Assert.Equal("answered", call["status"]!.GetValue<string>());
        Assert.Equal(42, call["billsec"]!.GetValue<int>());
        Assert.Equal(4, call["ring_seconds"]!.GetValue<int>());
        Assert.Equal("inbound", call["direction"]!.GetValue<string>());
        Assert.Equal("erased", call["from_number"]!.GetValue<string>());
        Assert.Equal("erased", call["remote_number"]!.GetValue<string>());
        Assert.Null(call["contact"]);
        Assert.NotNull(call["erased_at"]);
        Assert.Equal(["incoming_call", "call_answered", "call_hangup"], call["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()));
        Assert.All(call["events"]!.AsArray(), e => Assert.Equal("erased", e!["payload"]!.GetValue<string>()));
        Assert.DoesNotContain("345678", call.ToJsonString(), StringComparison.Ordinal);

        // Another number's call, and another tenant's call from the same number, are untouched.
        var other = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-2"), HttpStatusCode.OK);
        Assert.Equal("0987000222", other["from_number"]!.GetValue<string>());
        Assert.Null(other["erased_at"]);
        Assert.Equal("0912345678", await ScalarAsync<string>("SELECT from_number FROM calls WHERE tenant_id = @globexId", new { globexId }));

        // Contacts lose the phone; one left with none stays.
        Assert.Equal(["+84 987 000 111"], (await ReadAsync(await crm.GetAsync("/api/v1/contacts/c-1"), HttpStatusCode.OK))["phones"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/contacts/c-2"), HttpStatusCode.OK))["phones"]!.AsArray());
        Assert.Equal(["+84 987 000 222"], (await ReadAsync(await crm.GetAsync("/api/v1/contacts/c-3"), HttpStatusCode.OK))["phones"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=0912345678"), HttpStatusCode.OK)).AsArray());

        // The store holds the number nowhere for this account: picks, pops, dial commands, webhook bodies and their log.
        var tenant = new { tenantId = customerId };
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM contact_picks WHERE tenant_id = @tenantId", tenant));
        Assert.Equal("erased", await ScalarAsync<string>("SELECT number FROM screen_pops WHERE tenant_id = @tenantId AND call_id = 'call-1'", tenant));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM commands WHERE tenant_id = @tenantId AND (number IS NOT NULL OR payload LIKE '%345678%')", tenant));
        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = @tenantId AND call_id = 'call-1' AND (status = 'pending' OR body <> '\"erased\"')", tenant));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries WHERE tenant_id = @tenantId AND call_id = 'call-1'", tenant));
        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = @tenantId AND a.response_body IS NOT NULL", tenant));

        // The stream replays the other call and what comes after, never the erased call's events.
        var marker = await PublishLoggedAsync(agent, Envelope("registered", null, seq: 9));
        await using (var stream = await SseStream.OpenAsync(crm, "?from=beginning", null, timeout.Token))
        {
            var replayed = await stream.ReadAsync(2, timeout.Token);
            Assert.Equal(kept.Concat(marker), replayed.Select(e => e.EventId));
        }

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM event_stream WHERE tenant_id = @tenantId AND call_id = 'call-1'", tenant));

        // The audit entry says who erased how much, in the account that asked, and never the number.
        var audit = await ReadAsync(await reseller.GetAsync("/api/v1/audit"), HttpStatusCode.OK);
        var entry = Assert.Single(audit["items"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "privacy.erased")!;
        Assert.StartsWith("api_key:", entry["actor"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(resellerId, entry["tenant_id"]!.GetValue<string>());
        Assert.Equal(JsonNode.Parse("""{"calls":1,"events":3,"contacts":2}""")!.ToJsonString(), entry["detail"]!.ToJsonString());
        Assert.DoesNotContain("345678", audit.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Late_event_of_an_erased_call_does_not_bring_its_number_or_record_back()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme", [.. CrmScopes, "calls:write"]);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var start = DateTimeOffset.UtcNow;
        await PublishLoggedAsync(agent,
            Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1, occurredAt: start),
            Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 30 }, seq: 3, occurredAt: start.AddSeconds(40)));
        await ReadAsync(await EraseAsync(crm, new { number = "0912345678" }), HttpStatusCode.OK);

        await PublishLoggedAsync(agent, Envelope("call_answered", new { call = new { uuid = "call-1", number = "0912345678" } }, seq: 2, occurredAt: start.AddSeconds(10)));

        var call = await ReadAsync(await crm.GetAsync("/api/v1/calls/call-1"), HttpStatusCode.OK);
        Assert.Equal("erased", call["from_number"]!.GetValue<string>());
        Assert.Equal(30, call["billsec"]!.GetValue<int>());
        Assert.Equal("answered", call["status"]!.GetValue<string>());
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/calls?number=0912345678"), HttpStatusCode.OK))["items"]!.AsArray());
    }

    [Fact]
    public async Task Bad_number_is_400_invalid_number_and_the_scope_and_account_are_checked_and_nothing_changes()
    {
        var (parentId, parent) = await CreateTenantAsync(Factory, "Reseller", ["admin"]);
        var (childId, child) = await CreateTenantAsync(Factory, "Customer", [.. CrmScopes, "calls:write"], parent: parent);
        await SeedCall.InsertAsync(Factory, parentId, new SeedCall("p-1", DateTimeOffset.UtcNow));
        await SeedCall.InsertAsync(Factory, childId, new SeedCall("c-1", DateTimeOffset.UtcNow));
        var (_, reader) = await CreateTenantAsync(Factory, "Reader", ["calls:read"]);

        foreach (var body in new object[] { new { number = "not a number" }, new { number = "" }, new { }, new { number = new string('9', 200) } })
        {
            var problem = await AssertProblemAsync(await EraseAsync(child, body), HttpStatusCode.BadRequest, "invalid_number");
            Assert.DoesNotContain("not a number", problem.ToJsonString(), StringComparison.Ordinal);
        }

        await AssertProblemAsync(await EraseAsync(reader, new { number = "0912345678" }), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await EraseAsync(child, new { number = "0912345678" }, parentId), HttpStatusCode.Forbidden, "account_forbidden");

        // The child's erasure reaches the child only, never its parent.
        var erased = await ReadAsync(await EraseAsync(child, new { number = "0912345678" }), HttpStatusCode.OK);
        Assert.Equal(1, erased["calls"]!.GetValue<int>());
        Assert.Equal("+84912345678", await ScalarAsync<string>("SELECT remote_number FROM calls WHERE tenant_id = @parentId", new { parentId }));
        Assert.Equal("erased", await ScalarAsync<string>("SELECT remote_number FROM calls WHERE tenant_id = @childId", new { childId }));
    }
}

public sealed class SqliteErasureTests : ErasureTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory(new HubTopology(Settings: Settings)));
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresErasureTests(PostgresFixture postgres) : ErasureTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() =>
        new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync(), Settings: Settings));
}
