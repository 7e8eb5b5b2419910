using Hub.Consumers.Outbound;

namespace Hub.Consumers.Webhooks;

/// <summary>A webhook URL the hub refuses; <see cref="Code"/> is the problem+json code the API answers with.</summary>
public sealed class WebhookTargetException(string code, string detail) : Exception(detail)
{
    public string Code { get; } = code;
}

/// <summary>
/// Where webhooks may go: the shared outbound policy (<see cref="OutboundTargets"/>, checked again on
/// every connection by <see cref="WebhookHttp"/>), answered with the webhook API's codes.
/// </summary>
public static class WebhookTargets
{
    public const string InvalidUrl = "invalid_webhook_url";
    public const string Forbidden = "webhook_target_forbidden";

    /// <summary>
    /// The URL as it will be called, or a <see cref="WebhookTargetException"/>: <see cref="InvalidUrl"/> for
    /// its form, <see cref="Forbidden"/> with one message for every reason that depends on DNS.
    /// </summary>
    public static async Task<Uri> ValidateAsync(string? url, OutboundTargets targets, CancellationToken cancellationToken)
    {
        try
        {
            return await targets.ValidateAsync(url, cancellationToken);
        }
        catch (OutboundTargetException exception)
        {
            throw new WebhookTargetException(exception.Refusal == OutboundRefusal.Forbidden ? Forbidden : InvalidUrl, $"url {exception.Message}.");
        }
    }
}
