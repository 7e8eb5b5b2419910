using Hub.Workers.Events;
using MassTransit;

namespace Hub.Workers.ScreenPop;

public sealed class ScreenPopConsumerDefinition : ConsumerDefinition<ScreenPopConsumer>
{
    public ScreenPopConsumerDefinition() => EndpointName = "hub-screen-pop";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ScreenPopConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseEventBacklog(context);
        endpointConfigurator.UseMessageRetry(retry => retry.UseStoreRetry());
    }
}
