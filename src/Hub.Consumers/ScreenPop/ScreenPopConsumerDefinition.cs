using Hub.Consumers.WebphoneEvents;
using Hub.ServiceDefaults;
using MassTransit;

namespace Hub.Consumers.ScreenPop;

public sealed class ScreenPopConsumerDefinition : ConsumerDefinition<ScreenPopConsumer>
{
    public ScreenPopConsumerDefinition() => EndpointName = "hub-screen-pop";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ScreenPopConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // A pop may wait on an account's CRM: the same slots on both transports (the in-memory bus would give
        // 16), well above one account's share (Hub:ScreenPop:MaxConcurrentLookupsPerTenant).
        endpointConfigurator.ConcurrentMessageLimit = HubTransport.ConcurrentMessageLimit;
        endpointConfigurator.UseEventBacklog<ScreenPopConsumer>(context);
        endpointConfigurator.UseStoreRetry();
    }
}
