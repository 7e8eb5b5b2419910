using System.Security.Cryptography;
using System.Text;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Standard Webhooks signing (standardwebhooks.com), so a CRM verifies Hub's requests with the same code
/// whatever they are: <c>webhook-signature: v1,&lt;base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)&gt;</c>.
/// </summary>
/// <remarks>
/// The key is the base64 text after <c>whsec_</c> decoded to bytes, as the Standard Webhooks libraries
/// do; a secret without that prefix (or not valid base64 after it) is used as its UTF-8 bytes. A GET has
/// no body, so what is signed for a CRM lookup is <c>id + "." + timestamp + "."</c>.
/// </remarks>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    public const string SecretPrefix = "whsec_";

    /// <summary>The <c>webhook-signature</c> value: <c>v1,</c> and the base64 signature.</summary>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(secret), content));
    }

    public static byte[] KeyOf(string secret)
    {
        if (secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            var encoded = secret[SecretPrefix.Length..];
            var buffer = new byte[encoded.Length];
            if (Convert.TryFromBase64String(encoded, buffer, out var written) && written > 0)
            {
                return buffer[..written];
            }
        }

        return Encoding.UTF8.GetBytes(secret);
    }
}
