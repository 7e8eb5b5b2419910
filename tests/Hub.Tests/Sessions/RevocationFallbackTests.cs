using Dapper;
using Hub.Api.Agents;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Sessions;

/// <summary>
/// A sign-out on another node whose <c>SessionRevoked</c> never made it over the bus (the broker was
/// down) still closes this node's connections of that session, at the next heartbeat.
/// </summary>
public sealed class RevocationFallbackTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Session_revoked_in_the_store_only_is_closed_at_the_next_heartbeat()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var revoked = await SignInAsync(_factory, crm, "agent-7");
        var kept = await SignInAsync(_factory, crm, "agent-8");
        await using var revokedAgent = await _factory.ConnectAgentAsync(revoked);
        await using var keptAgent = await _factory.ConnectAgentAsync(kept);
        var authRequired = revokedAgent.Subscribe("AuthRequired");
        var keptAuthRequired = keptAgent.Subscribe("AuthRequired");

        // What the other node's sign-out leaves when it cannot publish: the revocation, in the store only.
        await using (var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            Assert.Equal(1, await connection.ExecuteAsync("UPDATE sessions SET revoked_at = @now WHERE token_hash = @hash",
                new { now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), hash = Ids.Sha256(revoked) }));
        }

        var within = AgentConnections.HeartbeatInterval * 2.5;
        var reason = await authRequired.ReadAsync().AsTask().WaitAsync(within);
        Assert.Equal("signed_out", reason.GetProperty("reason").GetString());
        await revokedAgent.Closed.WaitAsync(within);
        Assert.True(keptAgent.IsConnected);
        await keptAgent.InvokeAsync("Hello");
        Assert.False(keptAuthRequired.TryRead(out _));
    }
}
