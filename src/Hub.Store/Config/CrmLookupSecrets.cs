using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Hub.Store.Config;

/// <summary>
/// Encrypts an account's <c>crm_lookup.secret</c> for <c>tenant_config.crm_lookup_secret</c> with the
/// deployment's Data Protection key ring, so reading the table does not give away the secret that signs
/// the hub's requests to that CRM.
/// </summary>
/// <remarks>
/// The tenant id is part of the purpose: a value copied into another account's row does not decrypt
/// there, so it cannot lend one CRM's secret to another's lookups. As everywhere Data Protection is
/// used here, call these with no store connection open (the key ring may have to be read).
/// </remarks>
public sealed class CrmLookupSecrets(IDataProtectionProvider provider)
{
    private const string Purpose = "Hub.CrmLookupSecret.v1";

    public string Protect(string tenantId, string secret) => provider.CreateProtector(Purpose, tenantId).Protect(secret);

    /// <summary>The secret, or null when it cannot be decrypted (a key ring or certificate that is not this deployment's).</summary>
    public string? TryUnprotect(string tenantId, string protectedSecret)
    {
        try
        {
            return provider.CreateProtector(Purpose, tenantId).Unprotect(protectedSecret);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
