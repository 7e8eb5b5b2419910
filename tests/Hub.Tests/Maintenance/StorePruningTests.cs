using Dapper;
using Hub.Api.Maintenance;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Hub.Tests.Maintenance;

public sealed class StorePruningTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Pruning_removes_expired_token_ids_old_event_ids_and_old_stream_events_only()
    {
        _ = _factory.Server;
        var database = _factory.Services.GetRequiredService<HubDatabase>();
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-8).ToUnixTimeMilliseconds();
        var recent = now.AddMinutes(-1).ToUnixTimeMilliseconds();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                "INSERT INTO used_tokens (tenant_id, jti, expires_at) VALUES ('a', 'shared', @old), ('b', 'shared', @future)",
                new { old, future = now.AddMinutes(5).ToUnixTimeMilliseconds() });
            await connection.ExecuteAsync(
                "INSERT INTO ingested_events (tenant_id, event_id, received_at) VALUES ('a', 'e1', @old), ('b', 'e1', @recent)",
                new { old, recent });
            await connection.ExecuteAsync(
                """
                INSERT INTO event_stream (tenant_id, event_id, type, agent_id, occurred_at, data)
                VALUES ('a', 'old', 'registered', 'agent-1', @old, '{}'), ('a', 'recent', 'registered', 'agent-1', @recent, '{}')
                """, new { old, recent });
        }

        await _factory.Services.GetServices<IHostedService>().OfType<StorePruning>().Single().PruneAsync(CancellationToken.None);

        await using var check = await database.OpenAsync(CancellationToken.None);
        Assert.Equal(["b"], await check.QueryAsync<string>("SELECT tenant_id FROM used_tokens WHERE jti = 'shared'"));
        Assert.Equal(["b"], await check.QueryAsync<string>("SELECT tenant_id FROM ingested_events WHERE event_id = 'e1'"));
        Assert.Equal(["recent"], await check.QueryAsync<string>("SELECT event_id FROM event_stream"));
    }
}
