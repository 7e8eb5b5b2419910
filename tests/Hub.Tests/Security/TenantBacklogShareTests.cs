using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Hub.Contracts;
using Hub.Tests.Support;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// The embedded default's in-process backlog is shared by every tenant: one tenant publishing faster than the store
/// writes must not take all of it, so another tenant's events are still accepted at once.
/// </summary>
public sealed class TenantBacklogShareTests : IAsyncLifetime
{
    private const int Capacity = 8;
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly ConsumerGate _gate = new();
    private readonly HubApiFactory _base = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:EmbeddedBacklog"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Hub:PublishTimeout"] = PublishTimeout.ToString(),
    }));

    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _factory = null!;

    public Task InitializeAsync()
    {
        _factory = _base.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddConsumeObserver(_ => _gate)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _gate.Open();
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await _factory.DisposeAsync();
        await _base.DisposeAsync();
    }

    [Fact]
    public async Task One_tenant_filling_its_share_does_not_keep_another_tenants_events_out()
    {
        var agentA = await ConnectAsync("Flood");
        var agentB = await ConnectAsync("Quiet");
        _gate.Close();

        // With every consumer stalled, tenant A publishes until the hub refuses: it got at most its share (half the
        // backlog while it is the only tenant in it), not all of it.
        var acceptedA = 0;
        HubException? refusedA = null;
        for (var i = 0; i <= Capacity && refusedA is null; i++)
        {
            try
            {
                await agentA.InvokeAsync("Publish", Envelope("call_hold", Call($"call-{i}")));
                acceptedA++;
            }
            catch (HubException exception)
            {
                refusedA = exception;
            }
        }

        Assert.NotNull(refusedA);
        Assert.StartsWith("bus_unavailable:", refusedA.HubMessage);
        Assert.InRange(acceptedA, 1, Capacity / 2);

        // Tenant B's publish is accepted promptly, while A's next one still waits out the publish timeout.
        var waitingA = agentA.InvokeAsync("Publish", Envelope("call_hold", Call("call-late")));
        var elapsed = Stopwatch.StartNew();
        var ackB = await agentB.InvokeAsync("Publish", Envelope("incoming_call", Call("call-b", "0912345678")));
        Assert.Equal("accepted", ackB.GetProperty("status").GetString());
        Assert.True(elapsed.Elapsed < PublishTimeout, $"B waited {elapsed.Elapsed}.");
        var lateA = await Assert.ThrowsAsync<HubException>(() => waitingA.WaitAsync(Timeout));
        Assert.StartsWith("bus_unavailable:", lateA.HubMessage);
    }

    [Fact]
    public async Task Consumed_events_give_their_slots_back_to_their_tenant_so_its_share_comes_back()
    {
        var agentA = await ConnectAsync("Flood");
        _gate.Close();
        var first = new List<Guid>();
        for (var i = 0; i < Capacity / 2; i++)
        {
            first.Add(Guid.NewGuid());
            await agentA.InvokeAsync("Publish", Envelope("call_hold", Call($"call-{i}"), first[^1]));
        }

        var backlog = _factory.Services.GetRequiredService<Hub.Consumers.WebphoneEvents.EventBacklog>();
        Assert.Equal(Capacity / 2, backlog.HeldBy(TenantOf(agentA)));

        _gate.Open();
        var consumed = _factory.Services.GetRequiredService<ConsumedEvents>();
        foreach (var eventId in first)
        {
            await consumed.WaitAsync("hub-events", eventId, Timeout);
        }

        // Once consumed, the tenant holds nothing again and publishes its full share at once.
        _gate.Close();
        for (var i = 0; i < Capacity / 2; i++)
        {
            var ack = await agentA.InvokeAsync("Publish", Envelope("call_hold", Call($"again-{i}"))).WaitAsync(PublishTimeout);
            Assert.Equal("accepted", ack.GetProperty("status").GetString());
        }
    }

    private readonly Dictionary<AgentConnection, string> _tenants = [];
    private readonly List<AgentConnection> _agents = [];

    private string TenantOf(AgentConnection agent) => _tenants[agent];

    /// <summary>A new tenant with an agent connected; on the gated host, so HubScenario's helpers (which take a HubApiFactory) are not used.</summary>
    private async Task<AgentConnection> ConnectAsync(string name)
    {
        using var admin = _factory.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HubApiFactory.AdminKey);
        var tenantId = (await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name }), HttpStatusCode.Created))["id"]!.GetValue<string>();
        using var crm = _factory.CreateClient();
        crm.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await CreateKeyAsync(admin, tenantId, ["tokens"]));
        var embedToken = await MintEmbedTokenAsync(crm, "agent-7");
        using var exchange = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions");
        exchange.Headers.Authorization = new AuthenticationHeaderValue("Bearer", embedToken);
        var session = await ReadAsync(await admin.SendAsync(exchange), HttpStatusCode.OK);
        var agent = await AgentConnection.StartAsync(HubApiFactory.CreateAgentConnection(_factory.Server, session["session_token"]!.GetValue<string>()));
        await agent.InvokeAsync("Hello");
        _agents.Add(agent);
        _tenants[agent] = tenantId;
        return agent;
    }

    /// <summary>Holds every webphone event before its consumer while closed, as a store slower than the publishers would.</summary>
    private sealed class ConsumerGate : IConsumeObserver
    {
        private volatile TaskCompletionSource _open = Opened();

        public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class =>
            context.Message is IWebphoneEvent or Batch<IWebphoneEvent> ? _open.Task : Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        private static TaskCompletionSource Opened()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.TrySetResult();
            return open;
        }
    }
}
