using System.Data.Common;
using Dapper;
using Hub.Store.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hub.Store.Phones;

/// <summary>
/// Re-normalises, with libphonenumber, the numbers stored by the hand-written normaliser it replaced: every contact's
/// <c>contact_phones</c> rows (from the phones as the CRM wrote them) and every call's <c>remote_number</c> (from
/// the number its start event gave). Runs once per store, after migration 013, in the background while the hub
/// serves; <c>data_upgrades</c> records that it finished.
/// </summary>
/// <remarks>
/// Live-database safety: rows are read in keyset-paginated batches (<see cref="BatchSize"/>) and each batch is
/// written in one short transaction whose updates only apply where the row is still what was read, so a contact
/// or call written meanwhile (already by the new code) is left as it is. Run again, it changes nothing. On
/// PostgreSQL one process at a time does it (an advisory lock the others do not wait for); erased calls keep
/// <c>"erased"</c>.
/// </remarks>
public sealed partial class PhoneNumberUpgrade(HubDatabase database, TenantConfigReader configs, TimeProvider clock,
    ILogger<PhoneNumberUpgrade> logger)
{
    public const string Name = "013_phone_numbers_libphonenumber";

    // Any constant works; it only has to be the same in every process of one deployment and differ from the Migrator's.
    private const long PostgresLockKey = 0x48756250686f6e; // "HubPhon"

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Rows per read and per write transaction.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Completes when the run at start has ended, done or not (tests wait for it before touching the same rows).</summary>
    public Task StartupRun => _started.Task;

    /// <summary>Re-normalises unless a finished run is recorded (or, on PostgreSQL, another process is at it). True when this call did it.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (await IsDoneAsync(cancellationToken))
        {
            return false;
        }

        // SQLite is one process taking turns at one connection: holding a second one here would wait for itself.
        await using var lockConnection = database.Dialect == SqlDialect.Postgres ? await database.OpenAsync(cancellationToken) : null;
        if (lockConnection is not null && !await lockConnection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken)))
        {
            logger.LogInformation("Another process is re-normalising stored phone numbers");
            return false;
        }

        try
        {
            if (await IsDoneAsync(cancellationToken))
            {
                return false;
            }

            var (contacts, calls) = await ReNormaliseAsync(cancellationToken);
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO data_upgrades (name, completed_at) VALUES (@Name, @now) ON CONFLICT (name) DO NOTHING",
                new { Name, now = clock.NowMs() }, cancellationToken: cancellationToken));
            logger.LogInformation("Re-normalised stored phone numbers with libphonenumber: {Contacts} contact(s) and {Calls} call(s) changed",
                contacts, calls);
            return true;
        }
        finally
        {
            if (lockConnection is not null)
            {
                await lockConnection.ExecuteAsync(new CommandDefinition(
                    "SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey }, cancellationToken: CancellationToken.None));
            }
        }
    }

    /// <summary>One pass over contacts and calls, whether or not one was recorded; returns how many of each it changed.</summary>
    public async Task<(int Contacts, int Calls)> ReNormaliseAsync(CancellationToken cancellationToken)
    {
        var countries = new Dictionary<string, string>(StringComparer.Ordinal);
        var contacts = await ReNormaliseContactsAsync(countries, cancellationToken);
        var calls = await ReNormaliseCallsAsync(countries, cancellationToken);
        return (contacts, calls);
    }

    internal async Task RunAtStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunOnceAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Not worth stopping the hub for: numbers stored before keep matching as they did, and the next start tries again.
            logger.LogError(exception, "Re-normalising stored phone numbers failed; the next start tries again");
        }
        finally
        {
            _started.TrySetResult();
        }
    }

    private async Task<bool> IsDoneAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM data_upgrades WHERE name = @Name", new { Name }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The account's default country, read before a batch's connection is opened (it may read the store).</summary>
    private async Task<string> CountryOfAsync(Dictionary<string, string> countries, string tenantId, CancellationToken cancellationToken)
    {
        if (!countries.TryGetValue(tenantId, out var country))
        {
            country = configs.CountryCodeOf((await configs.ReadCachedAsync(tenantId, cancellationToken)).Config);
            countries[tenantId] = country;
        }

        return country;
    }

    private async Task<List<T>> ReadBatchAsync<T>(string sql, object args, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<T>(new CommandDefinition(sql, args, cancellationToken: cancellationToken))).ToList();
    }

    private async Task<int> WriteBatchAsync(Func<DbConnection, DbTransaction, Task<int>> write, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await write(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return changed;
    }
}

/// <summary>Runs <see cref="PhoneNumberUpgrade"/> at start without holding the start up.</summary>
internal sealed class PhoneNumberUpgradeService(PhoneNumberUpgrade upgrade) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => upgrade.RunAtStartAsync(stoppingToken);
}
