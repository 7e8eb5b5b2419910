using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Commands;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Agents;

public sealed record DialRequest(string? Number, JsonElement? Options);

public sealed record CommandRequest(string? Type, JsonElement? Payload);

public sealed record CommandAccepted(string CommandId, string Status);

public sealed record AgentResponse(string AgentId, bool Online, bool Registered, int Connections, string? CurrentCallId, DateTimeOffset? LastSeenAt);

internal static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/agents", ListAsync).WithTags("Agents")
            .RequireAuthorization(policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                !context.User.IsSession() && (context.User.HasScope(Scopes.Dial) || context.User.HasScope(Scopes.CallsRead))));

        var dial = app.MapGroup("/api/v1").WithTags("Commands").RequireAuthorization(HubPolicies.Scope(Scopes.Dial));
        dial.MapPost("/agents/{agentId}/dial", DialAsync);
        dial.MapPost("/agents/{agentId}/commands", CommandAsync);
        dial.MapGet("/commands/{commandId}", GetCommandAsync);
    }

    private static Task<IResult> DialAsync(string agentId, DialRequest request, WorkingAccount account, AgentConnections connections,
        CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var payload = new Dictionary<string, object?> { ["number"] = request.Number };
        if (request.Options is { ValueKind: not JsonValueKind.Null } options)
        {
            payload["options"] = options;
        }

        return SendAsync(agentId, "call", JsonSerializer.SerializeToElement(payload), account, connections, commands, configs, cancellationToken);
    }

    private static Task<IResult> CommandAsync(string agentId, CommandRequest request, WorkingAccount account, AgentConnections connections,
        CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken) =>
        SendAsync(agentId, request.Type, request.Payload ?? JsonSerializer.SerializeToElement(new { }), account, connections, commands, configs, cancellationToken);

    internal static async Task<IResult> SendAsync(string agentId, string? type, JsonElement payload, WorkingAccount account,
        AgentConnections connections, CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        if (!Ids.IsAgentId(agentId))
        {
            throw HubProblemException.BadRequest("invalid_agent_id", "agent_id must be 1 to 128 of A-Z a-z 0-9 . _ @ + -.");
        }

        if (CommandValidator.Check(type, payload) is { } problem)
        {
            throw HubProblemException.BadRequest("invalid_command", problem);
        }

        if (await connections.CountOnlineAsync(account.TenantId, agentId, cancellationToken) == 0)
        {
            throw HubProblemException.Conflict("agent_offline", $"Agent {agentId} has no live connection to the hub.");
        }

        var config = await configs.ReadCachedAsync(account.TenantId, cancellationToken);
        var command = await commands.SendAsync(account.TenantId, agentId, type!, payload, configs.CountryCodeOf(config.Config), cancellationToken);
        return Results.Accepted($"/api/v1/commands/{command.CommandId}", new CommandAccepted(command.CommandId, command.Status));
    }

    private static async Task<CommandResponse> GetCommandAsync(string commandId, WorkingAccount account, CommandStore commands, CancellationToken cancellationToken) =>
        await commands.GetAsync(account.TenantId, commandId, cancellationToken)
        ?? throw HubProblemException.NotFound("command_not_found", $"No command {commandId} in this account.");

    /// <summary>Agents known from their events or holding a live connection on any node.</summary>
    private static async Task<IReadOnlyList<AgentResponse>> ListAsync(WorkingAccount account, HubDatabase database, AgentConnections connections,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var args = new { tenantId = account.TenantId, cutoff = connections.LiveCutoff() };
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
