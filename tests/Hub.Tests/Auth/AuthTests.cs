using System.Net;
using System.Net.Http.Json;
using Hub.Api.Sessions;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Auth;

public sealed class AuthTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Request_without_a_key_is_401_problem_json()
    {
        using var anonymous = _factory.CreateClient();

        await AssertProblemAsync(await anonymous.GetAsync("/api/v1/calls"), HttpStatusCode.Unauthorized, "unauthorized");
        await AssertProblemAsync(await _factory.ClientWithKey("hubk_not-a-real-key").GetAsync("/api/v1/calls"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Key_without_the_scope_is_403_insufficient_scope()
    {
        var (_, reader) = await CreateTenantAsync(_factory, "Acme", ["calls:read"]);

        await AssertProblemAsync(await reader.PutAsJsonAsync("/api/v1/contacts", Array.Empty<object>()), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await reader.PostAsJsonAsync("/api/v1/tenants", new { name = "x" }), HttpStatusCode.Forbidden, "insufficient_scope");
        await ReadAsync(await reader.GetAsync("/api/v1/calls"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Api_keys_are_hashed_at_rest_listed_without_secrets_and_revoked_at_once()
    {
        var admin = _factory.Admin();
        var created = await ReadAsync(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "crm", scopes = new[] { "contacts" } }), HttpStatusCode.Created);
        var key = created["key"]!.GetValue<string>();
        var keyClient = _factory.ClientWithKey(key);
        await ReadAsync(await keyClient.GetAsync("/api/v1/contacts/nobody"), HttpStatusCode.NotFound);

        var listed = await admin.GetStringAsync("/api/v1/api-keys");
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        var database = _factory.Services.GetRequiredService<Hub.Store.HubDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            var stored = await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT key_hash FROM api_keys");
            Assert.DoesNotContain(key, stored);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{created["id"]}")).StatusCode);
        await AssertProblemAsync(await keyClient.GetAsync("/api/v1/contacts/nobody"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Unknown_scope_is_refused_with_the_valid_ones_named()
    {
        var problem = await AssertProblemAsync(await _factory.Admin().PostAsJsonAsync("/api/v1/api-keys", new { name = "x", scopes = new[] { "root" } }),
            HttpStatusCode.BadRequest, "invalid_api_key");
        Assert.Contains("calls:read", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parent_key_acts_on_a_child_account_with_X_Account_ID()
    {
        var (parentId, parent) = await CreateTenantAsync(_factory, "Reseller", ["admin"]);
        var (childId, child) = await CreateTenantAsync(_factory, "Customer", parent: parent);
        await ReadAsync(await child.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "c-1", display_name = "A", phones = new[] { "0912345678" } } }), HttpStatusCode.OK);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/contacts/c-1");
        request.Headers.Add("X-Account-ID", childId);
        var contact = await ReadAsync(await parent.SendAsync(request), HttpStatusCode.OK);

        Assert.Equal("A", contact["display_name"]!.GetValue<string>());
        var tenants = await ReadAsync(await parent.GetAsync("/api/v1/tenants"), HttpStatusCode.OK);
        Assert.Equal([parentId, childId], tenants.AsArray().Select(t => t!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Key_of_tenant_B_cannot_reach_tenant_A_with_or_without_X_Account_ID()
    {
        var (tenantA, crmA) = await CreateTenantAsync(_factory, "A");
        var (_, crmB) = await CreateTenantAsync(_factory, "B", ["admin"]);
        await ReadAsync(await crmA.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "secret", display_name = "A's customer", phones = new[] { "0912345678" } } }), HttpStatusCode.OK);

        await AssertProblemAsync(await crmB.GetAsync("/api/v1/contacts/secret"), HttpStatusCode.NotFound, "contact_not_found");
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/api/v1/contacts/secret"),
            new HttpRequestMessage(HttpMethod.Get, "/api/v1/calls"),
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents/agent-7/dial") { Content = JsonContent.Create(new { number = "0912345678" }) },
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys") { Content = JsonContent.Create(new { name = "x", scopes = new[] { "admin" } }) },
        })
        {
            request.Headers.Add("X-Account-ID", tenantA);
            await AssertProblemAsync(await crmB.SendAsync(request), HttpStatusCode.Forbidden, "account_forbidden");
        }
    }

    [Fact]
    public async Task Key_of_tenant_B_cannot_configure_or_dial_tenant_A_with_or_without_X_Account_ID_and_nothing_of_A_changes()
    {
        var (tenantA, adminA) = await CreateTenantAsync(_factory, "A", ["admin"]);
        var (_, adminB) = await CreateTenantAsync(_factory, "B", ["admin"]);
        await ReadAsync(await adminA.PutAsJsonAsync("/api/v1/config", new { default_country_code = "84", crm_lookup = new { url = "https://crm-a.example/lookup" } }),
            HttpStatusCode.OK);
        await ReadAsync(await adminA.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "secret", display_name = "A's customer", phones = new[] { "0912345678" } } }),
            HttpStatusCode.OK);
        await using var agentOfA = await ConnectAgentAsync(_factory, adminA, "agent-7");
        var commandsToA = agentOfA.Subscribe("Command");
        var keyOfA = Assert.Single((await ReadAsync(await adminA.GetAsync("/api/v1/api-keys"), HttpStatusCode.OK)).AsArray())!["id"]!.GetValue<string>();
        async Task<string[]> ReadAccountAAsync() =>
        [
            await adminA.GetStringAsync("/api/v1/config"),
            await adminA.GetStringAsync("/api/v1/contacts/secret"),
            await adminA.GetStringAsync("/api/v1/api-keys"),
            await adminA.GetStringAsync("/api/v1/audit"),
        ];
        var before = await ReadAccountAAsync();

        var attackerConfig = new { default_country_code = "1", crm_lookup = new { url = "https://attacker.example/lookup" } };
        var attackerContacts = new[] { new { external_id = "secret", display_name = "Attacker", phones = new[] { "0900000000" } } };
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = JsonContent.Create(attackerConfig) },
            new HttpRequestMessage(HttpMethod.Delete, "/api/v1/config"),
            new HttpRequestMessage(HttpMethod.Put, "/api/v1/contacts") { Content = JsonContent.Create(attackerContacts) },
            new HttpRequestMessage(HttpMethod.Delete, "/api/v1/contacts/secret"),
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents/agent-7/dial") { Content = JsonContent.Create(new { number = "0987654321" }) },
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents/agent-7/commands") { Content = JsonContent.Create(new { type = "hangup" }) },
            new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/api-keys/{keyOfA}"),
        })
        {
            request.Headers.Add("X-Account-ID", tenantA);
            await AssertProblemAsync(await adminB.SendAsync(request), HttpStatusCode.Forbidden, "account_forbidden");
        }

        // Without the header the key acts on its own account: the writes land in B, the dial finds no agent-7 of B's.
        await AssertProblemAsync(await adminB.PostAsJsonAsync("/api/v1/agents/agent-7/dial", new { number = "0987654321" }), HttpStatusCode.Conflict, "agent_offline");
        await AssertProblemAsync(await adminB.PostAsJsonAsync("/api/v1/agents/agent-7/commands", new { type = "hangup" }), HttpStatusCode.Conflict, "agent_offline");
        await AssertProblemAsync(await adminB.DeleteAsync($"/api/v1/api-keys/{keyOfA}"), HttpStatusCode.NotFound, "api_key_not_found");
        await ReadAsync(await adminB.PutAsJsonAsync("/api/v1/config", attackerConfig), HttpStatusCode.OK);
        await ReadAsync(await adminB.PutAsJsonAsync("/api/v1/contacts", attackerContacts), HttpStatusCode.OK);
        Assert.Equal("1", (await ReadAsync(await adminB.GetAsync("/api/v1/config"), HttpStatusCode.OK))["config"]!["default_country_code"]!.GetValue<string>());
        Assert.Equal("Attacker", (await ReadAsync(await adminB.GetAsync("/api/v1/contacts/secret"), HttpStatusCode.OK))["display_name"]!.GetValue<string>());

        Assert.Equal(before, await ReadAccountAAsync());
        var database = _factory.Services.GetRequiredService<Hub.Store.HubDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            Assert.Equal(0, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM commands"));
        }

        // A's own dial is the first command its agent hears: nothing of B's reached it before.
        var dial = await ReadAsync(await adminA.PostAsJsonAsync("/api/v1/agents/agent-7/dial", new { number = "0987654321" }), HttpStatusCode.Accepted);
        var command = await commandsToA.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(dial["command_id"]!.GetValue<string>(), command.GetProperty("command_id").GetString());
    }

    [Fact]
    public async Task Malformed_X_Account_ID_is_a_bad_request()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tenants");
        request.Headers.Add("X-Account-ID", "../../etc");

        await AssertProblemAsync(await _factory.Admin().SendAsync(request), HttpStatusCode.BadRequest, "invalid_account_id");
    }

    [Fact]
    public async Task Embed_token_works_once_then_is_token_replayed()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = await MintEmbedTokenAsync(crm, "agent-7");

        var session = await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);
        Assert.Equal(tenantId, session["tenant_id"]!.GetValue<string>());
        Assert.Equal("agent-7", session["agent_id"]!.GetValue<string>());
        Assert.Equal("agent", session["role"]!.GetValue<string>());

        await AssertProblemAsync(await ExchangeAsync(_factory, token), HttpStatusCode.Unauthorized, "token_replayed");
    }

    [Fact]
    public async Task Expired_embed_token_is_token_expired()
    {
        var (tenantId, _) = await CreateTenantAsync(_factory, "Acme");
        var key = await _factory.Services.GetRequiredService<HubSigningKey>().CurrentAsync(CancellationToken.None);
        var issued = DateTimeOffset.UtcNow.AddMinutes(-10);
        var token = TestJwt.Mint(key.Secret, key.KeyId, "hub", tenantId, "agent-7", Guid.NewGuid().ToString(), issued, issued.AddMinutes(5));

        await AssertProblemAsync(await ExchangeAsync(_factory, token), HttpStatusCode.Unauthorized, "token_expired");
    }

    [Fact]
    public async Task Token_signed_with_another_key_is_invalid_token()
    {
        var (tenantId, _) = await CreateTenantAsync(_factory, "Acme");
        var key = await _factory.Services.GetRequiredService<HubSigningKey>().CurrentAsync(CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        var forged = TestJwt.Mint(new byte[32], key.KeyId, "hub", tenantId, "agent-7", Guid.NewGuid().ToString(), now, now.AddMinutes(5));

        await AssertProblemAsync(await ExchangeAsync(_factory, forged), HttpStatusCode.Unauthorized, "invalid_token");
        await AssertProblemAsync(await ExchangeAsync(_factory, "not-a-jwt"), HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Session_token_opens_the_hub_but_no_rest_scope()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var session = await SignInAsync(_factory, crm, "agent-7");

        await AssertProblemAsync(await _factory.ClientWithKey(session).PutAsJsonAsync("/api/v1/contacts", Array.Empty<object>()),
            HttpStatusCode.Forbidden, "insufficient_scope");
        await using var agent = await _factory.ConnectAgentAsync(session);
        Assert.True(agent.IsConnected);
    }

    [Fact]
    public async Task Sign_out_revokes_the_session_and_closes_its_connections_with_AuthRequired()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var session = await SignInAsync(_factory, crm, "agent-7");
        await using var agent = await _factory.ConnectAgentAsync(session);
        var authRequired = agent.Subscribe("AuthRequired");
        await HubRefusal.AssertSessionNegotiatesAsync(_factory, session);

        Assert.Equal(HttpStatusCode.NoContent, (await _factory.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current")).StatusCode);

        var reason = await authRequired.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("signed_out", reason.GetProperty("reason").GetString());
        await agent.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await HubRefusal.AssertSessionRefusedAsync(_factory, session);
        await AssertProblemAsync(await _factory.ClientWithKey(session).DeleteAsync("/api/v1/sessions/current"), HttpStatusCode.Unauthorized, "unauthorized");
    }
}
