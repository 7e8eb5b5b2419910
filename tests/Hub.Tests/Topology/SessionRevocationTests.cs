using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Auth;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Topology;

/// <summary>Sign-out across two Api nodes (and a worker) on one real broker and one real PostgreSQL.</summary>
[Collection(ProductionCollection.Name)]
public sealed class SessionRevocationTests(PostgresFixture postgres, RabbitMqFixture rabbitMq) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private ProductionCluster _cluster = null!;

    private HubApiFactory NodeA => _cluster.NodeA;

    private HubApiFactory NodeB => _cluster.NodeB;

    public async Task InitializeAsync() => _cluster = await ProductionCluster.StartAsync(postgres, rabbitMq);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Sign_out_on_node_B_closes_the_sessions_connection_on_node_A_and_it_cannot_reconnect()
    {
        var (_, crm) = await CreateTenantAsync(NodeB, "Acme");
        var session = await SignInAsync(NodeB, crm, "agent-7");
        await using var agentOnA = await NodeA.ConnectAgentAsync(session);
        var authRequired = agentOnA.Subscribe("AuthRequired");

        Assert.Equal(HttpStatusCode.NoContent, (await NodeB.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current")).StatusCode);

        var reason = await authRequired.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("signed_out", reason.GetProperty("reason").GetString());
        await agentOnA.Closed.WaitAsync(Timeout);
        await HubRefusal.AssertSessionRefusedAsync(NodeA, session);
        await HubRefusal.AssertSessionRefusedAsync(NodeB, session);
        await AssertProblemAsync(await NodeA.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await NodeB.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Analyst_session_signed_out_on_node_B_is_401_unauthorized_for_the_calls_api_on_node_A()
    {
        var (_, crm) = await CreateTenantAsync(NodeB, "Acme");
        var minted = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = "supervisor-1", role = "analyst" }), HttpStatusCode.OK);
        var signedIn = await ReadAsync(await ExchangeAsync(NodeB, minted["embed_token"]!.GetValue<string>()), HttpStatusCode.OK);
        using var analystOnA = NodeA.ClientWithKey(signedIn["session_token"]!.GetValue<string>());
        using var analystOnB = NodeB.ClientWithKey(signedIn["session_token"]!.GetValue<string>());
        await ReadAsync(await analystOnA.GetAsync("/api/v1/calls"), HttpStatusCode.OK);
        await ReadAsync(await analystOnA.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.NoContent, (await analystOnB.DeleteAsync("/api/v1/sessions/current")).StatusCode);

        await AssertProblemAsync(await analystOnA.GetAsync("/api/v1/calls"), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await analystOnA.GetAsync("/api/v1/calls/stats"), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await analystOnA.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await analystOnA.DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
    }
}
