using MassTransit;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// One attempt at one delivery, published by <see cref="WebhookDispatcher"/>. The token is the
/// dispatcher's lease: a duplicate or stale message finds another token and does nothing. Internal to
/// the hub (not a Hub.Contracts message), but still on the bus so any worker may take the attempt.
/// </summary>
/// <remarks>
/// Named as when it lived in Hub.Workers: the messages and exchange of a running deployment keep their name across the upgrade.
/// </remarks>
[MessageUrn("Hub.Workers.Webhooks:DeliverWebhook")]
public sealed record DeliverWebhook(string DeliveryId, string ClaimToken);
