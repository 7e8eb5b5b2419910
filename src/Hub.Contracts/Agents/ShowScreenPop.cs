using System.Text.Json;

namespace Hub.Contracts;

/// <summary>
/// Show a screen-pop to every connection of one agent. Published by the screen-pop worker; every Api
/// node receives a copy and pushes it to the connections it holds.
/// </summary>
public sealed record ShowScreenPop
{
    public required string TenantId { get; init; }
    public required string AgentId { get; init; }
    public required string CallId { get; init; }
    public required string Number { get; init; }
    public required bool UnknownCaller { get; init; }
    public string? Url { get; init; }
    public required IReadOnlyList<ScreenPopMatch> Matches { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the hub received the <c>incoming_call</c> this pop is for: the start of the pop's latency.</summary>
    public DateTimeOffset? EventReceivedAt { get; init; }
}

/// <summary>One contact that matched the caller's number, in rank order.</summary>
public sealed record ScreenPopMatch
{
    public required string ExternalId { get; init; }
    public required string DisplayName { get; init; }
    public string? Company { get; init; }
    public string? Url { get; init; }
    public JsonElement? CustomFields { get; init; }
}
