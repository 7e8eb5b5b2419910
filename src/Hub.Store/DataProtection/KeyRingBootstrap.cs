using Dapper;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Store.DataProtection;

/// <summary>
/// Gives the shared Data Protection key ring an active key before anything in this process uses Data
/// Protection, creating it under a store-wide lock.
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
    ILogger<KeyRingBootstrap> logger) : IHostedService
{
    // Any constant works; it only has to be the same in every process of one deployment.
    private const long PostgresLockKey = 0x487562445052; // "HubDPR"

    // The embedded SQLite store belongs to one process; this serialises the hosts of that process.
    private static readonly SemaphoreSlim SqliteLock = new(1, 1);

    public Task StartAsync(CancellationToken cancellationToken) => EnsureActiveKeyAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal async Task EnsureActiveKeyAsync(CancellationToken cancellationToken)
    {
        if (database.Dialect == SqlDialect.Postgres)
        {
            // The lock is held on its own connection; the key manager reads and writes through others.
            await using var lockConnection = await database.OpenAsync(cancellationToken);
            await lockConnection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken));
            try
            {
                EnsureActiveKey();
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
                EnsureActiveKey();
            }
            finally
            {
                SqliteLock.Release();
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
