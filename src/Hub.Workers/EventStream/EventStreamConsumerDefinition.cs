using MassTransit;

namespace Hub.Workers.EventStream;

public sealed class EventStreamConsumerDefinition : ConsumerDefinition<EventStreamConsumer>
{
    public EventStreamConsumerDefinition() => EndpointName = "hub-event-stream";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EventStreamConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(retry => retry.UseStoreRetry());
}
