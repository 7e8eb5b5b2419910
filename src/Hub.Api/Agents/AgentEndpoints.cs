using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Commands;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Agents;

public sealed record AgentResponse(string AgentId, bool Online, bool Registered, int Connections, string? CurrentCallId, DateTimeOffset? LastSeenAt);

internal static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/agents", ListAsync).WithTags("Agents")
            .RequireAuthorization(policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                !context.User.IsSession() && (context.User.HasScope(Scopes.Dial) || context.User.HasScope(Scopes.CallsRead))));

    }

    /// <summary>Agents known from their events or holding a live connection on any node.</summary>
    private static async Task<IReadOnlyList<AgentResponse>> ListAsync(WorkingAccount account, HubDatabase database, AgentPresence presence,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var args = new { tenantId = account.TenantId, cutoff = presence.LiveCutoff() };
        var states = (await connection.QueryAsync<AgentStateRow>(new CommandDefinition(
            "SELECT agent_id, registered, current_call_id, last_seen_at FROM agents WHERE tenant_id = @tenantId",
            args, cancellationToken: cancellationToken))).ToDictionary(row => row.AgentId, StringComparer.Ordinal);
        var live = (await connection.QueryAsync<LiveRow>(new CommandDefinition(
            """
            SELECT c.agent_id, count(*) AS connections, max(c.connected_at) AS last_connected_at
            FROM agent_connections c JOIN api_nodes n ON n.node_id = c.node_id
            WHERE c.tenant_id = @tenantId AND n.last_seen_at >= @cutoff
            GROUP BY c.agent_id
            """, args, cancellationToken: cancellationToken))).ToDictionary(row => row.AgentId, StringComparer.Ordinal);

        return states.Keys.Union(live.Keys).Order(StringComparer.Ordinal).Select(agentId =>
        {
            states.TryGetValue(agentId, out var state);
            live.TryGetValue(agentId, out var online);
            var lastSeen = Math.Max(state?.LastSeenAt ?? 0, online?.LastConnectedAt ?? 0);
            return new AgentResponse(agentId, online is not null, state?.Registered == 1, (int)(online?.Connections ?? 0),
                state?.CurrentCallId, lastSeen == 0 ? null : Clock.FromMs(lastSeen));
        }).ToList();
    }

    private sealed record AgentStateRow
    {
        public string AgentId { get; init; } = "";
        public long Registered { get; init; }
        public string? CurrentCallId { get; init; }
        public long LastSeenAt { get; init; }
    }

    private sealed record LiveRow
    {
        public string AgentId { get; init; } = "";
        public long Connections { get; init; }
        public long LastConnectedAt { get; init; }
    }
}
