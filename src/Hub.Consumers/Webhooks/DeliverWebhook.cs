namespace Hub.Consumers.Webhooks;

/// <summary>
/// One attempt at one delivery, published by <see cref="WebhookDispatcher"/>. The token is the
/// dispatcher's lease: a duplicate or stale message finds another token and does nothing. Internal to
/// the hub (not a Hub.Contracts message), but still on the bus so any worker may take the attempt.
/// </summary>
public sealed record DeliverWebhook(string DeliveryId, string ClaimToken);
