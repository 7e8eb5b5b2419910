using Dapper;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Store.DataProtection;

/// <summary>
/// Readies the shared Data Protection key ring before anything in this process uses Data Protection, under a
/// store-wide lock: refuses to start when a stored key does not decrypt with this process's certificates,
/// encrypts keys stored in plain XML by earlier versions, and creates the first active key.
/// </summary>
/// <remarks>
/// Without it, processes (Api nodes, workers) starting together on an empty ring would each create their own first key
/// (activated at once) and, until Data Protection's daily refresh of its cached ring, fail to decrypt
/// secrets another node encrypted. Later keys need no help: Data Protection creates them well before
/// they activate, and every process has read them by then. Registered before <c>AddDataProtection</c>,
/// so it starts before Data Protection's own hosted service preloads the ring (and, finding none,
/// would create a key without the lock); migrations start earlier still.
/// </remarks>
internal sealed class KeyRingBootstrap(HubDatabase database, IKeyManager keyManager, IOptions<KeyManagementOptions> options,
    KeyRingCertificates certificates, PlaintextKeyProtection plaintextKeys, ILogger<KeyRingBootstrap> logger) : IHostedService
{
    // Any constant works; it only has to be the same in every process of one deployment.
    private const long PostgresLockKey = 0x487562445052; // "HubDPR"

    // The embedded SQLite store belongs to one process; this serialises the hosts of that process.
    private static readonly SemaphoreSlim SqliteLock = new(1, 1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (certificates.Created)
        {
            logger.LogWarning(
                "Created a new certificate {CertificatePath} that encrypts the Data Protection key ring; back it up, apart from the database backups: " +
                "without it no secret in the store (webhook, signing-key and CRM lookup secrets, the embed-token keys) can be decrypted",
                certificates.Path);
        }

        return UnderStoreLockAsync(PrepareKeyRingAsync, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task UnderStoreLockAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        if (database.Dialect == SqlDialect.Postgres)
        {
            // The lock is held on its own connection; the key manager reads and writes through others.
            await using var lockConnection = await database.OpenAsync(cancellationToken);
            await lockConnection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken));
            try
            {
                await work(cancellationToken);
            }
            finally
            {
                await lockConnection.ExecuteAsync(new CommandDefinition(
                    "SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey }, cancellationToken: CancellationToken.None));
            }
        }
        else
        {
            await SqliteLock.WaitAsync(cancellationToken);
            try
            {
                await work(cancellationToken);
            }
            finally
            {
                SqliteLock.Release();
            }
        }
    }

    private async Task PrepareKeyRingAsync(CancellationToken cancellationToken)
    {
        // First: a process with the wrong certificate must not encrypt the old plaintext keys with it.
        RefuseKeysThatDoNotDecrypt();
        var encrypted = await plaintextKeys.ProtectAsync(options.Value.XmlEncryptor!, cancellationToken);
        if (encrypted > 0)
        {
            logger.LogInformation("Encrypted {Count} Data Protection key ring elements stored in plain XML with the certificate {CertificatePath}",
                encrypted, certificates.Path);
        }

        EnsureActiveKey();
    }

    /// <summary>
    /// Data Protection itself only logs a key it cannot decrypt and goes on: it would create a key of its own,
    /// a second ring the other processes cannot read, and every secret protected before would fail to decrypt.
    /// </summary>
    private void RefuseKeysThatDoNotDecrypt()
    {
        foreach (var key in keyManager.GetAllKeys())
        {
            try
            {
                _ = key.Descriptor;
            }
            catch (Exception exception)
            {
                throw new InvalidOperationException(
                    $"The Data Protection key ring in the store holds key {key.KeyId} that this process cannot decrypt with its certificate " +
                    $"{certificates.Path} ({certificates.Current.Thumbprint}) nor with {KeyRingCertificates.PreviousSetting}. " +
                    $"Every process of a deployment (Api nodes and workers) needs the same certificate: set {KeyRingCertificates.CertificateSetting} " +
                    "(environment: Hub__DataProtection__Certificate) to the deployment's PFX file, the one the store's keys were protected with.",
                    exception);
            }
        }
    }

    private void EnsureActiveKey()
    {
        // Data Protection judges keys by the system clock, so this does too.
        var now = DateTimeOffset.UtcNow;
        if (keyManager.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now && key.ExpirationDate > now))
        {
            return;
        }

        var key = keyManager.CreateNewKey(now, now + options.Value.NewKeyLifetime);
        logger.LogInformation("Created Data Protection key {KeyId} in the store; it expires {ExpirationDate:O}", key.KeyId, key.ExpirationDate);
    }
}
