using System.Data.Common;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Ingest;

/// <summary>
/// Which event ids are new: a group of relay events claims its ids by inserting them in a transaction that stays
/// open until the broker confirmed their publishes (<see cref="EventIdClaim"/>). An id already there, or claimed by
/// a concurrent group (another Api node too, which waits on the uncommitted row and then finds it), is not new.
/// While the database cannot be reached every id counts as new and none is remembered (API.md: the store is not
/// needed to accept an event while the broker is up); a resend is then accepted again, and still has one effect.
/// </summary>
public sealed class EventIdClaims(HubDatabase database, StoreMetrics storeMetrics, ILogger<EventIdClaims> logger)
{
    private const int MaxRowsPerInsert = 500;

    public async Task<EventIdClaim> ClaimAsync(IReadOnlyList<(string TenantId, Guid EventId)> ids, long receivedAt)
    {
        DbConnection? connection = null;
        DbTransaction? transaction = null;
        try
        {
            connection = await database.OpenAsync(CancellationToken.None);
            transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            return new EventIdClaim(this, connection, transaction, await InsertAsync(connection, transaction, ids, receivedAt));
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            storeMetrics.Error(exception);
            logger.LogWarning("The database is unavailable ({Error}); publishing {Count} events without remembering their ids",
                exception.Message, ids.Count);
            await DisposeQuietlyAsync(transaction, connection);
            return new EventIdClaim(this, null, null, [.. ids]);
        }
        catch
        {
            await DisposeQuietlyAsync(transaction, connection);
            throw;
        }
    }

    /// <summary>Inserts the ids inside the transaction and returns those that were new.</summary>
    private async Task<HashSet<(string TenantId, Guid EventId)>> InsertAsync(DbConnection connection, DbTransaction transaction,
        IReadOnlyList<(string TenantId, Guid EventId)> ids, long receivedAt)
    {
        var claimed = new HashSet<(string TenantId, Guid EventId)>();
        foreach (var chunk in ids.Chunk(MaxRowsPerInsert))
        {
            var (values, parameters) = SqlRows.Of(database.Dialect, chunk, ["text", "text", "bigint"], row => [row.TenantId, row.EventId.ToString(), receivedAt]);
            var inserted = await connection.QueryAsync<(string TenantId, string EventId)>(new CommandDefinition(
                $"INSERT INTO ingested_events (tenant_id, event_id, received_at) {values} ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING tenant_id, event_id",
                parameters, transaction));
            claimed.UnionWith(inserted.Select(row => (row.TenantId, Guid.Parse(row.EventId))));
        }

        return claimed;
    }

    /// <summary>
    /// Forgets the ids whose publish failed and commits. The published events are on the bus whatever happens here,
    /// so a database lost now is no reason to withhold their acks: their ids are just not remembered.
    /// </summary>
    private async Task CommitAsync(DbConnection connection, DbTransaction transaction, IEnumerable<(string TenantId, Guid EventId)> forget)
    {
        try
        {
            foreach (var tenant in forget.GroupBy(id => id.TenantId))
            {
                var ids = tenant.Select(id => id.EventId.ToString()).ToList();
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM ingested_events WHERE tenant_id = @TenantId AND event_id {database.InList("ids")}",
                    new { TenantId = tenant.Key, ids }, transaction));
            }

            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            storeMetrics.Error(exception);
            logger.LogWarning("The database became unavailable before a group's ids were committed ({Error}); they are not remembered",
                exception.Message);
        }
    }

    private static async Task DisposeQuietlyAsync(DbTransaction? transaction, DbConnection? connection)
    {
        try
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            // A broken connection's rollback cannot reach the server either; the server drops the transaction itself.
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>A group's new ids, and the open transaction that keeps them (none while the database is unavailable).</summary>
    public sealed class EventIdClaim(EventIdClaims owner, DbConnection? connection, DbTransaction? transaction,
        HashSet<(string TenantId, Guid EventId)> claimed) : IAsyncDisposable
    {
        public HashSet<(string TenantId, Guid EventId)> Claimed { get; } = claimed;

        /// <summary>Remembers the claimed ids but <paramref name="forget"/> (those whose publish failed): their resend is accepted again.</summary>
        public Task CommitAsync(IEnumerable<(string TenantId, Guid EventId)> forget) =>
            connection is null || transaction is null ? Task.CompletedTask : owner.CommitAsync(connection, transaction, forget);

        public ValueTask DisposeAsync() => new(DisposeQuietlyAsync(transaction, connection));
    }
}
