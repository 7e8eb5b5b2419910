using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Auth;

/// <summary>
/// Nesting of tenants is capped at creation (<c>Hub:MaxTenantDepth</c>, default 16 levels below the master), so
/// every tenant that exists stays within reach of each of its ancestors' keys.
/// </summary>
public abstract class TenantDepthTests : StoreTestBase
{
    private const int DefaultMaxDepth = 16;

    /// <summary>A child of <paramref name="parentId"/> created with the master's admin key.</summary>
    private Task<HttpResponseMessage> CreateChildAsync(string parentId, string name) =>
        Factory.Admin().PostAsJsonAsync("/api/v1/tenants", new { name, parent_id = parentId });

    private static async Task<HttpResponseMessage> GetAsAsync(HttpClient client, string accountId, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Account-ID", accountId);
        return await client.SendAsync(request);
    }

    /// <summary>Levels 2.. below <paramref name="topId"/> (level 1), until the hub refuses one or <paramref name="upTo"/> is reached.</summary>
    private async Task<(List<string> Chain, HttpResponseMessage? Refusal)> NestAsync(string topId, int upTo)
    {
        var chain = new List<string> { topId };
        for (var level = 2; level <= upTo; level++)
        {
            var response = await CreateChildAsync(chain[^1], $"level {level}");
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return (chain, response);
            }

            chain.Add((await ReadAsync(response, HttpStatusCode.Created))["id"]!.GetValue<string>());
        }

        return (chain, null);
    }

    [Fact]
    public async Task Creating_the_level_below_the_maximum_depth_is_400_tenant_too_deep_and_creates_nothing()
    {
        var (topId, top) = await CreateTenantAsync(Factory, "Reseller", ["admin"]);
        var (chain, refusal) = await NestAsync(topId, DefaultMaxDepth + 1);

        Assert.Equal(DefaultMaxDepth, chain.Count);
        Assert.NotNull(refusal);
        var problem = await AssertProblemAsync(refusal, HttpStatusCode.BadRequest, "tenant_too_deep");
        Assert.Contains("16", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // The refusal is the same through the working account, and nothing was created either way.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants") { Content = JsonContent.Create(new { name = "too deep" }) };
        request.Headers.Add("X-Account-ID", chain[^1]);
        await AssertProblemAsync(await top.SendAsync(request), HttpStatusCode.BadRequest, "tenant_too_deep");
        var tenants = await ReadAsync(await top.GetAsync("/api/v1/tenants"), HttpStatusCode.OK);
        Assert.Equal(chain, tenants.AsArray().Select(t => t!["id"]!.GetValue<string>()));
    }

    /// <summary>
    /// Before the cap, a chain could be nested past the fixed 64 steps the ancestor walk took: the tenants below that
    /// escaped their ancestors (the reseller's and the master's keys got 403 for them, and the reseller's tenant list
    /// did not show them).
    /// </summary>
    [Fact]
    public async Task Every_tenant_that_can_be_created_stays_reachable_from_each_ancestors_key()
    {
        var (topId, top) = await CreateTenantAsync(Factory, "Reseller", ["admin"]);
        var (chain, _) = await NestAsync(topId, 70);

        var deepest = chain[^1];
        await ReadAsync(await GetAsAsync(top, deepest, "/api/v1/tenants"), HttpStatusCode.OK);
        await ReadAsync(await GetAsAsync(Factory.Admin(), deepest, "/api/v1/tenants"), HttpStatusCode.OK);
        var listed = await ReadAsync(await top.GetAsync("/api/v1/tenants"), HttpStatusCode.OK);
        Assert.Equal(chain, listed.AsArray().Select(t => t!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_tenant_at_the_maximum_depth_is_reachable_from_the_top_of_its_chain_and_keys_below_stay_confined()
    {
        var (topId, top) = await CreateTenantAsync(Factory, "Reseller", ["admin"]);
        var (chain, _) = await NestAsync(topId, DefaultMaxDepth);
        Assert.Equal(DefaultMaxDepth, chain.Count);

        var contact = new[] { new { external_id = "c-1", display_name = "Deep", phones = new[] { "0912345678" } } };
        using (var put = new HttpRequestMessage(HttpMethod.Put, "/api/v1/contacts") { Content = JsonContent.Create(contact) })
        {
            put.Headers.Add("X-Account-ID", chain[^1]);
            await ReadAsync(await Factory.Admin().SendAsync(put), HttpStatusCode.OK);
        }

        var found = await ReadAsync(await GetAsAsync(top, chain[^1], "/api/v1/contacts/c-1"), HttpStatusCode.OK);
        Assert.Equal("Deep", found["display_name"]!.GetValue<string>());

        // The deepest tenant's own key reaches neither its parent nor the top.
        var deepKey = await CreateKeyAsync(Factory.Admin(), chain[^1], ["admin", "contacts"]);
        var deep = Factory.ClientWithKey(deepKey);
        await AssertProblemAsync(await GetAsAsync(deep, chain[^2], "/api/v1/tenants"), HttpStatusCode.Forbidden, "account_forbidden");
        await AssertProblemAsync(await GetAsAsync(deep, topId, "/api/v1/tenants"), HttpStatusCode.Forbidden, "account_forbidden");
    }
}

public sealed class SqliteTenantDepthTests : TenantDepthTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());

    [Fact]
    public async Task The_maximum_depth_is_a_setting()
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:MaxTenantDepth"] = "2" }));
        var level1 = await ReadAsync(await factory.Admin().PostAsJsonAsync("/api/v1/tenants", new { name = "1" }), HttpStatusCode.Created);
        var level2 = await ReadAsync(
            await factory.Admin().PostAsJsonAsync("/api/v1/tenants", new { name = "2", parent_id = level1["id"]!.GetValue<string>() }), HttpStatusCode.Created);

        await AssertProblemAsync(
            await factory.Admin().PostAsJsonAsync("/api/v1/tenants", new { name = "3", parent_id = level2["id"]!.GetValue<string>() }),
            HttpStatusCode.BadRequest, "tenant_too_deep");
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresTenantDepthTests(PostgresFixture postgres) : TenantDepthTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
