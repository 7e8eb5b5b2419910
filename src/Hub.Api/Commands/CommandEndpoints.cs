using System.Text.Json;
using Hub.Api.Agents;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store.Config;

namespace Hub.Api.Commands;

public sealed record DialRequest(string? Number, JsonElement? Options);

public sealed record CommandRequest(string? Type, JsonElement? Payload);

public sealed record CommandAccepted(string CommandId, string Status);

/// <summary>Click-to-call and the other webphone commands a CRM backend sends to an agent's browser, and their status.</summary>
internal static class CommandEndpoints
{
    public static void MapCommandEndpoints(this IEndpointRouteBuilder app)
    {
        var dial = app.MapGroup("/api/v1").WithTags("Commands").RequireAuthorization(HubPolicies.Scope(Scopes.Dial));
        dial.MapPost("/agents/{agentId}/dial", DialAsync);
        dial.MapPost("/agents/{agentId}/commands", CommandAsync);
        dial.MapGet("/commands/{commandId}", GetCommandAsync);
    }

    private static Task<IResult> DialAsync(string agentId, DialRequest request, WorkingAccount account, AgentPresence presence,
        CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var payload = new Dictionary<string, object?> { ["number"] = request.Number };
        if (request.Options is { ValueKind: not JsonValueKind.Null } options)
        {
            payload["options"] = options;
        }

        return SendAsync(agentId, "call", JsonSerializer.SerializeToElement(payload), account, presence, commands, configs, cancellationToken);
    }

    private static Task<IResult> CommandAsync(string agentId, CommandRequest request, WorkingAccount account, AgentPresence presence,
        CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken) =>
        SendAsync(agentId, request.Type, request.Payload ?? JsonSerializer.SerializeToElement(new { }), account, presence, commands, configs, cancellationToken);

    internal static async Task<IResult> SendAsync(string agentId, string? type, JsonElement payload, WorkingAccount account,
        AgentPresence presence, CommandStore commands, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        if (!Ids.IsAgentId(agentId))
        {
            throw HubProblemException.BadRequest("invalid_agent_id", "agent_id must be 1 to 128 of A-Z a-z 0-9 . _ @ + -.");
        }

        if (CommandValidator.Check(type, payload) is { } problem)
        {
            throw HubProblemException.BadRequest("invalid_command", problem);
        }

        if (await presence.CountOnlineAsync(account.TenantId, agentId, cancellationToken) == 0)
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
}
