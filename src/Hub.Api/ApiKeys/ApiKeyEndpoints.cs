using Dapper;
using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes);

public sealed record ApiKeyResponse(string Id, string Name, IReadOnlyList<string> Scopes, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public sealed record CreatedApiKeyResponse(string Id, string Name, IReadOnlyList<string> Scopes, string Key, DateTimeOffset CreatedAt);

internal static class ApiKeyEndpoints
{
    public static void MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireAuthorization(HubPolicies.Scope(Scopes.Admin));
        keys.MapPost("/", CreateAsync);
        keys.MapGet("/", ListAsync);
        keys.MapDelete("/{id}", RevokeAsync);
    }

    /// <summary>The key is in this response only; the hub keeps its SHA-256 hash.</summary>
    private static async Task<IResult> CreateAsync(CreateApiKeyRequest request, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, HubDatabase database, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            throw HubProblemException.BadRequest("invalid_api_key", "name is required, at most 200 characters.");
        }

        var scopes = request.Scopes?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        var unknown = scopes.Where(scope => !Scopes.All.Contains(scope)).ToList();
        if (scopes.Count == 0 || unknown.Count > 0)
        {
            throw HubProblemException.BadRequest("invalid_api_key",
                $"scopes must be a non-empty subset of: {string.Join(", ", Scopes.All.Order(StringComparer.Ordinal))}."
                + (unknown.Count > 0 ? $" Unknown: {string.Join(", ", unknown)}." : ""));
        }

        var key = Ids.NewSecret(HubAuthenticationHandler.ApiKeyPrefix);
        var created = new CreatedApiKeyResponse(Guid.NewGuid().ToString(), name, scopes, key, clock.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, created_at)
            VALUES (@Id, @tenantId, @Name, @hash, @prefix, @scopes, @createdAt)
            """,
            new
            {
                created.Id, tenantId = account.TenantId, created.Name, hash = Ids.Sha256(key), prefix = key[..9],
                scopes = string.Join(' ', scopes), createdAt = created.CreatedAt.ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken));
        await audit.RecordAsync(connection, user, account.TenantId, AuditActions.ApiKeyCreated, created.Id,
            new Dictionary<string, object?> { ["name"] = created.Name, ["scopes"] = scopes });
        return Results.Created($"/api/v1/api-keys/{created.Id}", created);
    }

    private static async Task<IReadOnlyList<ApiKeyResponse>> ListAsync(WorkingAccount account, HubDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApiKeyRow>(new CommandDefinition(
            """
            SELECT id, name, scopes, key_prefix, created_at, revoked_at FROM api_keys
            WHERE tenant_id = @tenantId ORDER BY created_at, id
            """, new { tenantId = account.TenantId }, cancellationToken: cancellationToken));
        return rows.Select(row => new ApiKeyResponse(row.Id, row.Name, row.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            row.KeyPrefix, Clock.FromMs(row.CreatedAt), Clock.FromMs(row.RevokedAt))).ToList();
    }

    /// <summary>Revocation is immediate: every request looks its key up.</summary>
    private static async Task<IResult> RevokeAsync(string id, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, HubDatabase database, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var revoked = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @now WHERE id = @id AND tenant_id = @tenantId AND revoked_at IS NULL",
            new { id, tenantId = account.TenantId, now = clock.NowMs() }, cancellationToken: cancellationToken));
        if (revoked == 0)
        {
            throw HubProblemException.NotFound("api_key_not_found", $"No active API key {id} in this account.");
        }

        await audit.RecordAsync(connection, user, account.TenantId, AuditActions.ApiKeyRevoked, id, null);
        return Results.NoContent();
    }

    private sealed record ApiKeyRow(string Id, string Name, string Scopes, string KeyPrefix, long CreatedAt, long? RevokedAt);
}
