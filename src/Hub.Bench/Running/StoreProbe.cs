using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Hub.Bench.Running;

/// <summary>
/// Reads what the workers persisted, straight from the store (PostgreSQL, or the embedded node's SQLite file
/// opened read-only): counting rows is how the bench proves zero loss.
/// </summary>
public sealed class StoreProbe(Func<DbConnection> open)
{
    public static StoreProbe Postgres(string connectionString) => new(() => new NpgsqlConnection(connectionString));

    public static StoreProbe Sqlite(string path)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 30 }.ToString();
        return new StoreProbe(() => new SqliteConnection(connectionString));
    }

    public async Task<long> CountEventsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = open();
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM call_events WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken: cancellationToken));
    }

    /// <summary>What each consumer has written for the tenant: call-log events, event-stream entries, screen-pops.</summary>
    public async Task<ConsumerCounts> CountsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = open();
        return await connection.QuerySingleAsync<ConsumerCounts>(new CommandDefinition(
            """
            SELECT (SELECT count(*) FROM call_events WHERE tenant_id = @tenantId) AS CallEvents,
                   (SELECT count(*) FROM event_stream WHERE tenant_id = @tenantId) AS StreamEvents,
                   (SELECT count(*) FROM screen_pops WHERE tenant_id = @tenantId) AS ScreenPops
            """, new { tenantId }, cancellationToken: cancellationToken));
    }

    /// <summary>Waits until every consumer caught up with the tenant's events (false when nothing moved for <paramref name="stall"/>).</summary>
    public async Task<bool> WaitForConsumersAsync(string tenantId, long events, long calls, TimeSpan stall, CancellationToken cancellationToken)
    {
        var last = await CountsAsync(tenantId, cancellationToken);
        var lastProgress = System.Diagnostics.Stopwatch.StartNew();
        while (last.CallEvents < events || last.StreamEvents < events || last.ScreenPops < calls)
        {
            if (lastProgress.Elapsed > stall)
            {
                return false;
            }

            await Task.Delay(200, cancellationToken);
            var now = await CountsAsync(tenantId, cancellationToken);
            if (now != last)
            {
                lastProgress.Restart();
                last = now;
            }
        }

        return true;
    }

    public async Task<HashSet<string>> EventIdsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = open();
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT event_id FROM call_events WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken: cancellationToken));
        return ids.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Calls of the tenant, and how many converged to what their three events say (answered, billsec).</summary>
    public async Task<(long Calls, long Complete)> CallsAsync(string tenantId, int billsec, CancellationToken cancellationToken)
    {
        await using var connection = open();
        return await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            """
            SELECT count(*), coalesce(sum(CASE WHEN status = 'answered' AND billsec = @billsec AND answered_at IS NOT NULL AND ended_at IS NOT NULL THEN 1 ELSE 0 END), 0)
            FROM calls WHERE tenant_id = @tenantId
            """,
            new { tenantId, billsec }, cancellationToken: cancellationToken));
    }
}

public sealed record ConsumerCounts(long CallEvents, long StreamEvents, long ScreenPops);
