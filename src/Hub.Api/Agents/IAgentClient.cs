using System.Text.Json;

namespace Hub.Api.Agents;

/// <summary>What the hub calls on an agent's browser (the relay).</summary>
public interface IAgentClient
{
    Task ScreenPop(ScreenPopPush pop);

    Task Command(CommandPush command);

    /// <summary>The session ended (signed out, revoked, expired): get a new token, then reconnect.</summary>
    Task AuthRequired(AuthRequiredPush reason);
}

public sealed record ScreenPopPush(
    string CallId, string Number, bool UnknownCaller, string? Url, IReadOnlyList<ScreenPopMatchPush> Matches, DateTimeOffset CreatedAt);

public sealed record ScreenPopMatchPush(string ExternalId, string DisplayName, string? Company, string? Url, JsonElement? CustomFields);

public sealed record CommandPush(string CommandId, string Type, JsonElement Payload);

public sealed record AuthRequiredPush(string Reason);

public sealed record HelloResponse(string TenantId, string AgentId, string ConnectionId, IReadOnlyList<string> WebphoneOrigins);
