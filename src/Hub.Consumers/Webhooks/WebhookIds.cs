using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Hub.Consumers.Webhooks;

public static partial class WebhookIds
{
    /// <summary><c>wh_</c> and 16 hex characters.</summary>
    public static string NewSubscriptionId() => "wh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// <c>msg_</c> and a time-ordered UUID: also the <c>webhook-id</c> header, the same on every attempt,
    /// which receivers deduplicate on.
    /// </summary>
    public static string NewDeliveryId() => "msg_" + Guid.CreateVersion7().ToString("N");

    public static bool IsSubscriptionId(string? value) => value is not null && SubscriptionIdPattern().IsMatch(value);

    public static bool IsDeliveryId(string? value) => value is not null && DeliveryIdPattern().IsMatch(value);

    [GeneratedRegex("^wh_[0-9a-f]{16}$")]
    private static partial Regex SubscriptionIdPattern();

    [GeneratedRegex("^msg_[0-9a-f]{32}$")]
    private static partial Regex DeliveryIdPattern();
}
