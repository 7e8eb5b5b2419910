using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.Webhooks;

public sealed class WebhookFanOutConsumerDefinition : ConsumerDefinition<WebhookFanOutConsumer>
{
    public WebhookFanOutConsumerDefinition() => EndpointName = "hub-webhooks";

    // One batch at a time, each committed whole: a later event of a call cannot reach the delivery table
    // (and the endpoint) before an earlier one this process received, because the dispatcher holds back a
    // delivery while an earlier pending one of its call exists.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookFanOutConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseEventBatches(consumerConfigurator, concurrencyLimit: 1);
}
