using Hub.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Hub.SampleConsumer;

/// <summary>A call is ringing at an agent: e.g. open a ticket in your CRM.</summary>
public sealed class IncomingCallConsumer(ILogger<IncomingCallConsumer> logger) : IConsumer<IncomingCallReceived>
{
    public Task Consume(ConsumeContext<IncomingCallReceived> context)
    {
        var call = context.Message;
        // At-least-once: the same EventId may come again; make your effect idempotent on it.
        logger.LogInformation("Incoming call {CallId} from {Number} for agent {AgentId} of tenant {TenantId} (event {EventId})",
            call.CallId, call.Number, call.AgentId, call.TenantId, call.EventId);
        return Task.CompletedTask;
    }
}
