using Dapper;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Api.Agents;

/// <summary>
/// Presence across Api nodes, in the store: each node's agent connections (<c>agent_connections</c>) and its
/// heartbeat (<c>api_nodes</c>). A node's rows count only while its heartbeat is fresh, so a node that died
/// without cleaning up stops showing its agents online within <see cref="NodeTimeout"/>.
/// </summary>
public sealed class AgentPresence(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(35);

    public string NodeId { get; } = string.IsNullOrWhiteSpace(options.Value.NodeId) ? Guid.NewGuid().ToString("N") : options.Value.NodeId;

    /// <summary>
    /// Records the connection; false, recording nothing, when its session already holds
    /// <see cref="LimitSettings.ConnectionsPerSession"/> live connections on all nodes together. The row goes in
    /// first and is counted after, so two nodes connecting the same session at once cannot both slip under the
    /// limit (at worst both are refused and the relays retry).
    /// </summary>
    public async Task<bool> AddAsync(string connectionId, string tenantId, string agentId, string sessionId)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO agent_connections (connection_id, node_id, tenant_id, agent_id, session_id, connected_at)
            VALUES (@connectionId, @NodeId, @tenantId, @agentId, @sessionId, @now)
            """, new { connectionId, NodeId, tenantId, agentId, sessionId, now = clock.NowMs() });
        var limit = options.Value.Limits.ConnectionsPerSession;
        if (limit <= 0)
        {
            return true;
        }

        // A dead node's rows do not count; this node's own count before its first heartbeat is written.
        var held = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM agent_connections c LEFT JOIN api_nodes n ON n.node_id = c.node_id
            WHERE c.tenant_id = @tenantId AND c.agent_id = @agentId AND c.session_id = @sessionId
              AND (c.node_id = @NodeId OR n.last_seen_at >= @cutoff)
            """, new { tenantId, agentId, sessionId, NodeId, cutoff = LiveCutoff() });
        if (held > limit)
        {
            await connection.ExecuteAsync("DELETE FROM agent_connections WHERE connection_id = @connectionId", new { connectionId });
            return false;
        }

        return true;
    }

    public async Task RemoveAsync(string connectionId)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync("DELETE FROM agent_connections WHERE connection_id = @connectionId", new { connectionId });
    }

    /// <summary>Sessions revoked at or after <paramref name="since"/> (epoch ms).</summary>
    public async Task<IEnumerable<string>> RevokedSinceAsync(long since, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at >= @since",
            new { since }, cancellationToken: cancellationToken));
    }

    public async Task<int> CountOnlineAsync(string tenantId, string agentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """
            SELECT count(*) FROM agent_connections c JOIN api_nodes n ON n.node_id = c.node_id
            WHERE c.tenant_id = @tenantId AND c.agent_id = @agentId AND n.last_seen_at >= @cutoff
            """, new { tenantId, agentId, cutoff = LiveCutoff() }, cancellationToken: cancellationToken));
    }

    public long LiveCutoff() => clock.GetUtcNow().Subtract(NodeTimeout).ToUnixTimeMilliseconds();

    internal async Task HeartbeatAsync(bool starting, CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        await using var connection = await database.OpenAsync(cancellationToken);
        if (starting)
        {
            // A restarted node with a fixed id holds none of the connections its last life recorded.
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM agent_connections WHERE node_id = @NodeId", new { NodeId }, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_nodes (node_id, started_at, last_seen_at) VALUES (@NodeId, @now, @now)
            ON CONFLICT (node_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
            """, new { NodeId, now }, cancellationToken: cancellationToken));
    }

    internal async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM agent_connections WHERE node_id = @NodeId", new { NodeId }, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM api_nodes WHERE node_id = @NodeId", new { NodeId }, cancellationToken: cancellationToken));
    }
}
