using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Hub.Api.Auth;
using Hub.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// Someone spraying made-up keys or session tokens spends the client IP's anonymous budget, and once it
/// is spent gets <c>429 rate_limited</c> without costing a store lookup per guess.
/// </summary>
public sealed class BogusBearerRateLimitTests : IDisposable
{
    private const int Budget = 3;

    private readonly HubApiFactory _hub = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:RateLimits:AnonymousPerMinute"] = Budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }));

    private readonly WebApplicationFactory<Program> _factory;

    private readonly CountingCredentialLookup _lookups;

    public BogusBearerRateLimitTests()
    {
        CountingCredentialLookup? lookups = null;
        _factory = _hub.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<CredentialLookup>(provider =>
                lookups = new CountingCredentialLookup(provider.GetRequiredService<Hub.Store.HubDatabase>(), provider.GetRequiredService<TimeProvider>()))));
        _ = _factory.Server;
        _ = _factory.Services.GetRequiredService<CredentialLookup>();
        _lookups = lookups!;
    }

    public void Dispose()
    {
        _factory.Dispose();
        _hub.Dispose();
    }

    private static string Guess(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private async Task<(int Status, string? RetryAfter, JsonNode? Body)> SendFromAsync(string ip, string method, string path, string? bearer = null)
    {
        var context = await _factory.Server.SendAsync(context =>
        {
            context.Request.Method = method;
            var query = path.IndexOf('?', StringComparison.Ordinal);
            context.Request.Path = query < 0 ? path : path[..query];
            context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
            context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
            if (bearer is not null)
            {
                context.Request.Headers.Authorization = "Bearer " + bearer;
            }
        });
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.FirstOrDefault(),
            context.Response.ContentType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null);
    }

    [Fact]
    public async Task Made_up_api_keys_past_the_anonymous_budget_get_429_without_reaching_the_store()
    {
        for (var i = 0; i < Budget; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("203.0.113.30", "GET", "/api/v1/calls", Guess("hubk_"))).Status);
        }

        var looked = _lookups.Count;
        for (var i = 0; i < 10; i++)
        {
            var (status, retryAfter, body) = await SendFromAsync("203.0.113.30", "GET", "/api/v1/calls", Guess("hubk_"));
            Assert.Equal(StatusCodes.Status429TooManyRequests, status);
            Assert.Equal("rate_limited", body?["code"]?.GetValue<string>());
            Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        }

        Assert.Equal(Budget, looked);
        Assert.Equal(looked, _lookups.Count);
    }

    [Fact]
    public async Task Made_up_session_tokens_on_the_agent_hub_spend_the_same_budget_then_get_429_without_reaching_the_store()
    {
        for (var i = 0; i < Budget; i++)
        {
            var path = $"/hubs/agent/negotiate?negotiateVersion=1&access_token={Guess("hubs_")}";
            Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("203.0.113.31", "POST", path)).Status);
        }

        var looked = _lookups.Count;
        var (status, retryAfter, body) = await SendFromAsync("203.0.113.31", "POST", $"/hubs/agent/negotiate?negotiateVersion=1&access_token={Guess("hubs_")}");
        var (apiStatus, _, _) = await SendFromAsync("203.0.113.31", "GET", "/api/v1/calls", Guess("hubk_"));

        Assert.Equal(StatusCodes.Status429TooManyRequests, status);
        Assert.Equal("rate_limited", body?["code"]?.GetValue<string>());
        Assert.NotNull(retryAfter);
        Assert.Equal(StatusCodes.Status429TooManyRequests, apiStatus);
        Assert.Equal(Budget, looked);
        Assert.Equal(looked, _lookups.Count);
    }

    [Fact]
    public async Task A_spraying_client_does_not_lock_out_a_valid_key_from_another_ip()
    {
        using var admin = _factory.CreateClient();
        for (var i = 0; i < Budget + 2; i++)
        {
            await SendFromAsync("203.0.113.32", "GET", "/api/v1/calls", Guess("hubk_"));
        }

        var (status, _, _) = await SendFromAsync("198.51.100.40", "GET", "/api/v1/tenants", HubApiFactory.AdminKey);

        Assert.Equal(StatusCodes.Status200OK, status);
    }

    [Fact]
    public async Task A_bearer_that_is_neither_a_hub_key_nor_a_session_never_reaches_the_store()
    {
        var before = _lookups.Count;

        for (var i = 0; i < Budget; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await SendFromAsync("203.0.113.33", "GET", "/api/v1/calls", Guess("garbage-"))).Status);
        }

        Assert.Equal(before, _lookups.Count);
    }

    private sealed class CountingCredentialLookup(Hub.Store.HubDatabase database, TimeProvider clock) : CredentialLookup(database, clock)
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override Task<StoredApiKey?> FindApiKeyAsync(string keyHash, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.FindApiKeyAsync(keyHash, cancellationToken);
        }

        public override Task<StoredSession?> FindSessionAsync(string tokenHash, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.FindSessionAsync(tokenHash, cancellationToken);
        }
    }
}
