using System.Data.Common;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Store;

namespace Hub.Api.Audit;

/// <summary>The actions <c>GET /api/v1/audit</c> lists.</summary>
public static class AuditActions
{
    public const string TenantCreated = "tenant.created";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyRevoked = "api_key.revoked";
    public const string SigningKeyCreated = "embed_signing_key.created";
    public const string SigningKeyDeleted = "embed_signing_key.deleted";
    public const string ConfigWritten = "config.written";
    public const string ConfigDeleted = "config.deleted";
    public const string NumberErased = "privacy.erased";
}

/// <summary>
/// Writes who changed what in an account. The entry belongs to the account acted on (the working
/// account); <c>actor</c> names the credential, <c>api_key:&lt;id&gt;</c> or <c>session:&lt;id&gt;</c>.
/// Callers pass ids, names and scopes as detail, never a secret.
/// </summary>
public sealed class AuditLog(HubDatabase database, TimeProvider clock)
{
    public static string ActorOf(ClaimsPrincipal user) =>
        user.FindFirstValue(HubClaims.KeyId) is { } keyId ? "api_key:" + keyId
        : user.FindFirstValue(HubClaims.SessionId) is { } sessionId ? "session:" + sessionId
        : "unknown";

    public async Task RecordAsync(ClaimsPrincipal user, string tenantId, string action, string target,
        IReadOnlyDictionary<string, object?>? detail, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await RecordAsync(connection, user, tenantId, action, target, detail);
    }

    /// <summary>On a connection the caller holds (SQLite allows one open connection at a time).</summary>
    public Task RecordAsync(DbConnection connection, ClaimsPrincipal user, string tenantId, string action, string target,
        IReadOnlyDictionary<string, object?>? detail) =>
        RecordAsync(connection, null, user, tenantId, action, target, detail);

    /// <summary>Inside the caller's transaction, so the entry commits (or not) with the change it records.</summary>
    public Task RecordAsync(DbConnection connection, DbTransaction? transaction, ClaimsPrincipal user, string tenantId, string action, string target,
        IReadOnlyDictionary<string, object?>? detail) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO audit_log (id, tenant_id, actor, action, target, detail, at) VALUES (@id, @tenantId, @actor, @action, @target, @detail, @at)",
            new
            {
                id = Guid.CreateVersion7().ToString("N"), tenantId, actor = ActorOf(user), action, target,
                detail = detail is null ? null : JsonSerializer.Serialize(detail), at = clock.NowMs(),
            }, transaction, cancellationToken: CancellationToken.None));
}
