using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.AgentState;

public sealed class AgentStateConsumerDefinition : ConsumerDefinition<AgentStateConsumer>
{
    public AgentStateConsumerDefinition() => EndpointName = "hub-agent-state";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<AgentStateConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseEventBatches(consumerConfigurator, concurrencyLimit: 1);
}
