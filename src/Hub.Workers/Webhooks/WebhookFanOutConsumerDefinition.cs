using System.Security.Cryptography;
using System.Text;
using Hub.Contracts;
using MassTransit;

namespace Hub.Workers.Webhooks;

public sealed class WebhookFanOutConsumerDefinition : ConsumerDefinition<WebhookFanOutConsumer>
{
    public WebhookFanOutConsumerDefinition() => EndpointName = "hub-webhooks";

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookFanOutConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Events of one call are fanned out one at a time, in the order this process received them, so a
        // later event cannot overtake an earlier one into the delivery queue (and out to the endpoint).
        endpointConfigurator.UsePartitioner<IWebphoneEvent>(endpointConfigurator.CreatePartitioner(16), message => PartitionKey(message.Message));
        endpointConfigurator.UseMessageRetry(retry => retry.UseStoreRetry());
    }

    private static Guid PartitionKey(IWebphoneEvent message) =>
        message.CallId is { Length: > 0 } callId ? new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(callId)).AsSpan(0, 16)) : message.EventId;
}
