namespace Hub.Api.Webhooks;

public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string>? Events);

public sealed record WebhookResponse(
    string Id, string Url, IReadOnlyList<string> Events, bool Enabled, string? DisabledReason, DateTimeOffset? DisabledAt, DateTimeOffset CreatedAt);

/// <summary>The answer to creation: the only time the secret is shown.</summary>
public sealed record CreatedWebhookResponse(string Id, string Url, IReadOnlyList<string> Events, bool Enabled, string Secret, DateTimeOffset CreatedAt);

public sealed record WebhookAttemptResponse(
    long Attempt, DateTimeOffset At, string Status, long DurationMs, int? ResponseCode, string? ResponseBody, string? Error);

/// <summary>One event for one endpoint; <c>id</c> is its <c>webhook-id</c> header. <c>attempts</c> is the log, oldest first.</summary>
public sealed record WebhookDeliveryResponse(
    string Id, string EventId, string EventType, string? CallId, string Status, long AttemptCount, DateTimeOffset? NextAttemptAt,
    int? LastResponseCode, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, IReadOnlyList<WebhookAttemptResponse> Attempts);

public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDeliveryResponse> Items, string? NextCursor);

public sealed record RedeliveryResponse(string DeliveryId, string Status);
