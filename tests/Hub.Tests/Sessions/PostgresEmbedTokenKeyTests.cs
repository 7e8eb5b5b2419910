using System.Net;
using Dapper;
using Hub.Api.Sessions;
using Hub.Store;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static Hub.Tests.Sessions.EmbedTokenKeyTests;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Sessions;

/// <summary>The hub's embed-token keys across the Api nodes of the production topology, on a real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEmbedTokenKeyTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_rotation_on_one_api_node_is_honoured_by_another()
    {
        var database = await postgres.CreateDatabaseAsync();
        var clockB = new ShiftableClock();
        using var nodeA = new HubApiFactory(new HubTopology(Postgres: database, NodeId: "api-a"));
        using var nodeB = new HubApiFactory(new HubTopology(Postgres: database, NodeId: "api-b", Clock: clockB));
        var (_, crmA) = await CreateTenantAsync(nodeA, "Acme");
        var crmB = nodeB.ClientWithKey(crmA.DefaultRequestHeaders.Authorization!.Parameter!);
        var mintedByBBefore = await MintEmbedTokenAsync(crmB, "agent-7");

        using var output = new StringWriter();
        await EmbedTokenKeyCommand.RunAsync(nodeA.Services, output, CancellationToken.None);
        var newKid = KidOf(await MintEmbedTokenAsync(crmA, "agent-8"));
        Assert.NotEqual(KidOf(mintedByBBefore), newKid);
        Assert.Contains(newKid, output.ToString(), StringComparison.Ordinal);

        // A key B has never signed with verifies there (looked up in the store), and the old one still does on A.
        await ReadAsync(await ExchangeAsync(nodeB, await MintEmbedTokenAsync(crmA, "agent-8")), HttpStatusCode.OK);
        await ReadAsync(await ExchangeAsync(nodeA, mintedByBBefore), HttpStatusCode.OK);

        clockB.Shift(HubSigningKey.CurrentKeyRefresh + TimeSpan.FromSeconds(1));
        var mintedByBAfter = await MintEmbedTokenAsync(crmB, "agent-7");
        Assert.Equal(newKid, KidOf(mintedByBAfter));
        await ReadAsync(await ExchangeAsync(nodeB, mintedByBAfter), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Migration_011_deletes_the_plaintext_embed_token_key()
    {
        await using var store = HubDatabase.ForPostgres(await postgres.CreateDatabaseAsync());
        var migrator = new Migrator(store, NullLogger<Migrator>.Instance);
        await migrator.ApplyAsync(CancellationToken.None);
        await using (var connection = await store.OpenAsync(CancellationToken.None))
        {
            // Back to the schema before 011, with the row an older hub created.
            await connection.ExecuteAsync(
                """
                DROP TABLE hub_embed_token_keys;
                DELETE FROM schema_migrations WHERE version = 11;
                INSERT INTO hub_secrets (name, value, created_at) VALUES ('embed_token_key', 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==', 0);
                INSERT INTO hub_secrets (name, value, created_at) VALUES ('demo_tenant_id', 'kept', 0);
                """);
        }

        await migrator.ApplyAsync(CancellationToken.None);

        await using var check = await store.OpenAsync(CancellationToken.None);
        Assert.Equal(["demo_tenant_id"], await check.QueryAsync<string>("SELECT name FROM hub_secrets ORDER BY name"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM hub_embed_token_keys"));
    }
}
