using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Hub.Api.SigningKeys;
using Hub.Store;
using Hub.Store.DataProtection;
using Hub.Tests.Support;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Auth;

/// <summary>SSO tokens a CRM backend mints itself with an embed signing key (the Journeybee model), and the attacks on them.</summary>
public sealed class EmbedSigningKeyTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private sealed record SigningKey(string Id, string Secret);

    private static async Task<SigningKey> CreateSigningKeyAsync(HttpClient crm)
    {
        var created = await ReadAsync(await crm.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Created);
        return new SigningKey(created["id"]!.GetValue<string>(), created["secret"]!.GetValue<string>());
    }

    /// <summary>What a CRM backend does: an HS256 JWT with the secret as the key, kid = key id, iss = aud = its tenant id.</summary>
    private static string Mint(SigningKey key, string tenantId, string agentId = "agent-7", string? role = null, DateTimeOffset? issuedAt = null,
        int lifetimeSeconds = 60, string? issuer = null, string? audience = null, string? jti = null, string? keyId = null, byte[]? secret = null)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        return TestJwt.Mint(secret ?? Encoding.UTF8.GetBytes(key.Secret), keyId ?? key.Id, issuer ?? tenantId, audience ?? tenantId, agentId,
            jti ?? Guid.NewGuid().ToString(), iat, iat.AddSeconds(lifetimeSeconds), role);
    }

    private static string Payload(string tenantId, DateTimeOffset now) =>
        $$"""{"iss":"{{tenantId}}","aud":"{{tenantId}}","sub":"agent-7","iat":{{now.ToUnixTimeSeconds()}},"exp":{{now.ToUnixTimeSeconds() + 60}},"jti":"{{Guid.NewGuid()}}"}""";

    private async Task<long> CountSessionsAsync()
    {
        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM sessions");
    }

    /// <summary>The documented refusal, and no session was created.</summary>
    private async Task<string> AssertRefusedAsync(string token, string code)
    {
        var before = await CountSessionsAsync();
        var problem = await AssertProblemAsync(await ExchangeAsync(_factory, token), HttpStatusCode.Unauthorized, code);
        Assert.Null(problem["session_token"]);
        Assert.Equal(before, await CountSessionsAsync());
        return problem["detail"]!.GetValue<string>();
    }

    [Fact]
    public async Task Signing_key_secret_is_shown_once_listed_never_and_stored_encrypted()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");

        var created = await ReadAsync(await crm.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var secret = created["secret"]!.GetValue<string>();

        Assert.Matches("^sk_[0-9a-f]{16}$", id);
        Assert.Matches("^hub_embed_[A-Za-z0-9_-]{43}$", secret);
        Assert.NotNull(created["created_at"]);
        var listed = await crm.GetStringAsync("/api/v1/embed-signing-keys");
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        var key = Assert.Single((await ReadAsync(await crm.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        Assert.Equal(id, key!["id"]!.GetValue<string>());
        Assert.Equal(created["created_at"]!.GetValue<DateTimeOffset>(), key["created_at"]!.GetValue<DateTimeOffset>());
        Assert.Null(key["last_used_at"]);
        Assert.Null(key["secret"]);

        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            var stored = await connection.QuerySingleAsync<(string TenantId, string SecretProtected)>(
                "SELECT tenant_id, secret_protected FROM embed_signing_keys WHERE id = @id", new { id });
            Assert.Equal(tenantId, stored.TenantId);
            Assert.DoesNotContain(secret["hub_embed_".Length..], stored.SecretProtected, StringComparison.Ordinal);
            Assert.DoesNotContain("hub_embed_", stored.SecretProtected, StringComparison.Ordinal);
            Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM data_protection_keys") >= 1);
        }

        // The key ring is the store's table, not a directory of this machine.
        var keyManagement = _factory.Services.GetRequiredService<IOptions<KeyManagementOptions>>().Value;
        Assert.IsType<StoreXmlRepository>(keyManagement.XmlRepository);
    }

    [Fact]
    public async Task Crm_token_gives_a_session_for_the_keys_tenant_agent_and_role()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);

        var analyst = await ReadAsync(await ExchangeAsync(_factory, Mint(key, tenantId, "supervisor-1", role: "analyst")), HttpStatusCode.OK);
        var agent = await ReadAsync(await ExchangeAsync(_factory, Mint(key, tenantId, "agent-7")), HttpStatusCode.OK);

        Assert.Equal((tenantId, "supervisor-1", "analyst"),
            (analyst["tenant_id"]!.GetValue<string>(), analyst["agent_id"]!.GetValue<string>(), analyst["role"]!.GetValue<string>()));
        Assert.Equal((tenantId, "agent-7", "agent"),
            (agent["tenant_id"]!.GetValue<string>(), agent["agent_id"]!.GetValue<string>(), agent["role"]!.GetValue<string>()));
        // The role is honoured: an analyst session reads the call log, an agent session opens the agent hub.
        await ReadAsync(await _factory.ClientWithKey(analyst["session_token"]!.GetValue<string>()).GetAsync("/api/v1/calls"), HttpStatusCode.OK);
        await AssertProblemAsync(await _factory.ClientWithKey(agent["session_token"]!.GetValue<string>()).GetAsync("/api/v1/calls"),
            HttpStatusCode.Forbidden, "insufficient_scope");
        await using var connection = await _factory.ConnectAgentAsync(agent["session_token"]!.GetValue<string>());
        Assert.True(connection.IsConnected);
        var listed = Assert.Single((await ReadAsync(await crm.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        Assert.NotNull(listed!["last_used_at"]);
    }

    [Fact]
    public async Task Replayed_crm_token_is_token_replayed()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = Mint(await CreateSigningKeyAsync(crm), tenantId);
        await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);

        await AssertRefusedAsync(token, "token_replayed");
    }

    [Fact]
    public async Task Crm_token_living_more_than_120_seconds_or_without_iat_is_invalid_token()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);
        var now = DateTimeOffset.UtcNow;
        var noIat = TestJwt.Mint(Encoding.UTF8.GetBytes(key.Secret), key.Id, tenantId, tenantId, "agent-7", Guid.NewGuid().ToString(), iat: null,
            exp: now.AddSeconds(60));

        Assert.Contains("120", await AssertRefusedAsync(Mint(key, tenantId, lifetimeSeconds: 121), "invalid_token"), StringComparison.Ordinal);
        Assert.Contains("120", await AssertRefusedAsync(Mint(key, tenantId, lifetimeSeconds: 3600), "invalid_token"), StringComparison.Ordinal);
        Assert.Contains("iat", await AssertRefusedAsync(noIat, "invalid_token"), StringComparison.Ordinal);
        await ReadAsync(await ExchangeAsync(_factory, Mint(key, tenantId, lifetimeSeconds: 120)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Crm_token_signed_with_another_key_is_invalid_token()
    {
        var (tenantA, crmA) = await CreateTenantAsync(_factory, "A");
        var (_, crmB) = await CreateTenantAsync(_factory, "B");
        var keyA = await CreateSigningKeyAsync(crmA);
        var keyB = await CreateSigningKeyAsync(crmB);

        // kid of A's key, signed with B's secret; then with random bytes; then a kid that does not exist.
        await AssertRefusedAsync(Mint(keyA, tenantA, secret: Encoding.UTF8.GetBytes(keyB.Secret)), "invalid_token");
        await AssertRefusedAsync(Mint(keyA, tenantA, secret: RandomNumberGenerator.GetBytes(32)), "invalid_token");
        await AssertRefusedAsync(Mint(keyA, tenantA, keyId: "sk_0123456789abcdef"), "invalid_token");
        // A's secret but the hub's kid, or no kid at all.
        await AssertRefusedAsync(Mint(keyA, tenantA, keyId: "hub"), "invalid_token");
        var now = DateTimeOffset.UtcNow;
        await AssertRefusedAsync(TestJwt.Mint(Encoding.UTF8.GetBytes(keyA.Secret), keyId: null, tenantA, tenantA, "agent-7", Guid.NewGuid().ToString(), now,
            now.AddSeconds(60)), "invalid_token");
    }

    [Fact]
    public async Task Alg_none_and_HS512_are_invalid_token()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);
        var now = DateTimeOffset.UtcNow;

        var none = TestJwt.B64($$"""{"alg":"none","typ":"JWT","kid":"{{key.Id}}"}""") + "." + TestJwt.B64(Payload(tenantId, now)) + ".";
        var hs512 = TestJwt.Sign($$"""{"alg":"HS512","typ":"JWT","kid":"{{key.Id}}"}""", Payload(tenantId, now), Encoding.UTF8.GetBytes(key.Secret), HMACSHA512.HashData);

        await AssertRefusedAsync(none, "invalid_token");
        await AssertRefusedAsync(hs512, "invalid_token");
    }

    [Fact]
    public async Task Iss_or_aud_of_another_tenant_is_invalid_token_even_when_signed_with_this_tenants_key()
    {
        var (tenantA, crmA) = await CreateTenantAsync(_factory, "A");
        var (tenantB, _) = await CreateTenantAsync(_factory, "B");
        var keyA = await CreateSigningKeyAsync(crmA);

        await AssertRefusedAsync(Mint(keyA, tenantA, issuer: tenantB, audience: tenantB), "invalid_token");
        await AssertRefusedAsync(Mint(keyA, tenantA, audience: tenantB), "invalid_token");
        await AssertRefusedAsync(Mint(keyA, tenantA, issuer: tenantB), "invalid_token");
        await AssertRefusedAsync(Mint(keyA, tenantA, issuer: "hub"), "invalid_token");
    }

    [Fact]
    public async Task Unknown_role_and_bad_agent_id_are_invalid_token()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);

        await AssertRefusedAsync(Mint(key, tenantId, role: "admin"), "invalid_token");
        await AssertRefusedAsync(Mint(key, tenantId, agentId: "agent 7/../x"), "invalid_token");
    }

    [Fact]
    public async Task Deleted_key_is_invalid_token_at_once()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);
        var token = Mint(key, tenantId);

        Assert.Equal(HttpStatusCode.NoContent, (await crm.DeleteAsync($"/api/v1/embed-signing-keys/{key.Id}")).StatusCode);

        await AssertRefusedAsync(token, "invalid_token");
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        await AssertProblemAsync(await crm.DeleteAsync($"/api/v1/embed-signing-keys/{key.Id}"), HttpStatusCode.NotFound, "embed_signing_key_not_found");
    }

    [Fact]
    public async Task Rotation_keeps_the_new_key_working_after_the_old_one_is_deleted()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var oldKey = await CreateSigningKeyAsync(crm);
        var newKey = await CreateSigningKeyAsync(crm);

        Assert.Equal(HttpStatusCode.NoContent, (await crm.DeleteAsync($"/api/v1/embed-signing-keys/{oldKey.Id}")).StatusCode);

        await ReadAsync(await ExchangeAsync(_factory, Mint(newKey, tenantId)), HttpStatusCode.OK);
        await AssertRefusedAsync(Mint(oldKey, tenantId), "invalid_token");
    }

    [Fact]
    public async Task Expired_crm_token_is_token_expired()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);

        await AssertRefusedAsync(Mint(key, tenantId, issuedAt: DateTimeOffset.UtcNow.AddMinutes(-10), lifetimeSeconds: 60), "token_expired");
    }

    [Fact]
    public async Task Key_of_tenant_B_cannot_list_or_delete_tenant_As_signing_keys_with_or_without_X_Account_ID()
    {
        var (tenantA, crmA) = await CreateTenantAsync(_factory, "A");
        var (_, crmB) = await CreateTenantAsync(_factory, "B");
        var keyA = await CreateSigningKeyAsync(crmA);

        Assert.Empty((await ReadAsync(await crmB.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        await AssertProblemAsync(await crmB.DeleteAsync($"/api/v1/embed-signing-keys/{keyA.Id}"), HttpStatusCode.NotFound, "embed_signing_key_not_found");
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/api/v1/embed-signing-keys"),
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/embed-signing-keys"),
            new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/embed-signing-keys/{keyA.Id}"),
        })
        {
            request.Headers.Add("X-Account-ID", tenantA);
            await AssertProblemAsync(await crmB.SendAsync(request), HttpStatusCode.Forbidden, "account_forbidden");
        }

        var stillThere = Assert.Single((await ReadAsync(await crmA.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        Assert.Equal(keyA.Id, stillThere!["id"]!.GetValue<string>());
        await ReadAsync(await ExchangeAsync(_factory, Mint(keyA, tenantA)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Parent_key_manages_a_child_accounts_signing_keys_with_X_Account_ID()
    {
        var (_, parent) = await CreateTenantAsync(_factory, "Reseller", ["admin"]);
        var (childId, child) = await CreateTenantAsync(_factory, "Customer", parent: parent);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/embed-signing-keys");
        request.Headers.Add("X-Account-ID", childId);
        var created = await ReadAsync(await parent.SendAsync(request), HttpStatusCode.Created);
        var key = new SigningKey(created["id"]!.GetValue<string>(), created["secret"]!.GetValue<string>());

        Assert.Single((await ReadAsync(await child.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        Assert.Empty((await ReadAsync(await parent.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
        var session = await ReadAsync(await ExchangeAsync(_factory, Mint(key, childId)), HttpStatusCode.OK);
        Assert.Equal(childId, session["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Signing_keys_need_the_tokens_scope()
    {
        var (_, reader) = await CreateTenantAsync(_factory, "Acme", ["calls:read"]);
        var (_, crm) = await CreateTenantAsync(_factory, "Other");
        var session = await SignInAsync(_factory, crm, "agent-7");

        await AssertProblemAsync(await reader.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await reader.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await _factory.ClientWithKey(session).GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Fact]
    public async Task A_key_with_tokens_alone_cannot_create_a_signing_key_that_would_sign_in_analysts()
    {
        var (_, tokensOnly) = await CreateTenantAsync(_factory, "Acme", ["tokens"]);

        var refused = await tokensOnly.PostAsync("/api/v1/embed-signing-keys", null);

        await AssertProblemAsync(refused, HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Empty((await ReadAsync(await tokensOnly.GetAsync("/api/v1/embed-signing-keys"), HttpStatusCode.OK)).AsArray());
    }

    [Fact]
    public async Task Hub_embed_tokens_still_work_alongside_crm_tokens()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var key = await CreateSigningKeyAsync(crm);

        var hubMinted = await ReadAsync(await ExchangeAsync(_factory, await MintEmbedTokenAsync(crm, "agent-7")), HttpStatusCode.OK);
        var crmMinted = await ReadAsync(await ExchangeAsync(_factory, Mint(key, tenantId)), HttpStatusCode.OK);

        Assert.Equal(tenantId, hubMinted["tenant_id"]!.GetValue<string>());
        Assert.Equal(tenantId, crmMinted["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Key_ring_bootstrap_starts_before_data_protections_own_hosted_service()
    {
        var hostedServices = _factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().Select(s => s.GetType().Name).ToList();

        var bootstrap = hostedServices.IndexOf(nameof(KeyRingBootstrap));
        var dataProtection = hostedServices.IndexOf("DataProtectionHostedService");
        Assert.True(bootstrap >= 0 && dataProtection > bootstrap, string.Join(", ", hostedServices));
    }
}
