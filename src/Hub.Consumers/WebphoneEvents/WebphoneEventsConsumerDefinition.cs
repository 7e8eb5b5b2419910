using MassTransit;

namespace Hub.Consumers.WebphoneEvents;

public sealed class WebphoneEventsConsumerDefinition : ConsumerDefinition<WebphoneEventsConsumer>
{
    public const string Queue = "hub-events";

    public WebphoneEventsConsumerDefinition() => EndpointName = Queue;

    // One batch at a time per process, each committed whole: a later event of a call cannot reach the
    // delivery table (and the webhook endpoint) before an earlier one this process received, because the
    // dispatcher holds back a delivery while an earlier pending one of its call exists. The next batch
    // fills while one is written.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebphoneEventsConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseEventBacklog<WebphoneEventsConsumer>(context);
        endpointConfigurator.UseEventBatches(consumerConfigurator, concurrencyLimit: 1);
    }
}
