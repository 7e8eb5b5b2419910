using Hub.Workers.AgentState;
using Hub.Workers.CallLog;
using Hub.Workers.ScreenPop;
using MassTransit;

namespace Hub.Workers;

public static class HubWorkersRegistration
{
    /// <summary>
    /// The consumers that hold the hub's business rules. The Api hosts them in-process in the embedded
    /// default; <c>Hub.Workers</c> processes host them in production.
    /// </summary>
    public static IBusRegistrationConfigurator AddHubWorkers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<CallLogConsumer, CallLogConsumerDefinition>();
        bus.AddConsumer<ScreenPopConsumer, ScreenPopConsumerDefinition>();
        bus.AddConsumer<AgentStateConsumer, AgentStateConsumerDefinition>();
        return bus;
    }
}
