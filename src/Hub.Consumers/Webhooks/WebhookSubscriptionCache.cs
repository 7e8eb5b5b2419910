using System.Text.Json;
using Dapper;
using Hub.Store;

namespace Hub.Consumers.Webhooks;

/// <summary>An enabled subscription as fan-out needs it.</summary>
public sealed record ActiveWebhook(string Id, IReadOnlyList<string> Events)
{
    public const string AllEvents = "*";

    public bool Matches(string type) => Events.Any(e => e == AllEvents || e == type);
}

/// <summary>
/// The enabled webhook subscriptions of every tenant, read at most every few seconds in one query:
/// fan-out runs for every webphone event, and an account without webhooks should cost no query at all.
/// The node that changes a subscription calls <see cref="Forget"/>; other processes see the change
/// within the cache lifetime.
/// </summary>
public sealed class WebhookSubscriptionCache(HubDatabase database, TimeProvider clock)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot? _snapshot;
    private long _generation;

    public async ValueTask<IReadOnlyList<ActiveWebhook>> EnabledForAsync(string tenantId, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(cancellationToken);
        return snapshot.ByTenant.TryGetValue(tenantId, out var webhooks) ? webhooks : [];
    }

    /// <summary>A read that started before this call is not used after it.</summary>
    public void Forget() => Interlocked.Increment(ref _generation);

    private bool IsFresh(Snapshot? snapshot) =>
        snapshot is not null && snapshot.Generation == Interlocked.Read(ref _generation) && clock.GetUtcNow() - snapshot.ReadAt < CacheLifetime;

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        if (_snapshot is { } fresh && IsFresh(fresh))
        {
            return fresh;
        }

        // One reader refreshes; the events that arrive meanwhile wait for its answer rather than query too.
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } refreshed && IsFresh(refreshed))
            {
                return refreshed;
            }

            var generation = Interlocked.Read(ref _generation);
            var readAt = clock.GetUtcNow();
            List<(string Id, string TenantId, string Events)> rows;
            await using (var connection = await database.OpenAsync(cancellationToken))
            {
                rows = (await connection.QueryAsync<(string, string, string)>(new CommandDefinition(
                    "SELECT id, tenant_id, events FROM webhook_subscriptions WHERE enabled = 1", cancellationToken: cancellationToken))).ToList();
            }

            var snapshot = new Snapshot(rows
                .GroupBy(row => row.TenantId, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, IReadOnlyList<ActiveWebhook> (group) => group
                    .Select(row => new ActiveWebhook(row.Id, JsonSerializer.Deserialize<string[]>(row.Events) ?? []))
                    .ToList(), StringComparer.Ordinal), readAt, generation);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private sealed record Snapshot(Dictionary<string, IReadOnlyList<ActiveWebhook>> ByTenant, DateTimeOffset ReadAt, long Generation);
}
