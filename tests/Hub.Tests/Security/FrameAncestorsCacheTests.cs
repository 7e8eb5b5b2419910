using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// /dashboard takes its frame-ancestors from the unauthenticated <c>?account_id</c>, so each page load
/// must not cost a store query: the policy is cached per account for 5 s. The tests see whether a query
/// ran by changing the stored config behind the API's back (no cache invalidation) and looking at
/// which policy the page gets, with the clock moved by hand.
/// </summary>
public sealed class FrameAncestorsCacheTests : IDisposable
{
    private readonly HubApiFactory _hub = new();
    private readonly ShiftableClock _clock = new();
    private readonly WebApplicationFactory<Program> _factory;

    public FrameAncestorsCacheTests()
    {
        _factory = _hub.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(_clock)));
    }

    public void Dispose()
    {
        _factory.Dispose();
        _hub.Dispose();
    }

    [Fact]
    public async Task Dashboard_loads_within_the_cache_window_read_the_account_policy_once()
    {
        var (tenantId, crmClient) = await CreateTenantAsync("Portal customer");
        await ReadAsync(await crmClient.PutAsJsonAsync("/api/v1/config", new { frame_ancestors = new[] { "https://portal.example.com" } }), HttpStatusCode.OK);
        using var browser = _factory.CreateClient();
        Assert.EndsWith("frame-ancestors https://portal.example.com", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);

        await StoreDirectlyAsync(tenantId, """{"frame_ancestors":["https://moved.example.com"]}""", update: true);
        for (var load = 0; load < 5; load++)
        {
            Assert.EndsWith("frame-ancestors https://portal.example.com", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);
        }

        _clock.Shift(TimeSpan.FromSeconds(6));
        Assert.EndsWith("frame-ancestors https://moved.example.com", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_without_a_policy_is_cached_too_and_a_config_change_through_the_api_shows_at_once()
    {
        var (tenantId, crmClient) = await CreateTenantAsync("No override yet");
        using var browser = _factory.CreateClient();
        Assert.EndsWith("frame-ancestors 'self'", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);

        await StoreDirectlyAsync(tenantId, """{"frame_ancestors":["https://sneaked.example.com"]}""", update: false);
        Assert.EndsWith("frame-ancestors 'self'", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);

        await ReadAsync(await crmClient.PutAsJsonAsync("/api/v1/config", new { frame_ancestors = new[] { "https://portal.example.com" } }), HttpStatusCode.OK);
        Assert.EndsWith("frame-ancestors https://portal.example.com", await PolicyAsync(browser, tenantId), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("not-an-id")]
    [InlineData("%00%0d%0a")]
    [InlineData("0123456789abcdef0123456789abcdef&account_id=fedcba9876543210fedcba9876543210")]
    public async Task Unknown_or_garbage_account_ids_get_the_global_policy_not_an_error(string accountId)
    {
        using var browser = _factory.CreateClient();

        for (var load = 0; load < 3; load++)
        {
            var response = await browser.GetAsync($"/dashboard/?account_id={accountId}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.EndsWith("frame-ancestors 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
    }

    /// <summary>As <see cref="HubScenario.CreateTenantAsync"/>, on the host with the shiftable clock.</summary>
    private async Task<(string TenantId, HttpClient Crm)> CreateTenantAsync(string name)
    {
        using var admin = WithKey(HubApiFactory.AdminKey);
        var tenant = await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name }), HttpStatusCode.Created);
        var tenantId = tenant["id"]!.GetValue<string>();
        return (tenantId, WithKey(await CreateKeyAsync(admin, tenantId, ["config"])));
    }

    private HttpClient WithKey(string key)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<string> PolicyAsync(HttpClient browser, string tenantId)
    {
        var response = await browser.GetAsync($"/dashboard/?account_id={tenantId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("Content-Security-Policy").Single();
    }

    private async Task StoreDirectlyAsync(string tenantId, string document, bool update)
    {
        await using var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        var changed = await connection.ExecuteAsync(update
            ? "UPDATE tenant_config SET document = @document WHERE tenant_id = @tenantId"
            : "INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@tenantId, @document, 0)", new { tenantId, document });
        Assert.Equal(1, changed);
    }

    /// <summary>Wall-clock time a test moves forward; timers stay real.</summary>
    private sealed class ShiftableClock : TimeProvider
    {
        private long _offsetTicks;

        public void Shift(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
    }
}
