using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Store;
using Hub.Store.Config;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>Issue 14, point 8: a read of the database does not give away an account's CRM lookup secret.</summary>
public abstract class CrmLookupSecretEncryptionTests : StoreTestBase
{
    private const string Secret = "s3cret-only-the-crm-knows-0123";

    [Fact]
    public async Task Crm_lookup_secret_is_stored_encrypted_outside_the_config_document()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");

        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = Secret } }), HttpStatusCode.OK);

        var (document, stored) = await RowAsync(Factory, tenantId);
        Assert.DoesNotContain(Secret, document, StringComparison.Ordinal);
        Assert.NotNull(stored);
        Assert.DoesNotContain(Secret, stored, StringComparison.Ordinal);
        Assert.Equal(Secret, (await ReaderOf(Factory).ReadAsync(tenantId, CancellationToken.None)).Config.CrmLookup!.Secret);
    }

    [Fact]
    public async Task Secret_survives_a_put_that_leaves_it_out_and_goes_with_null_or_without_crm_lookup()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = Secret } }), HttpStatusCode.OK);

        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup2" } }), HttpStatusCode.OK);
        Assert.Equal(Secret, (await ReaderOf(Factory).ReadAsync(tenantId, CancellationToken.None)).Config.CrmLookup!.Secret);

        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup2", secret = (string?)null } }), HttpStatusCode.OK);
        Assert.Null((await ReaderOf(Factory).ReadAsync(tenantId, CancellationToken.None)).Config.CrmLookup!.Secret);
        Assert.Null((await RowAsync(Factory, tenantId)).Secret);

        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = Secret } }), HttpStatusCode.OK);
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44" }), HttpStatusCode.OK);
        Assert.Null((await RowAsync(Factory, tenantId)).Secret);
    }

    [Fact]
    public async Task A_secret_copied_into_another_accounts_row_does_not_decrypt_there()
    {
        var (acmeId, acme) = await CreateTenantAsync(Factory, "Acme");
        var (otherId, other) = await CreateTenantAsync(Factory, "Other");
        await ReadAsync(await acme.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = Secret } }), HttpStatusCode.OK);
        await ReadAsync(await other.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://other.example/lookup" } }), HttpStatusCode.OK);

        await using (var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("UPDATE tenant_config SET crm_lookup_secret = (SELECT crm_lookup_secret FROM tenant_config WHERE tenant_id = @acmeId) WHERE tenant_id = @otherId",
                new { acmeId, otherId });
        }

        // No lookup at all rather than one signed with a secret that is not this account's.
        Assert.Null((await ReaderOf(Factory).ReadAsync(otherId, CancellationToken.None)).Config.CrmLookup);
        Assert.Equal(Secret, (await ReaderOf(Factory).ReadAsync(acmeId, CancellationToken.None)).Config.CrmLookup!.Secret);
    }

    [Fact]
    public async Task A_secret_left_in_a_document_by_an_older_version_is_encrypted_at_the_next_start()
    {
        var (tenantId, _) = await CreateTenantAsync(Factory, "Acme");
        await using (var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                "INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@tenantId, @document, 0)",
                new { tenantId, document = """{"crm_lookup":{"url":"https://crm.example/lookup","timeout_ms":900,"secret":"SECRET"}}""".Replace("SECRET", Secret, StringComparison.Ordinal) });
        }

        using var restarted = await RestartAsync();

        var (document, stored) = await RowAsync(restarted, tenantId);
        Assert.DoesNotContain(Secret, document, StringComparison.Ordinal);
        Assert.NotNull(stored);
        var config = (await ReaderOf(restarted).ReadAsync(tenantId, CancellationToken.None)).Config;
        Assert.Equal(("https://crm.example/lookup", 900, Secret), (config.CrmLookup!.Url, config.CrmLookup.TimeoutMs, config.CrmLookup.Secret));
    }

    /// <summary>A second hub process on this one's store, as after an upgrade.</summary>
    protected abstract Task<HubApiFactory> RestartAsync();

    private static TenantConfigReader ReaderOf(HubApiFactory factory) => factory.Services.GetRequiredService<TenantConfigReader>();

    private static async Task<(string Document, string? Secret)> RowAsync(HubApiFactory factory, string tenantId)
    {
        await using var connection = await factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        return await connection.QuerySingleAsync<(string, string?)>(
            "SELECT document, crm_lookup_secret FROM tenant_config WHERE tenant_id = @tenantId", new { tenantId });
    }
}

public sealed class SqliteCrmLookupSecretEncryptionTests : CrmLookupSecretEncryptionTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());

    protected override Task<HubApiFactory> RestartAsync()
    {
        var restarted = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:DataDirectory"] = Factory.DataDirectory }));
        _ = restarted.Services;
        return Task.FromResult(restarted);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCrmLookupSecretEncryptionTests(PostgresFixture postgres) : CrmLookupSecretEncryptionTests
{
    private string _database = "";

    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: _database = await postgres.CreateDatabaseAsync()));

    protected override Task<HubApiFactory> RestartAsync()
    {
        var restarted = new HubApiFactory(new HubTopology(Postgres: _database));
        _ = restarted.Services;
        return Task.FromResult(restarted);
    }
}
