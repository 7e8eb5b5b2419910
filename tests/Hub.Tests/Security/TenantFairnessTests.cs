using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Hub.Store;
using Hub.Tests.ScreenPop;
using Hub.Tests.Support;
using Hub.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;
using static Hub.Tests.Webhooks.WebhookTestKit;

namespace Hub.Tests.Security;

/// <summary>
/// Issue 14, point 5: one account whose receivers or CRM stall holds only its own share of the workers, so
/// another account's webhooks and screen-pops keep their latency, and the stalled account loses nothing.
/// </summary>
public sealed class TenantFairnessTests : IAsyncLifetime
{
    /// <summary>Far longer than <see cref="OtherTenantBound"/>: on a shared slot, a stalled attempt shows.</summary>
    private const string StalledAttemptTimeout = "00:00:08";

    /// <summary>How soon the other account's deliveries and pops must arrive while the first one stalls.</summary>
    private static readonly TimeSpan OtherTenantBound = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly List<IAsyncDisposable> _disposables = [];
    private HubApiFactory? _factory;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Receivers first: a stalled attempt then ends at once instead of at its timeout.
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _factory?.Dispose();
    }

    private HubApiFactory Start(Dictionary<string, string> settings) => _factory = new HubApiFactory(new HubTopology(Settings: settings));

    private T Track<T>(T disposable) where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    [Fact]
    public async Task An_account_whose_twenty_receivers_never_answer_does_not_delay_another_accounts_deliveries()
    {
        var factory = Start(FastRetries(new() { ["Hub:Webhooks:AttemptTimeout"] = StalledAttemptTimeout }));
        // Three hosts: the account's share (16) is reached, not only its share of one host (8).
        var stalled = new[] { Track(await WebhookReceiver.StartAsync()), Track(await WebhookReceiver.StartAsync()), Track(await WebhookReceiver.StartAsync()) };
        var held = new InFlightGauge();
        foreach (var receiver in stalled)
        {
            receiver.Stall = (_, _) => true;
            receiver.AlsoCountIn = held;
        }

        var healthy = Track(await WebhookReceiver.StartAsync());

        var (_, crmA) = await CreateTenantAsync(factory, "Stalled");
        for (var i = 0; i < 20; i++)
        {
            await CreateWebhookAsync(crmA, stalled[i % stalled.Length]);
        }

        var (_, crmB) = await CreateTenantAsync(factory, "Bystander");
        await CreateWebhookAsync(crmB, healthy);
        var agentA = Track(await ConnectAgentAsync(factory, crmA, "agent-a"));
        var agentB = Track(await ConnectAgentAsync(factory, crmB, "agent-b"));

        // 4 events × 20 webhooks: more attempts than a worker has slots, every one of them held open.
        for (var call = 0; call < 4; call++)
        {
            await PublishAsync(agentA, Envelope("incoming_call", Call($"a-{call}", "0912000001")));
        }

        await held.ReachedAsync(16, Timeout);

        var stopwatch = Stopwatch.StartNew();
        var sent = new HashSet<string>();
        for (var call = 0; call < 3; call++)
        {
            sent.Add(await PublishAsync(agentB, Envelope("incoming_call", Call($"b-{call}", "0912000002"))));
        }

        var arrived = new HashSet<string>();
        while (arrived.Count < sent.Count)
        {
            var received = await healthy.NextAsync();
            Assert.True(stopwatch.Elapsed < OtherTenantBound,
                $"{arrived.Count} of the other account's {sent.Count} deliveries arrived within {OtherTenantBound.TotalSeconds} s (took {stopwatch.Elapsed.TotalSeconds:0.0} s)");
            Assert.Equal(200, received.AnsweredWith);
            arrived.Add(received.EventId);
        }

        Assert.Equal(sent, arrived);
        // Held back, not dropped: every delivery of the stalled account is still pending.
        Assert.Equal(80, await PendingDeliveriesAsync(crmA));
    }

    [Fact]
    public async Task An_account_never_has_more_attempts_under_way_than_its_bounds_and_every_delivery_still_arrives_once()
    {
        var factory = Start(FastRetries(new()
        {
            ["Hub:Webhooks:MaxConcurrentPerTenant"] = "3",
            ["Hub:Webhooks:MaxConcurrentPerHost"] = "2",
        }));
        // Two hosts (ports), both slow: each request waits until the test lets one through.
        var gate = new SemaphoreSlim(0);
        var first = Track(await WebhookReceiver.StartAsync());
        var second = Track(await WebhookReceiver.StartAsync());
        first.Gate = gate;
        second.Gate = gate;
        var firstHost = first.InFlight;
        var secondHost = second.InFlight;
        var tenant = new InFlightGauge();
        first.AlsoCountIn = tenant;
        second.AlsoCountIn = tenant;
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        for (var i = 0; i < 3; i++)
        {
            await CreateWebhookAsync(crm, first);
            await CreateWebhookAsync(crm, second);
        }

        var agent = Track(await ConnectAgentAsync(factory, crm, "agent-7"));
        const int Calls = 4;
        for (var call = 0; call < Calls; call++)
        {
            await PublishAsync(agent, Envelope("incoming_call", Call($"call-{call}", "0912000001")));
        }

        // The bound fills (2 on one host, 1 on the other) and stays full while the requests are held; then all go.
        await tenant.ReachedAsync(3, Timeout);

        gate.Release(1000);
        var delivered = (await first.NextAsync(Calls * 3)).Concat(await second.NextAsync(Calls * 3)).ToList();

        Assert.InRange(tenant.Max, 1, 3);
        Assert.InRange(firstHost.Max, 1, 2);
        Assert.InRange(secondHost.Max, 1, 2);
        Assert.Equal(Calls * 6, delivered.Select(r => r.WebhookId).Distinct().Count());
        Assert.All(delivered, r => Assert.Equal(200, r.AnsweredWith));
        Assert.Equal(0, await PendingDeliveriesAsync(crm));
    }

    [Fact]
    public async Task An_account_whose_crm_never_answers_does_not_delay_another_accounts_pops()
    {
        var factory = Start(new()
        {
            ["Hub:ScreenPop:MaxConcurrentLookupsPerTenant"] = "4",
            // Both CRMs are test servers on this machine.
            ["Hub:Webhooks:AllowHttpLoopback"] = "true",
            ["Hub:Webhooks:AllowPrivateNetworks"] = "true",
        });
        var stalledCrm = Track(await FakeCrm.StartAsync());
        stalledCrm.Respond = FakeCrm.Hang();
        var healthyCrm = Track(await FakeCrm.StartAsync());
        healthyCrm.Respond = FakeCrm.Json(new { matches = new[] { new { external_id = "crm-b", display_name = "Tran Van B" } } });

        var (tenantA, crmA) = await CreateTenantAsync(factory, "Stalled");
        await ConfigureCrmLookupAsync(factory, tenantA, new { url = stalledCrm.Url, timeout_ms = 10_000 });
        var (tenantB, crmB) = await CreateTenantAsync(factory, "Bystander");
        await ConfigureCrmLookupAsync(factory, tenantB, new { url = healthyCrm.Url, timeout_ms = 10_000 });
        var agentA = Track(await ConnectAgentAsync(factory, crmA, "agent-a"));
        var popsA = agentA.Subscribe("ScreenPop");
        var agentB = Track(await ConnectAgentAsync(factory, crmB, "agent-b"));
        var popsB = agentB.Subscribe("ScreenPop");

        // 30 unknown callers at once, each a lookup the CRM holds until the 10 s timeout.
        const int Calls = 30;
        var started = Stopwatch.StartNew();
        for (var call = 0; call < Calls; call++)
        {
            await PublishAsync(agentA, Envelope("incoming_call", Call($"a-{call}", $"0912 000 {call:000}")));
        }

        for (var request = 0; request < 4; request++)
        {
            await stalledCrm.Arrivals.ReadAsync().AsTask().WaitAsync(Timeout);
        }

        var stopwatch = Stopwatch.StartNew();
        await PublishAsync(agentB, Envelope("incoming_call", Call("b-1", "0987 654 321")));
        var popB = await ReadPopAsync(popsB, "b-1");
        Assert.True(stopwatch.Elapsed < OtherTenantBound,
            $"the other account's pop took {stopwatch.Elapsed.TotalSeconds:0.0} s while the first account's CRM stalled");
        Assert.False(popB.GetProperty("unknown_caller").GetBoolean());
        Assert.Equal("crm-b", popB.GetProperty("matches")[0].GetProperty("external_id").GetString());

        // The stalled account's pops beyond its bound did not wait for its CRM: they are unknown-caller pops now.
        for (var pop = 0; pop < Calls - 4; pop++)
        {
            var popA = await popsA.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.True(popA.GetProperty("unknown_caller").GetBoolean());
        }

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8),
            $"{Calls - 4} pops of the stalled account took {started.Elapsed.TotalSeconds:0.0} s: they waited on the CRM");
        Assert.Equal(4, stalledCrm.RequestCount);
    }

    private static async Task<JsonElement> ReadPopAsync(ChannelReader<JsonElement> pops, string callId)
    {
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(callId, pop.GetProperty("call_id").GetString());
        return pop;
    }

    /// <summary>Written to the store before the account's first call, so the workers' config cache has nothing older.</summary>
    private static async Task ConfigureCrmLookupAsync(HubApiFactory factory, string tenantId, object crmLookup)
    {
        var document = JsonSerializer.Serialize(new { crm_lookup = crmLookup });
        var database = factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@tenantId, @document, @now)
            ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
            """, new { tenantId, document, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
    }

    /// <summary>The account's deliveries still pending, over all its webhooks, read through the API.</summary>
    private static async Task<int> PendingDeliveriesAsync(HttpClient crm)
    {
        var webhooks = await ReadAsync(await crm.GetAsync("/api/v1/webhooks"), HttpStatusCode.OK);
        var pending = 0;
        foreach (var webhook in webhooks.AsArray())
        {
            var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhook!["id"]!.GetValue<string>()}/deliveries?status=pending&limit=200"),
                HttpStatusCode.OK);
            pending += log["items"]!.AsArray().Count;
        }

        return pending;
    }
}
