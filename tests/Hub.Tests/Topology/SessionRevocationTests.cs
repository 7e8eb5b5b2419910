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
    private WorkerProcess _workers = null!;
    private HubApiFactory _nodeA = null!;
    private HubApiFactory _nodeB = null!;

    public async Task InitializeAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        var broker = await rabbitMq.CreateVirtualHostAsync();
        _workers = await WorkerProcess.StartAsync(database, broker);
        _nodeA = new HubApiFactory(new HubTopology(database, broker, "api-a"));
        _nodeB = new HubApiFactory(new HubTopology(database, broker, "api-b"));
        _ = _nodeA.Server;
        _ = _nodeB.Server;
    }

    public async Task DisposeAsync()
    {
        _nodeA.Dispose();
        _nodeB.Dispose();
        await _workers.DisposeAsync();
    }

    [Fact]
    public async Task Sign_out_on_node_B_closes_the_sessions_connection_on_node_A_and_it_cannot_reconnect()
    {
        var (_, crm) = await CreateTenantAsync(_nodeB, "Acme");
        var session = await SignInAsync(_nodeB, crm, "agent-7");
        await using var agentOnA = await _nodeA.ConnectAgentAsync(session);
        var authRequired = agentOnA.Subscribe("AuthRequired");

        Assert.Equal(HttpStatusCode.NoContent, (await _nodeB.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current")).StatusCode);

        var reason = await authRequired.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("signed_out", reason.GetProperty("reason").GetString());
        await agentOnA.Closed.WaitAsync(Timeout);
        await Assert.ThrowsAnyAsync<Exception>(() => _nodeA.ConnectAgentAsync(session));
        await Assert.ThrowsAnyAsync<Exception>(() => _nodeB.ConnectAgentAsync(session));
        await AssertProblemAsync(await _nodeB.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
    }
}
