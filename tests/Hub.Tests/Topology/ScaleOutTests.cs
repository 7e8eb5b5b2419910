using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Npgsql;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Topology;

/// <summary>Two Api nodes and a worker process on one real broker and one real PostgreSQL.</summary>
[Collection(ProductionCollection.Name)]
public sealed class ScaleOutTests(PostgresFixture postgres, RabbitMqFixture rabbitMq) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private ProductionCluster _cluster = null!;

    private string Database => _cluster.Database;

    private WorkerProcess Workers => _cluster.Workers;

    private HubApiFactory NodeA => _cluster.NodeA;

    private HubApiFactory NodeB => _cluster.NodeB;

    public async Task InitializeAsync() => _cluster = await ProductionCluster.StartAsync(postgres, rabbitMq);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Agent_on_node_A_gets_its_pop_and_a_dial_made_through_node_B_and_the_call_is_logged_once()
    {
        var (_, crmOnB) = await CreateTenantAsync(NodeB, "Acme");
        await ReadAsync(await crmOnB.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "Nguyen Van A", phones = new[] { "+84 912 345 678" } },
        }), HttpStatusCode.OK);
        await using var agentOnA = await NodeA.ConnectAgentAsync(await SignInAsync(NodeB, crmOnB, "agent-7"));
        var pops = agentOnA.Subscribe("ScreenPop");
        var commands = agentOnA.Subscribe("Command");
        var incomingId = Guid.NewGuid();

        var ack = await agentOnA.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0912345678"), incomingId));
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("c-1", pop.GetProperty("matches")[0].GetProperty("external_id").GetString());

        var agents = await ReadAsync(await crmOnB.GetAsync("/api/v1/agents"), HttpStatusCode.OK);
        Assert.Equal(1, Assert.Single(agents.AsArray())!["connections"]!.GetValue<int>());

        var dial = await ReadAsync(await crmOnB.PostAsJsonAsync("/api/v1/agents/agent-7/dial", new { number = "0987654321" }), HttpStatusCode.Accepted);
        var command = await commands.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(dial["command_id"]!.GetValue<string>(), command.GetProperty("command_id").GetString());
        await agentOnA.InvokeAsync("CommandResult", new { command_id = command.GetProperty("command_id").GetString(), status = "delivered" });
        var status = await ReadAsync(await crmOnB.GetAsync($"/api/v1/commands/{dial["command_id"]}"), HttpStatusCode.OK);
        Assert.Equal("delivered", status["status"]!.GetValue<string>());

        await Workers.WaitAsync("hub-events", incomingId);
        await using var connection = new NpgsqlConnection(Database);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM calls WHERE call_id = 'call-1'"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM call_events WHERE call_id = 'call-1'"));
    }

    [Fact]
    public async Task A_pop_for_an_agent_connected_to_both_nodes_reaches_both_connections()
    {
        var (_, crm) = await CreateTenantAsync(NodeA, "Acme");
        await using var onA = await NodeA.ConnectAgentAsync(await SignInAsync(NodeA, crm, "agent-7"));
        await using var onB = await NodeB.ConnectAgentAsync(await SignInAsync(NodeA, crm, "agent-7"));
        var popsA = onA.Subscribe("ScreenPop");
        var popsB = onB.Subscribe("ScreenPop");

        await onB.InvokeAsync("Publish", Envelope("incoming_call", Call("call-2", "0912000000")));

        Assert.Equal("call-2", (await popsA.ReadAsync().AsTask().WaitAsync(Timeout)).GetProperty("call_id").GetString());
        Assert.Equal("call-2", (await popsB.ReadAsync().AsTask().WaitAsync(Timeout)).GetProperty("call_id").GetString());
        var agents = await ReadAsync(await crm.GetAsync("/api/v1/agents"), HttpStatusCode.OK);
        Assert.Equal(2, Assert.Single(agents.AsArray())!["connections"]!.GetValue<int>());
    }
}
