using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Operations;

public sealed class OriginTests : IDisposable
{
    private const string CrmA = "https://crm-a.example.com";
    private const string CrmB = "https://crm-b.example.com";

    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Preflight_is_allowed_for_an_origin_listed_only_in_an_accounts_crm_origins()
    {
        var (accountId, _) = await CreateTenantAsync(_factory, "Acme");
        await PutConfigAsync(accountId, new { crm_origins = new[] { CrmA } });
        using var client = _factory.CreateClient();

        Assert.True(await PreflightAllowsAsync(client, CrmA));
        Assert.False(await PreflightAllowsAsync(client, "https://evil.example.com"));
    }

    [Fact]
    public async Task Session_from_another_accounts_origin_is_refused_on_rest_and_on_the_agent_hub_and_its_own_origin_works()
    {
        var (accountA, crmA) = await CreateTenantAsync(_factory, "Acme");
        var (accountB, _) = await CreateTenantAsync(_factory, "Globex");
        await PutConfigAsync(accountA, new { crm_origins = new[] { CrmA } });
        await PutConfigAsync(accountB, new { crm_origins = new[] { CrmB } });
        var session = await SignInAsync(_factory, crmA, "agent-7");

        await AssertProblemAsync(await SignOutAsync(session, CrmB), HttpStatusCode.Forbidden, "origin_not_allowed");
        await AssertProblemAsync(await NegotiateAsync(session, CrmB), HttpStatusCode.Forbidden, "origin_not_allowed");
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(session, CrmB));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var upgradeRefused = await Assert.ThrowsAsync<InvalidOperationException>(() => ConnectAsync(session, CrmB, skipNegotiation: true));
        Assert.Contains("status code: 403", upgradeRefused.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(session, CrmA)).StatusCode);

        await using (var connection = await ConnectAsync(session, CrmA))
        {
            var hello = await connection.InvokeAsync("Hello");
            Assert.Equal("agent-7", hello.GetProperty("agent_id").GetString());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await SignOutAsync(session, CrmA)).StatusCode);
    }

    [Fact]
    public async Task Api_key_from_an_unlisted_origin_is_refused_but_same_origin_and_server_requests_are_not()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        await AssertProblemAsync(await GetContactsAsync(crm, CrmB), HttpStatusCode.Forbidden, "origin_not_allowed");
        Assert.Equal(HttpStatusCode.OK, (await GetContactsAsync(crm, "http://localhost")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetContactsAsync(crm, null)).StatusCode);
    }

    [Fact]
    public async Task Hello_returns_the_accounts_webphone_origins()
    {
        var (accountId, crm) = await CreateTenantAsync(_factory, "Acme");
        await PutConfigAsync(accountId, new { webphone_origins = new[] { "https://phone.example.com" } });

        await using var connection = await _factory.ConnectAgentAsync(await SignInAsync(_factory, crm, "agent-7"));
        var hello = await connection.InvokeAsync("Hello");

        Assert.Equal(["https://phone.example.com"], hello.GetProperty("webphone_origins").EnumerateArray().Select(origin => origin.GetString()));
    }

    private async Task PutConfigAsync(string accountId, object config)
    {
        using var admin = _factory.Admin();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = JsonContent.Create(config) };
        request.Headers.Add("X-Account-ID", accountId);
        await ReadAsync(await admin.SendAsync(request), HttpStatusCode.OK);
    }

    private static async Task<bool> PreflightAllowsAsync(HttpClient client, string origin)
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/sessions");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization");
        var response = await client.SendAsync(preflight);
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin
            && response.Headers.TryGetValues("Access-Control-Allow-Credentials", out var credentials) && credentials.Single() == "true";
    }

    private async Task<HttpResponseMessage> SignOutAsync(string session, string origin)
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/sessions/current");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session);
        request.Headers.Add("Origin", origin);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> GetContactsAsync(HttpClient crm, string? origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/contacts?phone=%2B15550100");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await crm.SendAsync(request);
    }

    private async Task<HttpResponseMessage> NegotiateAsync(string session, string origin)
    {
        using var client = _factory.ClientWithKey(session);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/agent/negotiate?negotiateVersion=1");
        request.Headers.Add("Origin", origin);
        return await client.SendAsync(request);
    }

    /// <summary>The real client with <paramref name="origin"/> on the negotiate and on the upgrade, as a browser sends it.</summary>
    private Task<AgentConnection> ConnectAsync(string session, string origin, bool skipNegotiation = false) =>
        AgentConnection.StartAsync(_factory.CreateAgentConnection(session, origin, skipNegotiation));
}
