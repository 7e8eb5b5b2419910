using System.Net;
using System.Text.Json.Nodes;
using Hub.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Hub.Tests.Security;

/// <summary>The demo's endpoints take no credential at all (they stand in for a CRM backend), so each client IP gets a budget.</summary>
public sealed class DemoRateLimitTests : IDisposable
{
    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:RateLimits:AnonymousPerMinute"] = "3",
    }));

    public void Dispose() => _factory.Dispose();

    private async Task<(int Status, string? RetryAfter, JsonNode? Body)> PostFromAsync(string ip, string path)
    {
        var context = await _factory.Server.SendAsync(context =>
        {
            context.Request.Method = "POST";
            context.Request.Path = path;
            context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        });
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.FirstOrDefault(),
            context.Response.ContentType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null);
    }

    [Fact]
    public async Task Demo_tokens_are_limited_per_client_ip_with_429_rate_limited_and_retry_after()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(StatusCodes.Status200OK, (await PostFromAsync("203.0.113.50", "/demo/api/token")).Status);
        }

        var (status, retryAfter, body) = await PostFromAsync("203.0.113.50", "/demo/api/analyst-token");

        Assert.Equal(StatusCodes.Status429TooManyRequests, status);
        Assert.Equal("rate_limited", body?["code"]?.GetValue<string>());
        Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal(StatusCodes.Status200OK, (await PostFromAsync("198.51.100.50", "/demo/api/token")).Status);
    }

    [Fact]
    public async Task The_demo_budget_is_its_own_so_a_demo_page_does_not_spend_the_token_exchange_budget()
    {
        for (var i = 0; i < 3; i++)
        {
            await PostFromAsync("203.0.113.51", "/demo/api/token");
        }

        Assert.Equal(StatusCodes.Status401Unauthorized, (await PostFromAsync("203.0.113.51", "/api/v1/sessions")).Status);
    }
}
