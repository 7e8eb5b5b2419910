using System.Text.Json;

namespace Hub.Contracts;

/// <summary>
/// Send a webphone command (<c>call</c>, <c>hangup</c>, <c>send_dtmf</c>, ...) to every connection of
/// one agent; the relay posts it into the webphone iframe. Every Api node receives a copy.
/// </summary>
public sealed record SendWebphoneCommand
{
    public required Guid CommandId { get; init; }
    public required string TenantId { get; init; }
    public required string AgentId { get; init; }
    public required string Type { get; init; }
    public required JsonElement Payload { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}
