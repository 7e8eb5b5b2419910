using MassTransit;

namespace Hub.Workers.CallLog;

public sealed class CallLogConsumerDefinition : ConsumerDefinition<CallLogConsumer>
{
    public CallLogConsumerDefinition() => EndpointName = "hub-call-log";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CallLogConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(retry => retry.UseStoreRetry());
}
