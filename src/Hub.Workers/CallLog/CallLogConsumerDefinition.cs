using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.CallLog;

public sealed class CallLogConsumerDefinition : ConsumerDefinition<CallLogConsumer>
{
    public CallLogConsumerDefinition() => EndpointName = "hub-call-log";

    // Two batches at a time: one is written while the next one fills. Batches sharing a call take turns.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CallLogConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseEventBatches(consumerConfigurator, concurrencyLimit: 2);
}
