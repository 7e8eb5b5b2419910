using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Store;
using Hub.Store.Config;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Hub.Api.Infrastructure;

/// <summary>
/// The browser origins a CRM page may call the hub from: the hub-wide <c>Hub:CrmOrigins</c> and every
/// account's <c>crm_origins</c>. A preflight carries no credential, so CORS admits the union; the
/// credential's own account is then checked by <see cref="OriginEnforcement"/>. The union is read from
/// the store at most once per <see cref="Lifetime"/> (and again on this node after a config change).
/// </summary>
internal sealed class CrmOrigins(HubDatabase database, TenantConfigReader configs, IOptions<HubSettings> settings, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot? _snapshot;

    public bool IsHubWide(string origin) => settings.Value.CrmOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);

    /// <summary>The CORS policy: credentials with explicit origins, never <c>*</c>.</summary>
    public async ValueTask<CorsPolicy> PolicyAsync(CancellationToken cancellationToken) => (await SnapshotAsync(cancellationToken)).Policy;

    private async ValueTask<Snapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var current = _snapshot;
        if (IsFresh(current))
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            // Another request may have refreshed it while this one waited: one query per lifetime.
            current = _snapshot;
            if (IsFresh(current))
            {
                return current;
            }

            var readAt = clock.GetUtcNow();
            var generation = configs.Generation;
            var origins = new HashSet<string>(settings.Value.CrmOrigins, StringComparer.OrdinalIgnoreCase);
            await using (var connection = await database.OpenAsync(cancellationToken))
            {
                var documents = await connection.QueryAsync<string>(new CommandDefinition(
                    "SELECT document FROM tenant_config", cancellationToken: cancellationToken));
                foreach (var document in documents)
                {
                    var config = JsonSerializer.Deserialize<TenantConfig>(document, TenantConfigReader.Json);
                    origins.UnionWith(config?.CrmOrigins ?? []);
                }
            }

            var policy = new CorsPolicyBuilder();
            if (origins.Count > 0)
            {
                policy.WithOrigins([.. origins]);
            }

            current = new Snapshot(policy.AllowAnyHeader().AllowAnyMethod().AllowCredentials().Build(), readAt, generation);
            _snapshot = current;
            return current;
        }
        finally
        {
            _refresh.Release();
        }
    }

    // A config change on this node (TenantConfigReader.Forget) makes it stale at once; on other nodes within Lifetime.
    private bool IsFresh([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] Snapshot? snapshot) =>
        snapshot is not null && snapshot.Generation == configs.Generation && clock.GetUtcNow() - snapshot.ReadAt < Lifetime;

    private sealed record Snapshot(CorsPolicy Policy, DateTimeOffset ReadAt, long Generation);
}

/// <summary>Answers every CORS request with the policy of <see cref="CrmOrigins"/>.</summary>
internal sealed class CrmCorsPolicyProvider(CrmOrigins origins) : ICorsPolicyProvider
{
    public async Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName) =>
        await origins.PolicyAsync(context.RequestAborted);
}

/// <summary>
/// A request authenticated by a session or an API key that comes from a browser page of another origin
/// (an <c>Origin</c> header that is not the hub's own) must come from the hub-wide list or from the
/// credential's own account's <c>crm_origins</c> (the credential's tenant, not an <c>X-Account-ID</c>
/// working account); else 403 <c>origin_not_allowed</c>. This also refuses the agent hub's negotiate and
/// WebSocket requests. Same-origin pages (the demo) and servers (no <c>Origin</c>) are unaffected.
/// </summary>
internal static class OriginEnforcement
{
    public static WebApplication UseOriginEnforcement(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            string? origin = context.Request.Headers.Origin;
            if (!string.IsNullOrEmpty(origin)
                && context.User.Identity?.IsAuthenticated == true
                && !IsSameOrigin(context.Request, origin)
                && !await IsAllowedAsync(context, origin))
            {
                await HubProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "origin_not_allowed",
                    $"Origin {origin} is not in this account's crm_origins nor in the hub's Hub:CrmOrigins.");
                return;
            }

            await next(context);
        });
        return app;
    }

    private static bool IsSameOrigin(HttpRequest request, string origin) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);

    private static async ValueTask<bool> IsAllowedAsync(HttpContext context, string origin)
    {
        if (context.RequestServices.GetRequiredService<CrmOrigins>().IsHubWide(origin))
        {
            return true;
        }

        var configs = context.RequestServices.GetRequiredService<TenantConfigReader>();
        var config = await configs.ReadCachedAsync(context.User.Tenant(), context.RequestAborted);
        return config.Config.CrmOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
    }
}
