using MassTransit;

namespace Hub.Workers.Webhooks;

public sealed class WebhookDeliveryConsumerDefinition : ConsumerDefinition<WebhookDeliveryConsumer>
{
    public WebhookDeliveryConsumerDefinition() => EndpointName = "hub-webhook-delivery";

    // A store fault after the POST leaves the lease to expire, so the attempt is made again (receivers
    // deduplicate on webhook-id); retrying here would find the lease already taken and do nothing.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookDeliveryConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(retry => retry.UseStoreRetry());
}
