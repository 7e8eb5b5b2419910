using System.Net;
using System.Text.Json.Nodes;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Hub.Consumers.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;
using static Hub.Tests.Webhooks.WebhookTestKit;

namespace Hub.Tests.Webhooks;

/// <summary>
/// Webhook delivery against a real local HTTP receiver, on each store (<see cref="SqliteWebhookDeliveryTests"/>,
/// <see cref="PostgresWebhookDeliveryTests"/>): signing, retries, order per call, disabling, redelivery, the log.
/// </summary>
public abstract class WebhookDeliveryTests : StoreTestBase
{
    protected abstract Task<HubApiFactory> CreateFactoryAsync(Dictionary<string, string> settings);

    protected override Task<HubApiFactory> CreateFactoryAsync() => CreateFactoryAsync(FastRetries());

    private static Dictionary<string, string> ManyRetries() =>
        Enumerable.Range(0, 40).ToDictionary(i => $"Hub:Webhooks:RetrySchedule:{i}", _ => "00:00:00.050");

    [Fact]
    public async Task The_signature_verifies_with_the_receivers_own_standard_webhooks_check_and_the_body_is_the_event()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await CreateWebhookAsync(crm, receiver);
        Assert.Matches("^whsec_[A-Za-z0-9+/]+=*$", receiver.Secret);
        Assert.True(Convert.FromBase64String(receiver.Secret["whsec_".Length..]).Length >= 24);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        var eventId = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678"), seq: 4));

        var received = await receiver.NextAsync();
        Assert.True(received.SignatureValid, $"signature {received.Signature} of {received.RawBody}");
        Assert.False(WebhookReceiver.Verify(receiver.Secret, received.WebhookId, received.Timestamp, received.RawBody + " ", received.Signature));
        Assert.StartsWith("msg_", received.WebhookId, StringComparison.Ordinal);
        var body = received.Body;
        Assert.Equal(eventId, body["id"]!.GetValue<string>());
        Assert.Equal("incoming_call", body["type"]!.GetValue<string>());
        Assert.Equal(tenantId, body["tenant_id"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(body["occurred_at"]!.GetValue<string>(), out _));
        Assert.Equal("agent-7", body["data"]!["agent_id"]!.GetValue<string>());
        Assert.Equal("call-1", body["data"]!["call_id"]!.GetValue<string>());
        Assert.Equal(4, body["data"]!["seq"]!.GetValue<long>());
        Assert.Equal("0912345678", body["data"]!["payload"]!["call"]!["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_receiver_down_for_the_first_attempts_gets_the_event_exactly_once_after_recovery_with_the_same_webhook_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => index < 3 ? 503 : 200;
        var attempts = Factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        var sinceFirstAttempt = System.Diagnostics.Stopwatch.StartNew();
        var eventId = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        var received = await receiver.NextAsync(4);
        await attempts.RecordedAsync(received[0].WebhookId, 4);
        var elapsedMs = sinceFirstAttempt.ElapsedMilliseconds;

        Assert.All(received, r => Assert.Equal(received[0].WebhookId, r.WebhookId));
        Assert.All(received, r => Assert.Equal(eventId, r.EventId));
        Assert.All(received, r => Assert.True(r.SignatureValid));
        Assert.Equal([503, 503, 503, 200], received.Select(r => r.AnsweredWith));

        // Nothing more for that event: the next request the receiver sees is the next event's.
        var later = await PublishAsync(agent, Envelope("registered", null, seq: 2));
        Assert.Equal(later, (await receiver.NextAsync()).EventId);

        var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries?status=delivered"), HttpStatusCode.OK);
        var delivery = log["items"]!.AsArray().Single(d => d!["event_id"]!.GetValue<string>() == eventId)!;
        Assert.Equal(received[0].WebhookId, delivery["id"]!.GetValue<string>());
        Assert.Equal(4, delivery["attempt_count"]!.GetValue<long>());
        var tries = delivery["attempts"]!.AsArray();
        Assert.Equal(["failed", "failed", "failed", "succeeded"], tries.Select(a => a!["status"]!.GetValue<string>()));
        Assert.Equal([503, 503, 503, 200], tries.Select(a => a!["response_code"]!.GetValue<int>()));
        Assert.Equal("receiver says 503", tries[0]!["response_body"]!.GetValue<string>());
        Assert.All(tries, a => Assert.InRange(a!["duration_ms"]!.GetValue<long>(), 0, elapsedMs));
    }

    [Fact]
    public async Task An_attempt_with_no_answer_within_the_attempt_timeout_fails_and_a_retry_delivers_the_event_once_with_the_same_webhook_id()
    {
        Factory.Dispose();
        using var factory = await CreateFactoryAsync(FastRetries(new() { ["Hub:Webhooks:AttemptTimeout"] = "00:00:00.500" }));
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Stall = (_, index) => index == 0;
        var attempts = factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");

        var eventId = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        // The held request arrives when the hub drops it, which may be just after the retry.
        var received = await receiver.NextAsync(2);
        var abandoned = Assert.Single(received, r => r.AnsweredWith == 0);
        var delivered = Assert.Single(received, r => r.AnsweredWith == 200);
        await attempts.RecordedAsync(abandoned.WebhookId, 2);

        Assert.Equal(abandoned.WebhookId, delivered.WebhookId);
        Assert.All(received, r => Assert.Equal(eventId, r.EventId));
        Assert.True(delivered.SignatureValid);

        // Nothing more for that event: the next request the receiver sees is the next event's.
        var later = await PublishAsync(agent, Envelope("registered", null, seq: 2));
        Assert.Equal(later, (await receiver.NextAsync()).EventId);

        var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries?status=delivered"), HttpStatusCode.OK);
        var delivery = log["items"]!.AsArray().Single(d => d!["event_id"]!.GetValue<string>() == eventId)!;
        Assert.Equal(abandoned.WebhookId, delivery["id"]!.GetValue<string>());
        Assert.Equal(2, delivery["attempt_count"]!.GetValue<long>());
        var tries = delivery["attempts"]!.AsArray();
        Assert.Equal(["failed", "succeeded"], tries.Select(a => a!["status"]!.GetValue<string>()));
        Assert.Null(tries[0]!["response_code"]);
        Assert.Null(tries[0]!["response_body"]);
        Assert.Equal("No answer within 0.5 s.", tries[0]!["error"]!.GetValue<string>());
        Assert.InRange(tries[0]!["duration_ms"]!.GetValue<long>(), 450, 10_000);
        Assert.Equal(200, tries[1]!["response_code"]!.GetValue<int>());
        Assert.Null(tries[1]!["error"]);
    }

    [Fact]
    public async Task Events_of_one_call_arrive_in_order_while_an_early_one_is_retried()
    {
        // Retries for long enough (40 × 50 ms) that the ring is still pending when the later events queue.
        Factory.Dispose();
        using var factory = await CreateFactoryAsync(FastRetries(ManyRetries()));
        await using var receiver = await WebhookReceiver.StartAsync();
        // The ring fails until the later events are queued behind it, and at least twice.
        var laterQueued = 0;
        var failures = 0;
        receiver.Respond = (request, _) =>
            request.Type == "incoming_call" && (Volatile.Read(ref laterQueued) == 0 || Interlocked.Increment(ref failures) <= 2) ? 500 : 204;
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");

        foreach (var envelope in new[]
        {
            Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1),
            Envelope("call_answered", Call("call-1"), seq: 2),
            Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 7 }, seq: 3),
        })
        {
            await factory.ConsumedAsync("hub-events", Guid.Parse(await PublishAsync(agent, envelope)));
        }

        Volatile.Write(ref laterQueued, 1);
        var received = new List<ReceivedWebhook>();
        while (received.Count(r => r.AnsweredWith == 204) < 3)
        {
            received.Add(await receiver.NextAsync());
        }

        var firstSuccess = received.FindIndex(r => r.AnsweredWith == 204);
        Assert.True(firstSuccess >= 2, $"the ring succeeded at request {firstSuccess}");
        Assert.All(received.Take(firstSuccess + 1), r => Assert.Equal("incoming_call", r.Type));
        Assert.Equal(["incoming_call", "call_answered", "call_hangup"], received.Where(r => r.AnsweredWith == 204).Select(r => r.Type));
    }

    [Fact]
    public async Task An_earlier_event_of_the_call_arriving_late_goes_before_a_later_one_still_being_retried()
    {
        Factory.Dispose();
        using var factory = await CreateFactoryAsync(FastRetries(ManyRetries()));
        await using var receiver = await WebhookReceiver.StartAsync();
        var incomingSeen = 0;
        receiver.Respond = (request, _) =>
        {
            if (request.Type == "incoming_call")
            {
                Interlocked.Exchange(ref incomingSeen, 1);
                return 200;
            }

            return Volatile.Read(ref incomingSeen) == 1 ? 200 : 503;
        };
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");
        var ringing = DateTimeOffset.UtcNow.AddSeconds(-10);

        // The answer reaches the hub first (and fails), then the ring that came before it.
        await PublishAsync(agent, Envelope("call_answered", Call("call-1"), seq: 2, occurredAt: ringing.AddSeconds(5)));
        Assert.Equal(503, (await receiver.NextAsync()).AnsweredWith);
        await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1, occurredAt: ringing));

        var delivered = new List<string>();
        while (delivered.Count < 2)
        {
            var request = await receiver.NextAsync();
            if (request.AnsweredWith == 200)
            {
                delivered.Add(request.Type);
            }
        }

        Assert.Equal(["incoming_call", "call_answered"], delivered);
    }

    [Fact]
    public async Task Another_call_is_not_held_up_by_a_call_being_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (request, _) => request.Body["data"]!["call_id"]!.GetValue<string>() == "call-stuck" ? 500 : 200;
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        await CreateWebhookAsync(crm, receiver, "incoming_call");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        await PublishAsync(agent, Envelope("incoming_call", Call("call-stuck", "0912345678"), seq: 1));
        await PublishAsync(agent, Envelope("incoming_call", Call("call-free", "0912000000"), seq: 2));

        ReceivedWebhook free;
        do
        {
            free = await receiver.NextAsync();
        }
        while (free.AnsweredWith != 200);

        Assert.Equal("call-free", free.Body["data"]!["call_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_at_once_and_re_enabling_sends_what_was_pending()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => 410;
        var attempts = Factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        var eventId = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        var gone = await receiver.NextAsync();
        await attempts.RecordedAsync(gone.WebhookId, 1);

        var webhook = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}"), HttpStatusCode.OK);
        Assert.False(webhook["enabled"]!.GetValue<bool>());
        Assert.Contains("410", webhook["disabled_reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(webhook["disabled_at"]);

        // Disabled: new events are not queued for it, and redelivery is refused.
        await AssertProblemAsync(await crm.PostAsync($"/api/v1/webhooks/{webhookId}/deliveries/{gone.WebhookId}/redeliver", null),
            HttpStatusCode.Conflict, "webhook_disabled");

        receiver.Respond = (_, _) => 200;
        var enabled = await ReadAsync(await crm.PostAsync($"/api/v1/webhooks/{webhookId}/enable", null), HttpStatusCode.OK);
        Assert.True(enabled["enabled"]!.GetValue<bool>());
        Assert.Null(enabled["disabled_reason"]);

        var again = await receiver.NextAsync();
        Assert.Equal(gone.WebhookId, again.WebhookId);
        Assert.Equal(eventId, again.EventId);
        Assert.Equal(200, again.AnsweredWith);
    }

    [Fact]
    public async Task An_endpoint_failing_for_the_disable_after_period_is_disabled_with_a_reason()
    {
        Factory.Dispose();
        var schedule = ManyRetries();
        schedule["Hub:Webhooks:DisableAfter"] = "00:00:00.300";
        var factory = await CreateFactoryAsync(FastRetries(schedule));
        using var _ = factory;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => 500;
        var attempts = factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");

        await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        JsonNode webhook;
        var count = 0;
        do
        {
            var request = await receiver.NextAsync();
            await attempts.RecordedAsync(request.WebhookId, ++count);
            webhook = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}"), HttpStatusCode.OK);
        }
        while (webhook["enabled"]!.GetValue<bool>() && count < 40);

        Assert.False(webhook["enabled"]!.GetValue<bool>(), "still enabled after 40 failed attempts");
        Assert.Contains("failed", webhook["disabled_reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("HTTP 500", webhook["disabled_reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(count >= 3, $"disabled after {count} attempts, before the period could pass");
    }

    [Fact]
    public async Task Finished_deliveries_past_the_log_retention_are_pruned_and_pending_ones_stay()
    {
        Factory.Dispose();
        var factory = await CreateFactoryAsync(FastRetries(new()
        {
            ["Hub:Webhooks:LogRetention"] = "00:00:00",
            ["Hub:Webhooks:RetrySchedule:0"] = "01:00:00",
        }));
        using var _ = factory;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (request, _) => request.Type == "unregistered" ? 500 : 200;
        var attempts = factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");
        await PublishAsync(agent, Envelope("registered", null, seq: 1));
        var pending = await PublishAsync(agent, Envelope("unregistered", null, seq: 2));
        foreach (var request in await receiver.NextAsync(2))
        {
            await attempts.RecordedAsync(request.WebhookId, 1);
        }

        var pruned = await factory.Services.GetRequiredService<WebhookLogPruning>().PruneAsync(CancellationToken.None);

        Assert.Equal(1, pruned);
        var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries"), HttpStatusCode.OK);
        var left = Assert.Single(log["items"]!.AsArray())!;
        Assert.Equal(pending, left["event_id"]!.GetValue<string>());
        Assert.Equal("pending", left["status"]!.GetValue<string>());
        Assert.Single(left["attempts"]!.AsArray());
    }

    [Fact]
    public async Task Redeliver_sends_a_delivered_event_again_with_the_same_webhook_id_and_body()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var attempts = Factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");
        await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        var first = await receiver.NextAsync();
        await attempts.RecordedAsync(first.WebhookId, 1);

        var accepted = await ReadAsync(await crm.PostAsync($"/api/v1/webhooks/{webhookId}/deliveries/{first.WebhookId}/redeliver", null),
            HttpStatusCode.Accepted);
        Assert.Equal("pending", accepted["status"]!.GetValue<string>());

        var second = await receiver.NextAsync();
        Assert.Equal(first.WebhookId, second.WebhookId);
        Assert.Equal(first.RawBody, second.RawBody);
        Assert.True(second.SignatureValid);
        await attempts.RecordedAsync(first.WebhookId, 2);
        var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries"), HttpStatusCode.OK);
        var delivery = log["items"]!.AsArray().Single()!;
        Assert.Equal("delivered", delivery["status"]!.GetValue<string>());
        Assert.Equal(2, delivery["attempts"]!.AsArray().Count);

        await AssertProblemAsync(await crm.PostAsync($"/api/v1/webhooks/{webhookId}/deliveries/msg_{Guid.NewGuid():N}/redeliver", null),
            HttpStatusCode.NotFound, "webhook_delivery_not_found");
    }

    [Fact]
    public async Task The_delivery_log_filters_by_status()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (request, _) => request.Type == "unregistered" ? 500 : 200;
        var attempts = Factory.ObserveAttempts();
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver, "registered", "unregistered");
        await using var agent = await ConnectAgentAsync(Factory, crm, "agent-7");

        var delivered = await PublishAsync(agent, Envelope("registered", null, seq: 1));
        await PublishAsync(agent, Envelope("call_answered", Call("call-1"), seq: 2)); // not subscribed
        var failed = await PublishAsync(agent, Envelope("unregistered", null, seq: 3));
        var requests = new List<ReceivedWebhook>();
        while (requests.Count(r => r.Type == "unregistered") < 5)
        {
            requests.Add(await receiver.NextAsync());
        }

        foreach (var id in requests.Select(r => r.WebhookId).Distinct())
        {
            await attempts.RecordedAsync(id, requests.Count(r => r.WebhookId == id));
        }

        async Task<List<string>> EventsWith(string query) =>
            (await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries{query}"), HttpStatusCode.OK))["items"]!.AsArray()
            .Select(d => d!["event_id"]!.GetValue<string>()).ToList();

        Assert.Equal([delivered], await EventsWith("?status=delivered"));
        Assert.Equal([failed], await EventsWith("?status=failed"));
        Assert.Empty(await EventsWith("?status=pending"));
        Assert.Equal([failed, delivered], await EventsWith(""));
        Assert.DoesNotContain(requests, r => r.Type == "call_answered");

        var page = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries?limit=1"), HttpStatusCode.OK);
        var rest = await ReadAsync(await crm.GetAsync(
            $"/api/v1/webhooks/{webhookId}/deliveries?limit=1&cursor={Uri.EscapeDataString(page["next_cursor"]!.GetValue<string>())}"), HttpStatusCode.OK);
        Assert.Equal(delivered, rest["items"]![0]!["event_id"]!.GetValue<string>());
        await AssertProblemAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries?status=lost"), HttpStatusCode.BadRequest, "invalid_query");
    }
}

public sealed class SqliteWebhookDeliveryTests : WebhookDeliveryTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync(Dictionary<string, string> settings) =>
        Task.FromResult(new HubApiFactory(new HubTopology(Settings: settings)));
}

/// <summary>The same on a real PostgreSQL (the dispatcher's <c>FOR UPDATE SKIP LOCKED</c> claim), each test on a fresh database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresWebhookDeliveryTests(PostgresFixture postgres) : WebhookDeliveryTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync(Dictionary<string, string> settings) =>
        new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync(), Settings: settings));
}
