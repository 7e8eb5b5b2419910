using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.EventStream;

public sealed class EventStreamConsumerDefinition : ConsumerDefinition<EventStreamConsumer>
{
    public EventStreamConsumerDefinition() => EndpointName = "hub-event-stream";

    // Appends take turns anyway (one lock per append), so one batch at a time.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EventStreamConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseEventBatches(consumerConfigurator, concurrencyLimit: 1);
}
