using System.Collections.Concurrent;
using Hub.Api.Infrastructure;
using Hub.Api.Tenants;
using Hub.Store.Config;

namespace Hub.Api.Pages;

/// <summary>
/// The <c>frame-ancestors</c> of <c>/dashboard</c> per account its URL names, read from the store at most
/// once per <see cref="Lifetime"/> per account, as <see cref="CrmOrigins"/> caches the CORS lists (and
/// again on this node after a config change). The URL is unauthenticated, so an unknown id is cached too
/// (it gets the global policy), and the cache is bounded: a flood of made-up ids empties it rather than
/// growing it.
/// </summary>
internal sealed class DashboardFramePolicies(TenantConfigReader configs, TenantBootstrap bootstrap, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    public const int MaxAccounts = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _policies = new(StringComparer.Ordinal);

    /// <summary>The policy of the account <paramref name="accountId"/> names, or the global one when it names none.</summary>
    public async ValueTask<string> PolicyAsync(string? accountId, CancellationToken cancellationToken)
    {
        var key = Ids.IsTenantId(accountId) ? accountId! : bootstrap.MasterTenantId;
        var now = clock.GetUtcNow();
        var generation = configs.Generation;
        if (_policies.TryGetValue(key, out var cached) && cached.Generation == generation && now - cached.ReadAt < Lifetime)
        {
            return cached.Policy;
        }

        // An unknown account reads as one without an override: the global configuration.
        var policy = FrameAncestors.Policy((await configs.ReadAsync(key, cancellationToken)).Config);
        if (_policies.Count >= MaxAccounts)
        {
            _policies.Clear();
        }

        _policies[key] = new Entry(policy, now, generation);
        return policy;
    }

    private sealed record Entry(string Policy, DateTimeOffset ReadAt, long Generation);
}
