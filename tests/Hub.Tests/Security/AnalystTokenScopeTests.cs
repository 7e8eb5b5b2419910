using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>An analyst session reads the whole call log, so minting one needs the key to read calls itself.</summary>
public sealed class AnalystTokenScopeTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static Task<HttpResponseMessage> MintAsync(HttpClient crm, string agentId, string? role) =>
        crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = agentId, role });

    [Fact]
    public async Task A_key_with_only_the_tokens_scope_cannot_mint_an_analyst_token_but_still_mints_agent_tokens()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme", ["tokens"]);

        var problem = await AssertProblemAsync(await MintAsync(crm, "supervisor-1", "analyst"), HttpStatusCode.Forbidden, "insufficient_scope");

        Assert.Contains("calls:read", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await ReadAsync(await MintAsync(crm, "agent-7", "agent"), HttpStatusCode.OK);
        await ReadAsync(await MintAsync(crm, "agent-8", null), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_key_with_tokens_and_calls_read_mints_an_analyst_token_that_signs_in_as_analyst()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme", ["tokens", "calls:read"]);

        var minted = await ReadAsync(await MintAsync(crm, "supervisor-1", "analyst"), HttpStatusCode.OK);
        var session = await ReadAsync(await ExchangeAsync(_factory, minted["embed_token"]!.GetValue<string>()), HttpStatusCode.OK);

        Assert.Equal("analyst", session["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_admin_key_mints_an_analyst_token()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme", ["admin"]);

        await ReadAsync(await MintAsync(crm, "supervisor-1", "analyst"), HttpStatusCode.OK);
    }
}
