using System.Net;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>The admin key's upsert on PostgreSQL: a revocation survives a restart on the same database until the value changes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresAdminKeyTests(PostgresFixture postgres)
{
    private const string OperatorKey = "my-long-operator-secret-0123456789";

    private static HubApiFactory Start(string database, string adminKey)
    {
        var hub = new HubApiFactory(new HubTopology(Postgres: database, Settings: new Dictionary<string, string> { ["Hub:AdminApiKey"] = adminKey }));
        _ = hub.Server;
        return hub;
    }

    [Fact]
    public async Task A_revoked_configured_admin_key_stays_revoked_across_a_restart_on_postgres_until_its_value_changes()
    {
        var database = await postgres.CreateDatabaseAsync();
        using (var first = Start(database, OperatorKey))
        {
            await ReadAsync(await first.ClientWithKey(OperatorKey).GetAsync("/api/v1/tenants"), HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.NoContent, (await first.ClientWithKey(OperatorKey).DeleteAsync("/api/v1/api-keys/configured-admin")).StatusCode);
        }

        using (var restarted = Start(database, OperatorKey))
        {
            await AssertProblemAsync(await restarted.ClientWithKey(OperatorKey).GetAsync("/api/v1/tenants"), HttpStatusCode.Unauthorized, "unauthorized");
        }

        const string replacement = "the-operators-next-secret-9876543210";
        using var replaced = Start(database, replacement);
        await ReadAsync(await replaced.ClientWithKey(replacement).GetAsync("/api/v1/tenants"), HttpStatusCode.OK);
    }
}
