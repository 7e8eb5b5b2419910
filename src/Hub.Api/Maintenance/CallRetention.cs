using Dapper;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Maintenance;

/// <summary>
/// Enforces each account's <c>call_retention_days</c> (its own config, else the global one; unset keeps
/// calls forever): calls that started before the cutoff are deleted with their events and screen-pops,
/// a batch of calls per transaction, so the store is never held for long and other accounts are untouched.
/// </summary>
internal sealed class CallRetention(HubDatabase database, TenantConfigReader configs, TimeProvider clock, ILogger<CallRetention> logger)
    : PeriodicJob(clock, logger)
{
    protected override TimeSpan Interval { get; } = TimeSpan.FromHours(1);

    internal int BatchSize { get; init; } = 5000;

    protected override Task RunAsync(CancellationToken cancellationToken) => ApplyAsync(cancellationToken);

    /// <summary>Deletes every account's expired calls; returns how many calls it deleted.</summary>
    internal async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        List<string> tenants;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            tenants = (await connection.QueryAsync<string>(new CommandDefinition("SELECT id FROM tenants", cancellationToken: cancellationToken))).ToList();
        }

        var total = 0;
        foreach (var tenantId in tenants)
        {
            var config = await configs.ReadAsync(tenantId, cancellationToken);
            if (config.Config.CallRetentionDays is { } days and > 0)
            {
                total += await DeleteBeforeAsync(tenantId, Time.GetUtcNow().AddDays(-days).ToUnixTimeMilliseconds(), cancellationToken);
            }
        }

        return total;
    }

    private async Task<int> DeleteBeforeAsync(string tenantId, long cutoff, CancellationToken cancellationToken)
    {
        // The three statements select the same batch (same order, same limit, one transaction), so a
        // call is never left without its events or the other way round.
        const string Batch =
            "SELECT call_id FROM calls WHERE tenant_id = @tenantId AND started_at < @cutoff ORDER BY started_at, call_id LIMIT @BatchSize";
        int deleted, total = 0;
        do
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var args = new { tenantId, cutoff, BatchSize };
            foreach (var table in (string[])["call_events", "screen_pops"])
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {table} WHERE tenant_id = @tenantId AND call_id IN ({Batch})", args, transaction, cancellationToken: cancellationToken));
            }

            deleted = await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM calls WHERE tenant_id = @tenantId AND call_id IN ({Batch})", args, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);

        if (total > 0)
        {
            Logger.LogInformation("Deleted {Count} calls of account {TenantId} past its retention", total, tenantId);
        }

        return total;
    }
}
