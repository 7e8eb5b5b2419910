using System.Net;
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
        await Assert.ThrowsAnyAsync<Exception>(() => NodeA.ConnectAgentAsync(session));
        await Assert.ThrowsAnyAsync<Exception>(() => NodeB.ConnectAgentAsync(session));
        await AssertProblemAsync(await NodeB.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
    }
}
