using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Dashboard;

/// <summary>
/// /dashboard as a portal embeds it (seed 000): its frame-ancestors come from the account its URL
/// names, it signs in as an analyst, and it sees a sub-account only through a credential of that
/// account or an ancestor. The browser half (portal messages, real framing) is tests/browser/dashboard.test.mjs.
/// </summary>
public sealed class DashboardTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Dashboard_page_is_framed_only_by_the_frame_ancestors_of_the_account_in_its_url()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Portal customer");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { frame_ancestors = new[] { "'self'", "https://portal.example.com" } }), HttpStatusCode.OK);
        using var browser = _factory.CreateClient(new() { AllowAutoRedirect = false });

        var framed = await browser.GetAsync($"/dashboard/?account_id={tenantId}&avoid_cache=1");
        var unknown = await browser.GetAsync("/dashboard/?account_id=0123456789abcdef0123456789abcdef");
        var malformed = await browser.GetAsync("/dashboard/?account_id=https://portal.example.com");
        var bare = await browser.GetAsync("/dashboard");

        Assert.Equal(HttpStatusCode.OK, framed.StatusCode);
        Assert.Equal("text/html", framed.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"dashboard.js\">", await framed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.EndsWith("frame-ancestors 'self' https://portal.example.com", Policy(framed), StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", Policy(framed), StringComparison.Ordinal);
        Assert.Equal("no-cache", framed.Headers.CacheControl?.ToString());
        Assert.EndsWith("frame-ancestors 'self'", Policy(unknown), StringComparison.Ordinal);
        Assert.EndsWith("frame-ancestors 'self'", Policy(malformed), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
        Assert.Equal("/dashboard/", bare.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task Dashboard_redirect_keeps_the_portal_query()
    {
        using var browser = _factory.CreateClient(new() { AllowAutoRedirect = false });

        var response = await browser.GetAsync("/dashboard?account_id=0123456789abcdef0123456789abcdef&avoid_cache=17");

        Assert.Equal("/dashboard/?account_id=0123456789abcdef0123456789abcdef&avoid_cache=17", response.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task Analyst_context_names_the_tenant_and_its_portal_origins()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Analysed");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { portal_origins = new[] { "https://portal.example.com" } }), HttpStatusCode.OK);
        using var analyst = _factory.ClientWithKey(await SignInAsAnalystAsync(crm, "ana"));

        var context = await ReadAsync(await analyst.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.OK);

        Assert.Equal(tenantId, context["tenant_id"]!.GetValue<string>());
        Assert.Equal("Analysed", context["tenant_name"]!.GetValue<string>());
        Assert.Equal("analyst", context["role"]!.GetValue<string>());
        Assert.Equal("https://portal.example.com", Assert.Single(context["portal_origins"]!.AsArray())!.GetValue<string>());
    }

    [Fact]
    public async Task Agent_sessions_and_keys_without_calls_read_get_no_dashboard()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Agents only");
        using var agent = _factory.ClientWithKey(await SignInAsync(_factory, crm, "agent-1"));
        using var dialOnly = _factory.ClientWithKey(await CreateKeyAsync(_factory.Admin(), tenantId, ["dial"]));
        using var reader = _factory.ClientWithKey(await CreateKeyAsync(_factory.Admin(), tenantId, ["calls:read"]));

        await AssertProblemAsync(await agent.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await agent.GetAsync("/api/v1/calls"), HttpStatusCode.Forbidden, "insufficient_scope");
        await AssertProblemAsync(await dialOnly.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Equal("api_key", (await ReadAsync(await reader.GetAsync("/api/v1/dashboard/context"), HttpStatusCode.OK))["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Analyst_of_a_parent_sees_its_sub_account_but_never_another_tenant()
    {
        var (parentId, parent) = await CreateTenantAsync(_factory, "Parent", ["admin"]);
        var (childId, child) = await CreateTenantAsync(_factory, "Child", parent: parent);
        var (strangerId, _) = await CreateTenantAsync(_factory, "Stranger");
        using var parentAnalyst = _factory.ClientWithKey(await SignInAsAnalystAsync(parent, "boss"));
        using var childAnalyst = _factory.ClientWithKey(await SignInAsAnalystAsync(child, "ana"));

        Assert.Equal(HttpStatusCode.OK, (await CallsAsync(parentAnalyst, childId)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CallsAsync(parentAnalyst, parentId)).StatusCode);
        await AssertProblemAsync(await CallsAsync(parentAnalyst, strangerId), HttpStatusCode.Forbidden, "account_forbidden");
        await AssertProblemAsync(await CallsAsync(childAnalyst, parentId), HttpStatusCode.Forbidden, "account_forbidden");
        await AssertProblemAsync(await CallsAsync(childAnalyst, strangerId), HttpStatusCode.Forbidden, "account_forbidden");
    }

    [Fact]
    public async Task Embed_tokens_are_minted_for_agents_or_analysts_only()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Roles");

        await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = "x", role = "admin" }),
            HttpStatusCode.BadRequest, "invalid_role");
        var session = await ReadAsync(await ExchangeAsync(_factory, await MintAsync(crm, "ana", "analyst")), HttpStatusCode.OK);
        Assert.Equal("analyst", session["role"]!.GetValue<string>());
    }

    private async Task<string> SignInAsAnalystAsync(HttpClient crm, string analystId)
    {
        var session = await ReadAsync(await ExchangeAsync(_factory, await MintAsync(crm, analystId, "analyst")), HttpStatusCode.OK);
        return session["session_token"]!.GetValue<string>();
    }

    private static async Task<string> MintAsync(HttpClient crm, string agentId, string role)
    {
        var minted = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = agentId, role }), HttpStatusCode.OK);
        return minted["embed_token"]!.GetValue<string>();
    }

    private static async Task<HttpResponseMessage> CallsAsync(HttpClient client, string accountId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/calls");
        request.Headers.Add("X-Account-ID", accountId);
        return await client.SendAsync(request);
    }

    private static string Policy(HttpResponseMessage response) =>
        string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
}
