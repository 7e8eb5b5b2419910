using Hub.Contracts;
using MassTransit;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Agents;

/// <summary>Pushes a webphone command to the agent's connections on this node (every node gets a copy).</summary>
public sealed class SendWebphoneCommandConsumer(IHubContext<AgentHub, IAgentClient> hub) : IConsumer<SendWebphoneCommand>
{
    public Task Consume(ConsumeContext<SendWebphoneCommand> context)
    {
        var command = context.Message;
        return hub.Clients.Group(AgentHub.GroupOf(command.TenantId, command.AgentId))
            .Command(new CommandPush(command.CommandId.ToString(), command.Type, command.Payload));
    }
}
