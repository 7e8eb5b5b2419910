using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;

namespace Hub.Store.Config;

/// <summary>
/// Reads an account's effective config the way the fonoUC Portal does: the account's own override when
/// it has one, otherwise the global document (kept under the master tenant).
/// </summary>
public sealed class TenantConfigReader(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock)
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
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<ConfigRow>(new CommandDefinition(
            """
            SELECT c.tenant_id, c.document, t.is_master
            FROM tenant_config c JOIN tenants t ON t.id = c.tenant_id
            WHERE c.tenant_id = @tenantId OR t.is_master = 1
            """, new { tenantId }, cancellationToken: cancellationToken))).ToList();

        var own = rows.FirstOrDefault(row => row.TenantId == tenantId);
        var global = rows.FirstOrDefault(row => row.IsMaster == 1);
        var isMaster = own is not null ? own.IsMaster == 1 : await IsMasterAsync(connection, tenantId, cancellationToken);
        if (isMaster)
        {
            return new EffectiveConfig(Parse(own?.Document), "global", false);
        }

        return own is not null
            ? new EffectiveConfig(Parse(own.Document), "account", false)
            : new EffectiveConfig(Parse(global?.Document), "account", true);
    }

    private sealed record ConfigRow
    {
        public string TenantId { get; init; } = "";
        public string Document { get; init; } = "{}";
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

    /// <summary>The calling code for national-form numbers of this account.</summary>
    public string CountryCodeOf(TenantConfig config) =>
        string.IsNullOrWhiteSpace(config.DefaultCountryCode) ? options.Value.DefaultCountryCode : config.DefaultCountryCode;

    private static async Task<bool> IsMasterAsync(System.Data.Common.DbConnection connection, string tenantId, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM tenants WHERE id = @tenantId AND is_master = 1", new { tenantId }, cancellationToken: cancellationToken)) > 0;

    private static TenantConfig Parse(string? document) =>
        document is null ? new TenantConfig() : JsonSerializer.Deserialize<TenantConfig>(document, Json) ?? new TenantConfig();
}
