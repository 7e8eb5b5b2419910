using Hub.Api.Telemetry;
using Hub.Contracts;
using MassTransit;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Agents;

/// <summary>Pushes a screen-pop to the agent's connections on this node (every node gets a copy).</summary>
public sealed class ShowScreenPopConsumer(IHubContext<AgentHub, IAgentClient> hub, HubApiMetrics metrics, TimeProvider clock) : IConsumer<ShowScreenPop>
{
    public async Task Consume(ConsumeContext<ShowScreenPop> context)
    {
        var pop = context.Message;
        // The last span of an event's trace: the relay's Publish, the bus, the screen-pop worker, the bus, this push.
        using var activity = HubApiMetrics.Activities.StartActivity("screen-pop push");
        await hub.Clients.Group(AgentHub.GroupOf(pop.TenantId, pop.AgentId)).ScreenPop(new ScreenPopPush(
            pop.CallId, pop.Number, pop.UnknownCaller, pop.Url,
            pop.Matches.Select(match => new ScreenPopMatchPush(match.ExternalId, match.DisplayName, match.Company, match.Url, match.CustomFields)).ToList(),
            pop.CreatedAt));
        if (pop.EventReceivedAt is { } receivedAt)
        {
            metrics.ScreenPopPushed(clock.GetUtcNow() - receivedAt);
        }
    }
}
