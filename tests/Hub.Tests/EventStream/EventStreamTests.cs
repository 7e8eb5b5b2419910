using System.Net;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.EventStream;

/// <summary>
/// <c>GET /api/v1/events/stream</c> in the embedded hub, on each store (<see cref="SqliteEventStreamTests"/>,
/// <see cref="PostgresEventStreamTests"/>). Every wait on the stream is bounded by <see cref="Timeout"/>.
/// </summary>
public abstract class EventStreamTests : StoreTestBase
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task From_the_beginning_the_stream_gives_the_accounts_events_in_order_with_ascending_ids()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var published = await PublishAsync(agent,
            Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1),
            Envelope("call_answered", Call("call-1"), seq: 2),
            Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 7 }, seq: 3));

        await using var stream = await SseStream.OpenAsync(crm, "?from=beginning", null, timeout.Token);
        var events = await stream.ReadAsync(3, timeout.Token);

        Assert.Equal(published, events.Select(e => e.EventId));
        Assert.Equal(["incoming_call", "call_answered", "call_hangup"], events.Select(e => e.Event));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal(3, events.Select(e => e.Id).Distinct().Count());
        var first = events[0].Data;
        Assert.Equal("incoming_call", first["type"]!.GetValue<string>());
        Assert.Equal(tenantId, first["tenant_id"]!.GetValue<string>());
        Assert.NotNull(first["occurred_at"]);
        Assert.Equal("agent-7", first["data"]!["agent_id"]!.GetValue<string>());
        Assert.Equal("call-1", first["data"]!["call_id"]!.GetValue<string>());
        Assert.Equal(1, first["data"]!["seq"]!.GetValue<long>());
        Assert.Equal("0912345678", first["data"]!["payload"]!["call"]!["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reconnecting_with_Last_Event_ID_resumes_after_it_with_nothing_missing_or_repeated()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var published = await PublishAsync(agent,
            Envelope("registered", null, seq: 1), Envelope("incoming_call", Call("call-1", "0912345678"), seq: 2),
            Envelope("call_answered", Call("call-1"), seq: 3));

        long lastSeen;
        await using (var first = await SseStream.OpenAsync(crm, "?from=beginning", null, timeout.Token))
        {
            var seen = await first.ReadAsync(2, timeout.Token);
            Assert.Equal(published.Take(2), seen.Select(e => e.EventId));
            lastSeen = seen[^1].Id;
        }

        // Published while no client is connected.
        published.AddRange(await PublishAsync(agent, Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 3 }, seq: 4)));

        await using var resumed = await SseStream.OpenAsync(crm, "", lastSeen, timeout.Token);
        var rest = await resumed.ReadAsync(2, timeout.Token);
        Assert.Equal(published.Skip(2), rest.Select(e => e.EventId));
        Assert.All(rest, e => Assert.True(e.Id > lastSeen));

        // Nothing else was waiting: the next event read is the next one published.
        published.AddRange(await PublishAsync(agent, Envelope("unregistered", null, seq: 5)));
        Assert.Equal(published[^1], (await resumed.ReadAsync(timeout.Token)).EventId);
    }

    [Fact]
    public async Task The_query_parameter_last_event_id_resumes_like_the_header()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var published = await PublishAsync(agent, Envelope("registered", null, seq: 1), Envelope("unregistered", null, seq: 2));
        long firstId;
        await using (var all = await SseStream.OpenAsync(crm, "?from=beginning", null, timeout.Token))
        {
            firstId = (await all.ReadAsync(timeout.Token)).Id;
        }

        await using var resumed = await SseStream.OpenAsync(crm, $"?last_event_id={firstId}", null, timeout.Token);
        Assert.Equal(published[1], (await resumed.ReadAsync(timeout.Token)).EventId);
    }

    [Fact]
    public async Task Without_a_position_the_stream_starts_with_new_events_only()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        await PublishAsync(agent, Envelope("registered", null, seq: 1));

        await using var stream = await SseStream.OpenAsync(crm, "", null, timeout.Token);
        var later = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678"), seq: 2));

        Assert.Equal(later[0], (await stream.ReadAsync(timeout.Token)).EventId);
    }

    [Fact]
    public async Task Another_accounts_events_never_appear()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, acme) = await CreateTenantAsync(Factory, "Acme");
        var (_, globex) = await CreateTenantAsync(Factory, "Globex");
        await using var acmeAgent = await ConnectAgentAsync(Factory, acme, "agent-7");
        await using var globexAgent = await ConnectAgentAsync(Factory, globex, "agent-7");
        await using var stream = await SseStream.OpenAsync(acme, "?from=beginning", null, timeout.Token);

        await PublishAsync(globexAgent, Envelope("incoming_call", Call("call-g", "0912000000")));
        var own = await PublishAsync(acmeAgent, Envelope("incoming_call", Call("call-a", "0912345678")));

        var received = await stream.ReadAsync(timeout.Token);
        Assert.Equal(own[0], received.EventId);
        Assert.Equal("call-a", received.Data["data"]!["call_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_types_filter_leaves_out_other_event_types()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        var published = await PublishAsync(agent,
            Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1),
            Envelope("call_answered", Call("call-1"), seq: 2),
            Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 7 }, seq: 3));

        await using var stream = await SseStream.OpenAsync(crm, "?from=beginning&types=incoming_call,call_hangup", null, timeout.Token);
        var events = await stream.ReadAsync(2, timeout.Token);

        Assert.Equal([published[0], published[2]], events.Select(e => e.EventId));
        Assert.Equal(["incoming_call", "call_hangup"], events.Select(e => e.Event));
    }

    [Fact]
    public async Task A_key_without_the_webhooks_scope_is_forbidden()
    {
        var (_, reader) = await CreateTenantAsync(Factory, "Acme", ["calls:read"]);

        using var response = await reader.GetAsync("/api/v1/events/stream?from=beginning");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_malformed_Last_Event_ID_is_a_bad_request()
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream");
        request.Headers.Add("Last-Event-ID", "not-a-position");

        await AssertProblemAsync(await crm.SendAsync(request), HttpStatusCode.BadRequest, "invalid_query");
    }

    /// <summary>Publishes each envelope and waits until the event stream stored it; returns the event ids in order.</summary>
    private async Task<List<Guid>> PublishAsync(AgentConnection agent, params object[] envelopes)
    {
        var ids = new List<Guid>();
        foreach (var envelope in envelopes)
        {
            var ack = await agent.InvokeAsync("Publish", envelope);
            Assert.Equal("accepted", ack.GetProperty("status").GetString());
            var eventId = Guid.Parse(ack.GetProperty("event_id").GetString()!);
            await Factory.ConsumedAsync("hub-events", eventId);
            ids.Add(eventId);
        }

        return ids;
    }
}

public sealed class SqliteEventStreamTests : EventStreamTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

/// <summary>The event stream on a real PostgreSQL, each test on a fresh database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEventStreamTests(PostgresFixture postgres) : EventStreamTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() =>
        new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
