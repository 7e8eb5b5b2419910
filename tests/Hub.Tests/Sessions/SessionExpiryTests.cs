using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Sessions;

/// <summary>Sessions that live three seconds, so their connections' expiry can be awaited for real.</summary>
public sealed class SessionExpiryTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:SessionLifetime"] = "00:00:03",
    }));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Expired_session_connection_is_closed_with_AuthRequired_at_expiry()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var session = await SignInAsync(_factory, crm, "agent-7");
        await using var agent = await _factory.ConnectAgentAsync(session);
        var authRequired = agent.Subscribe("AuthRequired");

        // No request after connecting: only the expiry itself can end the connection.
        var reason = await authRequired.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("session_expired", reason.GetProperty("reason").GetString());
        await agent.Closed.WaitAsync(Timeout);
        await Hub.Tests.Auth.HubRefusal.AssertSessionRefusedAsync(_factory, session);
    }

    [Fact]
    public async Task Session_expiring_does_not_close_other_sessions_connections()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var expiring = await SignInAsync(_factory, crm, "agent-7");
        var lasting = await SignInAsync(_factory, crm, "agent-7");
        await ExtendAsync(lasting, TimeSpan.FromHours(1));
        await using var expiringAgent = await _factory.ConnectAgentAsync(expiring);
        await using var lastingAgent = await _factory.ConnectAgentAsync(lasting);
        var lastingAuthRequired = lastingAgent.Subscribe("AuthRequired");

        await expiringAgent.Closed.WaitAsync(Timeout);

        Assert.True(lastingAgent.IsConnected);
        await lastingAgent.InvokeAsync("Hello");
        Assert.False(lastingAuthRequired.TryRead(out _));
    }

    private async Task ExtendAsync(string sessionToken, TimeSpan lifetime)
    {
        await using var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        Assert.Equal(1, await connection.ExecuteAsync("UPDATE sessions SET expires_at = @expiresAt WHERE token_hash = @hash",
            new { expiresAt = DateTimeOffset.UtcNow.Add(lifetime).ToUnixTimeMilliseconds(), hash = Ids.Sha256(sessionToken) }));
    }
}
