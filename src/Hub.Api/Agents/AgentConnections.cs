using System.Collections.Concurrent;
using Dapper;
using Hub.Store;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hub.Api.Agents;

/// <summary>
/// The agent connections this node holds, in memory (to close a session's connections) and in the store
/// (presence across nodes). A node's rows count only while its heartbeat is fresh, so a node that died
/// without cleaning up stops showing its agents online within <see cref="NodeTimeout"/>.
/// </summary>
public sealed class AgentConnections(HubDatabase database, IOptions<HubSettings> options, IHubContext<AgentHub, IAgentClient> hub,
    TimeProvider clock, ILogger<AgentConnections> logger)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(35);

    private readonly ConcurrentDictionary<string, (HubCallerContext Context, string SessionId)> _local = new(StringComparer.Ordinal);

    public string NodeId { get; } = string.IsNullOrWhiteSpace(options.Value.NodeId) ? Guid.NewGuid().ToString("N") : options.Value.NodeId;

    public int LocalCount => _local.Count;

    public async Task AddAsync(HubCallerContext context, string tenantId, string agentId, string sessionId)
    {
        _local[context.ConnectionId] = (context, sessionId);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO agent_connections (connection_id, node_id, tenant_id, agent_id, session_id, connected_at)
            VALUES (@connectionId, @NodeId, @tenantId, @agentId, @sessionId, @now)
            """, new { connectionId = context.ConnectionId, NodeId, tenantId, agentId, sessionId, now = clock.NowMs() });
    }

    public async Task RemoveAsync(string connectionId)
    {
        _local.TryRemove(connectionId, out _);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync("DELETE FROM agent_connections WHERE connection_id = @connectionId", new { connectionId });
    }

    /// <summary>Tells this node's connections of a session that it ended, then closes them.</summary>
    public async Task CloseSessionAsync(string sessionId, string reason)
    {
        foreach (var (connectionId, entry) in _local.Where(item => item.Value.SessionId == sessionId).ToList())
        {
            try
            {
                await hub.Clients.Client(connectionId).AuthRequired(new AuthRequiredPush(reason));
            }
            catch (Exception exception)
            {
                logger.LogDebug(exception, "Could not tell {ConnectionId} its session ended", connectionId);
            }

            entry.Context.Abort();
        }
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
