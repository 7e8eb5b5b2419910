using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Store.Config;

/// <summary>
/// Reads an account's effective config the way the fonoUC Portal does: the account's own override when
/// it has one, otherwise the global document (kept under the master tenant).
/// </summary>
public sealed class TenantConfigReader(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock, CrmLookupSecrets secrets,
    ILogger<TenantConfigReader> logger)
{
    // Hot paths (every call event, every screen-pop) read config; a change reaches them within this time.
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (EffectiveConfig Config, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public async Task<EffectiveConfig> ReadAsync(string tenantId, CancellationToken cancellationToken)
    {
        List<ConfigRow> rows;
        bool isMaster;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            rows = (await connection.QueryAsync<ConfigRow>(new CommandDefinition(
                """
                SELECT c.tenant_id, c.document, c.crm_lookup_secret, t.is_master
                FROM tenant_config c JOIN tenants t ON t.id = c.tenant_id
                WHERE c.tenant_id = @tenantId OR t.is_master = 1
                """, new { tenantId }, cancellationToken: cancellationToken))).ToList();
            var ownRow = rows.FirstOrDefault(row => row.TenantId == tenantId);
            isMaster = ownRow is not null ? ownRow.IsMaster == 1 : await IsMasterAsync(connection, tenantId, cancellationToken);
        }

        // Decrypted only now: Data Protection may read its key ring from the store, which needs a connection.
        var own = rows.FirstOrDefault(row => row.TenantId == tenantId);
        var global = rows.FirstOrDefault(row => row.IsMaster == 1);
        if (isMaster)
        {
            return new EffectiveConfig(Parse(own), "global", false);
        }

        return own is not null
            ? new EffectiveConfig(Parse(own), "account", false)
            : new EffectiveConfig(Parse(global), "account", true);
    }

    private sealed record ConfigRow
    {
        public string TenantId { get; init; } = "";
        public string Document { get; init; } = "{}";
        public string? CrmLookupSecret { get; init; }
        public long IsMaster { get; init; }
    }

    /// <summary>As <see cref="ReadAsync"/>, but may be up to a few seconds old: for consumers, not for the config API.</summary>
    public async ValueTask<EffectiveConfig> ReadCachedAsync(string tenantId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(tenantId, out var cached) && now - cached.ReadAt < CacheLifetime)
        {
            return cached.Config;
        }

        var config = await ReadAsync(tenantId, cancellationToken);
        _cache[tenantId] = (config, now);
        return config;
    }

    /// <summary>Drops this node's cached configs after a change; other nodes pick it up within the cache lifetime.</summary>
    public void Forget()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
    }

    private long _generation;

    /// <summary>Grows on every <see cref="Forget"/>: lets other caches of config-derived data know they are stale.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The default country of this account's national-form numbers: a calling code or a region code (<see cref="Phones.DefaultCountry"/>).</summary>
    /// <remarks>
    /// A value the config no longer accepts (a non-geographic code such as "800", valid before libphonenumber read the
    /// numbers) falls back to the global default: every number of the account would otherwise fail to normalise.
    /// </remarks>
    public string CountryCodeOf(TenantConfig config) =>
        Phones.DefaultCountry.IsValid(config.DefaultCountryCode) ? config.DefaultCountryCode! : options.Value.DefaultCountryCode;

    private static async Task<bool> IsMasterAsync(System.Data.Common.DbConnection connection, string tenantId, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM tenants WHERE id = @tenantId AND is_master = 1", new { tenantId }, cancellationToken: cancellationToken)) > 0;

    private TenantConfig Parse(ConfigRow? row)
    {
        var config = row is null ? new TenantConfig() : JsonSerializer.Deserialize<TenantConfig>(row.Document, Json) ?? new TenantConfig();
        if (row?.CrmLookupSecret is not { } protectedSecret || config.CrmLookup is not { } lookup)
        {
            // A secret still inside the document predates encryption; CrmLookupSecretUpgrade moves it at start.
            return config;
        }

        if (secrets.TryUnprotect(row.TenantId, protectedSecret) is { } secret)
        {
            return config with { CrmLookup = lookup with { Secret = secret } };
        }

        // Never call the CRM unsigned, or with a secret that is not the one it holds: no lookups until it is set again.
        logger.LogError("crm_lookup.secret of account {TenantId} cannot be decrypted with this deployment's key ring; " +
            "CRM lookups for it are off until the secret is written again (PUT /api/v1/config)", row.TenantId);
        return config with { CrmLookup = null };
    }
}
