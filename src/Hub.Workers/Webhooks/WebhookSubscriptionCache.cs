using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Hub.Store;

namespace Hub.Workers.Webhooks;

/// <summary>An enabled subscription as fan-out needs it.</summary>
public sealed record ActiveWebhook(string Id, IReadOnlyList<string> Events)
{
    public const string AllEvents = "*";

    public bool Matches(string type) => Events.Any(e => e == AllEvents || e == type);
}

/// <summary>
/// Each tenant's enabled webhook subscriptions, read at most every few seconds: fan-out runs for every
/// webphone event, and a tenant without webhooks should cost no query. The node that changes a
/// subscription calls <see cref="Forget"/>; other processes see the change within the cache lifetime.
/// </summary>
public sealed class WebhookSubscriptionCache(HubDatabase database, TimeProvider clock)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (IReadOnlyList<ActiveWebhook> Webhooks, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<IReadOnlyList<ActiveWebhook>> EnabledForAsync(string tenantId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(tenantId, out var cached) && now - cached.ReadAt < CacheLifetime)
        {
            return cached.Webhooks;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string Events)>(new CommandDefinition(
            "SELECT id, events FROM webhook_subscriptions WHERE tenant_id = @tenantId AND enabled = 1",
            new { tenantId }, cancellationToken: cancellationToken));
        IReadOnlyList<ActiveWebhook> webhooks = rows.Select(row => new ActiveWebhook(row.Id, JsonSerializer.Deserialize<string[]>(row.Events) ?? [])).ToList();
        _cache[tenantId] = (webhooks, now);
        return webhooks;
    }

    public void Forget() => _cache.Clear();
}
