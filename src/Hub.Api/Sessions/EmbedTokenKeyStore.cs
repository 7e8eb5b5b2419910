using System.Security.Cryptography;
using Dapper;
using Hub.Store;
using Microsoft.AspNetCore.DataProtection;

namespace Hub.Api.Sessions;

/// <summary>One of the hub's embed-token keys, decrypted.</summary>
/// <param name="SupersededAt">When the next newer key was created; null while this one is the newest.</param>
public sealed record EmbedTokenKey(string Id, byte[] Secret, DateTimeOffset CreatedAt, DateTimeOffset? SupersededAt)
{
    /// <summary>The JWT <c>kid</c> of the tokens this key signs.</summary>
    public string KeyId => HubSigningKey.KeyIdPrefix + Id;
}

/// <summary>
/// The hub's embed-token keys in the store (table <c>hub_embed_token_keys</c>), encrypted with Data
/// Protection over the store's key ring so every Api node can decrypt them. The newest (by
/// <c>created_at</c>, then id) signs; nodes that create one at the same moment simply leave two.
/// </summary>
public sealed class EmbedTokenKeyStore(HubDatabase database, IDataProtectionProvider dataProtection, TimeProvider clock)
{
    public const string ProtectorPurpose = "Hub.EmbedTokenKeys.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectorPurpose);

    public async Task<EmbedTokenKey> CreateAsync(CancellationToken cancellationToken)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = RandomNumberGenerator.GetBytes(32);
        var createdAt = Clock.FromMs(clock.NowMs());

        // Encrypted before a connection is opened: loading the key ring may need the store itself.
        var secretProtected = ProtectorFor(id).Protect(Convert.ToBase64String(secret));
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO hub_embed_token_keys (id, secret_protected, created_at) VALUES (@id, @secretProtected, @createdAt)",
            new { id, secretProtected, createdAt = createdAt.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return new EmbedTokenKey(id, secret, createdAt, SupersededAt: null);
    }

    /// <summary>The key that signs now; null before the first one is made.</summary>
    public async Task<EmbedTokenKey?> NewestAsync(CancellationToken cancellationToken)
    {
        (string? Id, string SecretProtected, long CreatedAt) row;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            row = await connection.QuerySingleOrDefaultAsync<(string?, string, long)>(new CommandDefinition(
                "SELECT id, secret_protected, created_at FROM hub_embed_token_keys ORDER BY created_at DESC, id DESC LIMIT 1",
                cancellationToken: cancellationToken));
        }

        return row.Id is null ? null : Decrypt(new Row(row.Id, row.SecretProtected, row.CreatedAt, SupersededAt: null));
    }

    /// <summary>The key with this id (as in its kid after <c>hub-</c>), with when it was superseded; null when there is none.</summary>
    public async Task<EmbedTokenKey?> FindAsync(string id, CancellationToken cancellationToken)
    {
        (string? Id, string SecretProtected, long CreatedAt, long? SupersededAt) row;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            row = await connection.QuerySingleOrDefaultAsync<(string?, string, long, long?)>(new CommandDefinition(
                """
                SELECT k.id, k.secret_protected, k.created_at,
                       (SELECT min(n.created_at) FROM hub_embed_token_keys n
                        WHERE n.created_at > k.created_at OR (n.created_at = k.created_at AND n.id > k.id)) AS superseded_at
                FROM hub_embed_token_keys k WHERE k.id = @id
                """, new { id }, cancellationToken: cancellationToken));
        }

        // Decrypted only after the connection is back (see CreateAsync).
        return row.Id is null ? null : Decrypt(new Row(row.Id, row.SecretProtected, row.CreatedAt, row.SupersededAt));
    }

    /// <summary>Deletes the keys superseded before <paramref name="cutoff"/>: nothing they signed is still accepted.</summary>
    public async Task<int> DeleteSupersededBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM hub_embed_token_keys
            WHERE EXISTS (SELECT 1 FROM hub_embed_token_keys n
                          WHERE n.created_at < @cutoff
                            AND (n.created_at > hub_embed_token_keys.created_at
                                 OR (n.created_at = hub_embed_token_keys.created_at AND n.id > hub_embed_token_keys.id)))
            """, new { cutoff = cutoff.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
    }

    private EmbedTokenKey Decrypt(Row row)
    {
        string secret;
        try
        {
            secret = ProtectorFor(row.Id).Unprotect(row.SecretProtected);
        }
        catch (CryptographicException exception)
        {
            // Not the token's fault: the ring lost a key, or the row was altered. A 500, logged.
            throw new InvalidOperationException(
                $"Embed token key {row.Id} cannot be decrypted; is the Data Protection key ring (table data_protection_keys) intact?", exception);
        }

        return new EmbedTokenKey(row.Id, Convert.FromBase64String(secret), Clock.FromMs(row.CreatedAt), Clock.FromMs(row.SupersededAt));
    }

    // Bound to the key id, so a ciphertext copied into another row decrypts nowhere.
    private IDataProtector ProtectorFor(string id) => _protector.CreateProtector(id);

    private sealed record Row(string Id, string SecretProtected, long CreatedAt, long? SupersededAt);
}
