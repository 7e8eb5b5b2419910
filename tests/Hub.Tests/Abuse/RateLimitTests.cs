using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hub.Tests.Support;
using Microsoft.AspNetCore.Http;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Abuse;

/// <summary>Per-credential request limits on /api/v1 (key, session, anonymous IP), with tiny limits so a test reaches them.</summary>
public sealed class RateLimitTests : IDisposable
{
    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:RateLimits:PerKeyPerMinute"] = "5",
        ["Hub:RateLimits:PerSessionPerMinute"] = "3",
        ["Hub:RateLimits:AnonymousPerMinute"] = "2",
    }));

    public void Dispose() => _factory.Dispose();

    /// <summary>A request as if from this client IP (TestServer has none of its own).</summary>
    private async Task<(int Status, string? RetryAfter, JsonNode? Body)> SendFromAsync(string ip, string method, string path, string? bearer = null)
    {
        var context = await _factory.Server.SendAsync(context =>
        {
            context.Request.Method = method;
            context.Request.Path = path;
            context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
            if (bearer is not null)
            {
                context.Request.Headers.Authorization = "Bearer " + bearer;
            }
        });
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.FirstOrDefault(), context.Response.ContentType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null);
    }

    private static async Task<string> CreateKeyAsync(HttpClient admin, string tenantId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys")
            { Content = JsonContent.Create(new { name = "crm", scopes = new[] { "contacts" } }) };
        request.Headers.Add("X-Account-ID", tenantId);
        return (await ReadAsync(await admin.SendAsync(request), HttpStatusCode.Created))["key"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_key_over_its_limit_gets_429_rate_limited_with_retry_after_while_another_key_of_the_tenant_is_unaffected()
    {
        using var admin = _factory.Admin();
        var tenantId = (await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme" }), HttpStatusCode.Created))["id"]!.GetValue<string>();
        using var first = _factory.ClientWithKey(await CreateKeyAsync(admin, tenantId));
        using var second = _factory.ClientWithKey(await CreateKeyAsync(admin, tenantId));

        for (var i = 0; i < 5; i++)
        {
            await ReadAsync(await first.GetAsync("/api/v1/contacts/nobody"), HttpStatusCode.NotFound);
        }

        var refused = await first.GetAsync("/api/v1/contacts/nobody");
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);

        await ReadAsync(await second.GetAsync("/api/v1/contacts/nobody"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_session_over_its_limit_gets_429_rate_limited_with_retry_after_while_another_session_of_the_tenant_is_unaffected()
    {
        using var admin = _factory.Admin();
        var tenantId = (await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme" }), HttpStatusCode.Created))["id"]!.GetValue<string>();
        using var crm = _factory.ClientWithKey(await HubScenario.CreateKeyAsync(admin, tenantId, ["tokens", "calls:read"]));

        // Each analyst signs in from their own browser, so the anonymous per-IP limit of the exchange stays out of the way.
        async Task<HttpClient> SignInAnalystFromAsync(string ip, string analystId)
        {
            var minted = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = analystId, role = "analyst" }), HttpStatusCode.OK);
            var (status, _, session) = await SendFromAsync(ip, "POST", "/api/v1/sessions", minted["embed_token"]!.GetValue<string>());
            Assert.Equal(StatusCodes.Status200OK, status);
            return _factory.ClientWithKey(session!["session_token"]!.GetValue<string>());
        }

        using var first = await SignInAnalystFromAsync("203.0.113.21", "supervisor-1");
        using var second = await SignInAnalystFromAsync("203.0.113.22", "supervisor-2");

        for (var i = 0; i < 3; i++)
        {
            await ReadAsync(await first.GetAsync("/api/v1/calls"), HttpStatusCode.OK);
        }

        var refused = await first.GetAsync("/api/v1/calls");
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);

        await ReadAsync(await second.GetAsync("/api/v1/calls"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Anonymous_token_exchange_is_limited_per_client_ip()
    {
        Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("203.0.113.7", "POST", "/api/v1/sessions")).Status);
        Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("203.0.113.7", "POST", "/api/v1/sessions")).Status);

        var (status, retryAfter, body) = await SendFromAsync("203.0.113.7", "POST", "/api/v1/sessions");
        Assert.Equal(StatusCodes.Status429TooManyRequests, status);
        Assert.Equal("rate_limited", body?["code"]?.GetValue<string>());
        Assert.NotNull(retryAfter);

        Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("198.51.100.9", "POST", "/api/v1/sessions")).Status);
    }

    [Fact]
    public async Task Health_is_not_limited()
    {
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(StatusCodes.Status200OK, (await SendFromAsync("203.0.113.8", "GET", "/health/ready")).Status);
        }

        // The same client is limited on the API, so the limiter is on.
        await SendFromAsync("203.0.113.8", "POST", "/api/v1/sessions");
        await SendFromAsync("203.0.113.8", "POST", "/api/v1/sessions");
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SendFromAsync("203.0.113.8", "POST", "/api/v1/sessions")).Status);
        Assert.Equal(StatusCodes.Status200OK, (await SendFromAsync("203.0.113.8", "GET", "/health/ready")).Status);
    }
}
