using Hub.Contracts;
using MassTransit;

namespace Hub.Api.Agents;

/// <summary>Closes the revoked session's connections on this node (every node gets a copy).</summary>
public sealed class SessionRevokedConsumer(AgentConnections connections) : IConsumer<SessionRevoked>
{
    public Task Consume(ConsumeContext<SessionRevoked> context) =>
        connections.CloseSessionAsync(context.Message.SessionId, context.Message.Reason);
}
