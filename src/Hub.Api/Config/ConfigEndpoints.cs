using System.Text.Json;
using Dapper;
using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Store.Config;
using Hub.Consumers.Outbound;

namespace Hub.Api.Config;

public sealed record ConfigResponse(TenantConfig Config, string Scope, bool Inherited);

/// <summary>
/// <c>/api/v1/config</c>, as the fonoUC Portal's embed config: one global document (written while the
/// working account is the master) and per-account overrides that replace it whole. GET says which one
/// is in force (<c>scope</c>) and whether the account inherits it (<c>inherited</c>).
/// <c>crm_lookup.secret</c> is write-only: GET never shows it, and a PUT that leaves it out keeps the
/// stored one (send <c>null</c> to remove it), so GET, edit, PUT loses nothing. It is stored encrypted, apart
/// from the document (<see cref="CrmLookupSecrets"/>).
/// </summary>
internal static class ConfigEndpoints
{
    public static void MapConfigEndpoints(this IEndpointRouteBuilder app)
    {
        var config = app.MapGroup("/api/v1/config").WithTags("Config").RequireAuthorization(HubPolicies.Scope(Scopes.Config));
        config.MapGet("/", GetAsync);
        config.MapPut("/", PutAsync);
        config.MapDelete("/", DeleteAsync);
    }

    private static async Task<ConfigResponse> GetAsync(WorkingAccount account, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var effective = await configs.ReadAsync(account.TenantId, cancellationToken);
        var shown = effective.Config.CrmLookup is { } lookup ? effective.Config with { CrmLookup = lookup with { Secret = null } } : effective.Config;
        return new ConfigResponse(shown, effective.Scope, effective.Inherited);
    }

    /// <summary>Replaces the global document (master) or this account's override (any other account).</summary>
    private static async Task<ConfigResponse> PutAsync(JsonElement document, WorkingAccount account, ClaimsPrincipal user, AuditLog audit,
        HubDatabase database, TenantConfigReader configs, CrmLookupSecrets secrets, TimeProvider clock, OutboundTargets outbound, CancellationToken cancellationToken)
    {
        var errors = await ConfigValidator.ValidateAsync(document, outbound, cancellationToken);
        if (errors.Count > 0)
        {
            throw HubProblemException.BadRequest("invalid_config", $"{errors.Count} problem(s) in the config, first {errors[0].Field}: {errors[0].Message}; nothing was saved.",
                new Dictionary<string, object?> { ["errors"] = errors });
        }

        var config = document.Deserialize<TenantConfig>(TenantConfigReader.Json) ?? new TenantConfig();

        // The secret is kept encrypted beside the document, never in it. Encrypted before a connection is
        // opened: Data Protection may read its key ring from the store.
        var keepStoredSecret = config.CrmLookup is not null && !document.GetProperty("crm_lookup").TryGetProperty("secret", out _);
        var protectedSecret = config.CrmLookup?.Secret is { } secret ? secrets.Protect(account.TenantId, secret) : null;
        var stored = config.CrmLookup is { } lookup ? config with { CrmLookup = lookup with { Secret = null } } : config;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO tenant_config (tenant_id, document, crm_lookup_secret, updated_at) VALUES (@tenantId, @document, @protectedSecret, @now)
                ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at,
                    crm_lookup_secret = CASE WHEN @keepStoredSecret THEN tenant_config.crm_lookup_secret ELSE excluded.crm_lookup_secret END
                """,
                new { tenantId = account.TenantId, document = JsonSerializer.Serialize(stored, TenantConfigReader.Json), protectedSecret, keepStoredSecret, now = clock.NowMs() },
                cancellationToken: cancellationToken));
        }

        configs.Forget();
        var written = await GetAsync(account, configs, cancellationToken);

        // Which sections were sent, never their values: crm_lookup.secret is among them.
        var sections = document.ValueKind == JsonValueKind.Object ? document.EnumerateObject().Select(property => property.Name).ToList() : [];
        await audit.RecordAsync(user, account.TenantId, AuditActions.ConfigWritten, account.TenantId,
            new Dictionary<string, object?> { ["scope"] = written.Scope, ["sections"] = sections }, cancellationToken);
        return written;
    }

    /// <summary>Removes the global document (master) or the override (the account inherits again).</summary>
    private static async Task<IResult> DeleteAsync(WorkingAccount account, ClaimsPrincipal user, AuditLog audit, HubDatabase database,
        TenantConfigReader configs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM tenant_config WHERE tenant_id = @tenantId", new { tenantId = account.TenantId }, cancellationToken: cancellationToken));
        configs.Forget();
        if (deleted == 0)
        {
            throw HubProblemException.NotFound("config_not_found", "This account has no config of its own to delete; it inherits the global one.");
        }

        await audit.RecordAsync(connection, user, account.TenantId, AuditActions.ConfigDeleted, account.TenantId, null);
        return Results.NoContent();
    }
}
