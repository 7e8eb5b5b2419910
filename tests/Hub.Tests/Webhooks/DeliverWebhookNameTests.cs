using Hub.Consumers.Webhooks;
using MassTransit;

namespace Hub.Tests.Webhooks;

/// <summary>A message's name is its address on the broker: moving the class to another project must not change it.</summary>
public sealed class DeliverWebhookNameTests
{
    [Fact]
    public void The_webhook_attempt_message_keeps_the_name_running_deployments_publish_and_bind()
    {
        Assert.Equal("urn:message:Hub.Workers.Webhooks:DeliverWebhook", MessageUrn.ForTypeString<DeliverWebhook>());
    }
}
