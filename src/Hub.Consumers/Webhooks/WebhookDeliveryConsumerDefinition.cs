using Hub.ServiceDefaults;
using MassTransit;

namespace Hub.Consumers.Webhooks;

public sealed class WebhookDeliveryConsumerDefinition : ConsumerDefinition<WebhookDeliveryConsumer>
{
    public WebhookDeliveryConsumerDefinition() => EndpointName = "hub-webhook-delivery";

    // A store fault after the POST leaves the lease to expire, so the attempt is made again (receivers
    // deduplicate on webhook-id); retrying here would find the lease already taken and do nothing.
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookDeliveryConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // An attempt mostly waits on the receiver. The same slots on both transports (the in-memory bus would
        // give 16), and well above one account's share (Hub:Webhooks:MaxConcurrentPerTenant), so a stalled
        // account leaves the others room.
        endpointConfigurator.ConcurrentMessageLimit = HubTransport.ConcurrentMessageLimit;
        endpointConfigurator.UseStoreRetry();
    }
}
