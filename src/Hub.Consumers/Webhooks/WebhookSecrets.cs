using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Webhook signing secrets: <c>whsec_</c> and the base64 of 32 random bytes, as Standard Webhooks
/// libraries expect. Stored encrypted with Data Protection over the store's key ring, so the Api node
/// that created one and any worker that signs with it share the keys.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider dataProtection)
{
    private const string ProtectorPurpose = "Hub.Webhooks.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectorPurpose);

    public static string NewSecret() => WebhookSignature.SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    // Bound to its tenant and subscription, so a ciphertext copied into another row decrypts nowhere.
    public string Protect(string tenantId, string subscriptionId, string secret) =>
        _protector.CreateProtector($"{tenantId}/{subscriptionId}").Protect(secret);

    /// <summary>Call without holding a store connection: loading the key ring may need one.</summary>
    public string Unprotect(string tenantId, string subscriptionId, string secretProtected) =>
        _protector.CreateProtector($"{tenantId}/{subscriptionId}").Unprotect(secretProtected);
}
