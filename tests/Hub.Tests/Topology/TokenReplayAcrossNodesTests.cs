using System.Net;
using System.Text;
using Dapper;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Npgsql;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Topology;

/// <summary>
/// A token's <c>jti</c> is burnt in the shared store, so a token exchanged on one Api node is refused on
/// the other (a node-local memory of used tokens would let each node take it once).
/// </summary>
[Collection(ProductionCollection.Name)]
public sealed class TokenReplayAcrossNodesTests(PostgresFixture postgres, RabbitMqFixture rabbitMq) : IAsyncLifetime
{
    private ProductionCluster _cluster = null!;

    private HubApiFactory NodeA => _cluster.NodeA;

    private HubApiFactory NodeB => _cluster.NodeB;

    public async Task InitializeAsync() => _cluster = await ProductionCluster.StartAsync(postgres, rabbitMq);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<long> CountSessionsAsync()
    {
        await using var connection = new NpgsqlConnection(_cluster.Database);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM sessions");
    }

    /// <summary>The token works once on node A; on node B it is <c>401 token_replayed</c> and no session is created.</summary>
    private async Task AssertReplayRefusedOnNodeBAsync(string token)
    {
        await ReadAsync(await ExchangeAsync(NodeA, token), HttpStatusCode.OK);
        var sessions = await CountSessionsAsync();

        var problem = await AssertProblemAsync(await ExchangeAsync(NodeB, token), HttpStatusCode.Unauthorized, "token_replayed");

        Assert.Null(problem["session_token"]);
        Assert.Equal(sessions, await CountSessionsAsync());
    }

    [Fact]
    public async Task Hub_embed_token_exchanged_on_node_A_is_token_replayed_on_node_B()
    {
        var (_, crm) = await CreateTenantAsync(NodeA, "Acme");

        // Node B takes a fresh token of the same tenant, so the refusal below is the replay, not the token.
        await ReadAsync(await ExchangeAsync(NodeB, await MintEmbedTokenAsync(crm, "agent-7")), HttpStatusCode.OK);
        await AssertReplayRefusedOnNodeBAsync(await MintEmbedTokenAsync(crm, "agent-7"));
    }

    [Fact]
    public async Task Crm_signed_sso_token_exchanged_on_node_A_is_token_replayed_on_node_B()
    {
        var (tenantId, crm) = await CreateTenantAsync(NodeA, "Acme");
        var signingKey = await ReadAsync(await crm.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Created);
        string Mint()
        {
            var now = DateTimeOffset.UtcNow;
            return TestJwt.Mint(Encoding.UTF8.GetBytes(signingKey["secret"]!.GetValue<string>()), signingKey["id"]!.GetValue<string>(), tenantId, tenantId,
                "agent-7", Guid.NewGuid().ToString(), now, now.AddSeconds(60));
        }

        // Node B reads the key node A created (its secret is protected with the store's shared key ring).
        await ReadAsync(await ExchangeAsync(NodeB, Mint()), HttpStatusCode.OK);
        await AssertReplayRefusedOnNodeBAsync(Mint());
    }
}
