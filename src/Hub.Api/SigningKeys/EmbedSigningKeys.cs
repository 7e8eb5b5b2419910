using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.AspNetCore.DataProtection;

namespace Hub.Api.SigningKeys;

public sealed record CreatedSigningKey(string Id, string Secret, DateTimeOffset CreatedAt);

public sealed record SigningKeyInfo(string Id, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>A signing key as the token validator needs it: its tenant, and the HS256 key bytes.</summary>
public sealed record EmbedSigningKey(string Id, string TenantId, byte[] HmacKey);

/// <summary>
/// The keys a tenant's CRM backend signs SSO tokens with (the JWT <c>kid</c> is the key's id). The
/// secret is shown once, at creation, and stored encrypted with ASP.NET Core Data Protection over the
/// key ring in the store (<c>Hub.Store.DataProtection.StoreXmlRepository</c>), so every Api node can decrypt it.
/// </summary>
public sealed partial class EmbedSigningKeys(HubDatabase database, IDataProtectionProvider dataProtection, TimeProvider clock)
{
    public const string IdPrefix = "sk_";
    public const string SecretPrefix = "hub_embed_";
    public const string ProtectorPurpose = "Hub.EmbedSigningKeys.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectorPurpose);

    public static bool IsKeyId(string? value) => value is not null && KeyIdPattern().IsMatch(value);

    /// <summary>
    /// The HS256 key is the secret exactly as shown, as UTF-8 (ASCII) bytes: what JWT libraries do
    /// with a string secret (<c>jwt.sign(claims, secret)</c>), so integrators pass it as it is.
    /// </summary>
    public static byte[] HmacKey(string secret) => Encoding.UTF8.GetBytes(secret);

    public async Task<CreatedSigningKey> CreateAsync(string tenantId, CancellationToken cancellationToken)
    {
        var id = IdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Ids.NewSecret(SecretPrefix);
        var createdAt = Clock.FromMs(clock.NowMs());

        // Encrypted before a connection is opened: loading the key ring may need the store itself.
        var secretProtected = ProtectorFor(tenantId, id).Protect(secret);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO embed_signing_keys (id, tenant_id, secret_protected, created_at)
            VALUES (@id, @tenantId, @secretProtected, @createdAt)
            """,
            new { id, tenantId, secretProtected, createdAt = createdAt.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return new CreatedSigningKey(id, secret, createdAt);
    }

    public async Task<IReadOnlyList<SigningKeyInfo>> ListAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, long CreatedAt, long? LastUsedAt)>(new CommandDefinition(
            "SELECT id, created_at, last_used_at FROM embed_signing_keys WHERE tenant_id = @tenantId ORDER BY created_at, id",
            new { tenantId }, cancellationToken: cancellationToken));
        return rows.Select(row => new SigningKeyInfo(row.Id, Clock.FromMs(row.CreatedAt), Clock.FromMs(row.LastUsedAt))).ToList();
    }

    /// <summary>Deletion is immediate: every token exchange looks its key up.</summary>
    public async Task<bool> DeleteAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM embed_signing_keys WHERE id = @id AND tenant_id = @tenantId",
            new { id, tenantId }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The key with this id, of whichever tenant; null when there is none.</summary>
    public async Task<EmbedSigningKey?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsKeyId(id))
        {
            return null;
        }

        (string TenantId, string SecretProtected) row;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            row = await connection.QuerySingleOrDefaultAsync<(string, string)>(new CommandDefinition(
                "SELECT tenant_id, secret_protected FROM embed_signing_keys WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        }

        if (row.TenantId is null)
        {
            return null;
        }

        // Decrypted only after the connection is back (see CreateAsync).
        string secret;
        try
        {
            secret = ProtectorFor(row.TenantId, id).Unprotect(row.SecretProtected);
        }
        catch (CryptographicException exception)
        {
            // Not the token's fault: the ring lost a key, or the row was altered. A 500, logged.
            throw new InvalidOperationException(
                $"Embed signing key {id} cannot be decrypted; is the Data Protection key ring (table data_protection_keys) intact?", exception);
        }

        return new EmbedSigningKey(id, row.TenantId, HmacKey(secret));
    }

    /// <summary>Records a use; false when the key was deleted meanwhile.</summary>
    public static async Task<bool> MarkUsedAsync(DbConnection connection, string id, long nowMs, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE embed_signing_keys SET last_used_at = @nowMs WHERE id = @id", new { id, nowMs }, cancellationToken: cancellationToken)) > 0;

    // The ciphertext is bound to its tenant and key id, so copying it into another row does not move a secret between tenants.
    private IDataProtector ProtectorFor(string tenantId, string id) => _protector.CreateProtector($"{tenantId}/{id}");

    [GeneratedRegex("^sk_[0-9a-f]{16}$")]
    private static partial Regex KeyIdPattern();
}
