using Hub.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Hub.SampleConsumer;

/// <summary>A call ended: e.g. write its talk time to the CRM's activity log.</summary>
public sealed class CallHungUpConsumer(ILogger<CallHungUpConsumer> logger) : IConsumer<CallHungUp>
{
    public Task Consume(ConsumeContext<CallHungUp> context)
    {
        var call = context.Message;
        logger.LogInformation("Call {CallId} of agent {AgentId} hung up after {Billsec} s ({HangupCause}), tenant {TenantId}",
            call.CallId, call.AgentId, call.Billsec, call.HangupCause ?? "no cause", call.TenantId);
        return Task.CompletedTask;
    }
}
