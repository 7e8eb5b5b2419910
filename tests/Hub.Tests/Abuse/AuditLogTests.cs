using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Abuse;

/// <summary>Who changed what: tenants, API keys, embed signing keys and config leave an entry in the account's audit log.</summary>
public sealed class AuditLogTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static async Task<JsonObject> CreateKeyAsync(HttpClient client, string? accountId, string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys") { Content = JsonContent.Create(new { name = "crm", scopes }) };
        if (accountId is not null)
        {
            request.Headers.Add("X-Account-ID", accountId);
        }

        return (JsonObject)await ReadAsync(await client.SendAsync(request), HttpStatusCode.Created);
    }

    /// <summary>A tenant whose own key has the admin scope.</summary>
    private async Task<(string TenantId, string KeyId, string Key, HttpClient Client)> CreateAdminTenantAsync(string name)
    {
        using var admin = _factory.Admin();
        var tenantId = (await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name }), HttpStatusCode.Created))["id"]!.GetValue<string>();
        var key = await CreateKeyAsync(admin, tenantId, ["admin"]);
        return (tenantId, key["id"]!.GetValue<string>(), key["key"]!.GetValue<string>(), _factory.ClientWithKey(key["key"]!.GetValue<string>()));
    }

    private static async Task<List<JsonNode>> ReadAuditAsync(HttpClient client, string? accountId = null)
    {
        var entries = new List<JsonNode>();
        string? cursor = null;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            if (accountId is not null)
            {
                request.Headers.Add("X-Account-ID", accountId);
            }

            var page = await ReadAsync(await client.SendAsync(request), HttpStatusCode.OK);
            entries.AddRange(page["items"]!.AsArray().Select(item => item!));
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return entries;
    }

    [Fact]
    public async Task Each_audited_action_is_recorded_with_its_actor_and_target_newest_first_and_without_secrets()
    {
        var (tenantId, keyId, key, crm) = await CreateAdminTenantAsync("Acme");

        var created = await CreateKeyAsync(crm, null, ["contacts"]);
        var createdId = created["id"]!.GetValue<string>();
        await ReadAsync(await crm.DeleteAsync($"/api/v1/api-keys/{createdId}"), HttpStatusCode.NoContent);
        var signingKey = await ReadAsync(await crm.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Created);
        var signingKeyId = signingKey["id"]!.GetValue<string>();
        await ReadAsync(await crm.DeleteAsync($"/api/v1/embed-signing-keys/{signingKeyId}"), HttpStatusCode.NoContent);
        const string crmSecret = "crm-lookup-s3cret-for-the-audit-test";
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = crmSecret } }), HttpStatusCode.OK);
        await ReadAsync(await crm.DeleteAsync("/api/v1/config"), HttpStatusCode.NoContent);

        var entries = await ReadAuditAsync(crm);
        var actor = "api_key:" + keyId;
        var expected = new (string Actor, string Action, string Target)[]
        {
            (actor, "config.deleted", tenantId),
            (actor, "config.written", tenantId),
            (actor, "embed_signing_key.deleted", signingKeyId),
            (actor, "embed_signing_key.created", signingKeyId),
            (actor, "api_key.revoked", createdId),
            (actor, "api_key.created", createdId),
        };
        Assert.Equal(expected, entries.Take(6).Select(entry => (entry["actor"]!.GetValue<string>(), entry["action"]!.GetValue<string>(), entry["target"]!.GetValue<string>())));
        Assert.All(entries, entry => Assert.Equal(tenantId, entry["tenant_id"]!.GetValue<string>()));

        // The key for this tenant was made by the master's admin key, acting on this account.
        var bootstrap = Assert.Single(entries.Skip(6));
        Assert.Equal("api_key.created", bootstrap["action"]!.GetValue<string>());
        Assert.Equal(keyId, bootstrap["target"]!.GetValue<string>());
        Assert.StartsWith("api_key:", bootstrap["actor"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEqual(actor, bootstrap["actor"]!.GetValue<string>());

        // The tenant's creation is in the log of the account it was created under (the master).
        using var admin = _factory.Admin();
        var tenantCreated = Assert.Single(await ReadAuditAsync(admin), entry => entry["action"]!.GetValue<string>() == "tenant.created");
        Assert.Equal(tenantId, tenantCreated["target"]!.GetValue<string>());
        Assert.Equal("Acme", tenantCreated["detail"]!["name"]!.GetValue<string>());

        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var rows = string.Join('\n', await connection.QueryAsync<string>(
            "SELECT id || '|' || tenant_id || '|' || actor || '|' || action || '|' || target || '|' || COALESCE(detail, '') FROM audit_log"));
        foreach (var secret in new[] { key, created["key"]!.GetValue<string>(), signingKey["secret"]!.GetValue<string>(), crmSecret, HubApiFactory.AdminKey })
        {
            Assert.DoesNotContain(secret, rows, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_tenants_audit_log_is_not_visible_to_another_tenant()
    {
        var (tenantA, _, _, crmA) = await CreateAdminTenantAsync("A");
        var (tenantB, _, _, crmB) = await CreateAdminTenantAsync("B");
        var createdByA = (await CreateKeyAsync(crmA, null, ["contacts"]))["id"]!.GetValue<string>();

        var seenByB = await ReadAuditAsync(crmB);
        Assert.All(seenByB, entry => Assert.Equal(tenantB, entry["tenant_id"]!.GetValue<string>()));
        Assert.DoesNotContain(seenByB, entry => entry["target"]!.GetValue<string>() == createdByA);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
        request.Headers.Add("X-Account-ID", tenantA);
        await AssertProblemAsync(await crmB.SendAsync(request), HttpStatusCode.Forbidden, "account_forbidden");

        // The master sees A's log by acting on A.
        using var admin = _factory.Admin();
        Assert.Contains(await ReadAuditAsync(admin, tenantA), entry => entry["target"]!.GetValue<string>() == createdByA);
    }

    [Fact]
    public async Task The_audit_log_needs_the_admin_scope()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        await AssertProblemAsync(await crm.GetAsync("/api/v1/audit"), HttpStatusCode.Forbidden, "insufficient_scope");
    }
}
