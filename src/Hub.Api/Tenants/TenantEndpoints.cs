using Dapper;
using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Tenants;

public sealed record CreateTenantRequest(string? Name, string? ParentId);

public sealed record TenantResponse(string Id, string Name, string? ParentId, DateTimeOffset CreatedAt);

internal static class TenantEndpoints
{
    public static void MapTenantEndpoints(this IEndpointRouteBuilder app)
    {
        var tenants = app.MapGroup("/api/v1/tenants").WithTags("Tenants").RequireAuthorization(HubPolicies.Scope(Scopes.Admin));
        tenants.MapPost("/", CreateAsync);
        tenants.MapGet("/", ListAsync);
    }

    /// <summary>A new tenant under the working account (or under <c>parent_id</c>, one of its descendants).</summary>
    private static async Task<IResult> CreateAsync(CreateTenantRequest request, WorkingAccount account, ClaimsPrincipal user, AuditLog audit, HubDatabase database,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            throw HubProblemException.BadRequest("invalid_tenant", "name is required, at most 200 characters.");
        }

        var parentId = request.ParentId ?? account.TenantId;
        if (!Ids.IsTenantId(parentId))
        {
            throw HubProblemException.BadRequest("invalid_tenant", "parent_id must be a tenant id of 32 lowercase hex characters.");
        }

        if (!await WorkingAccount.IsSelfOrDescendantAsync(database, account.TenantId, parentId, cancellationToken))
        {
            throw HubProblemException.Forbidden("account_forbidden", $"This credential cannot create tenants under {parentId}.");
        }

        var tenant = new TenantResponse(Ids.NewTenantId(), name, parentId, clock.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO tenants (id, name, parent_id, is_master, created_at) VALUES (@Id, @Name, @ParentId, 0, @createdAt)",
            new { tenant.Id, tenant.Name, tenant.ParentId, createdAt = tenant.CreatedAt.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        await audit.RecordAsync(connection, user, account.TenantId, AuditActions.TenantCreated, tenant.Id,
            new Dictionary<string, object?> { ["name"] = tenant.Name, ["parent_id"] = tenant.ParentId });
        return Results.Created($"/api/v1/tenants/{tenant.Id}", tenant);
    }

    /// <summary>The working account and all of its descendants.</summary>
    private static async Task<IReadOnlyList<TenantResponse>> ListAsync(WorkingAccount account, HubDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TenantRow>(new CommandDefinition(
            """
            WITH RECURSIVE tree (id, name, parent_id, created_at, depth) AS (
                SELECT id, name, parent_id, created_at, 0 FROM tenants WHERE id = @tenantId
                UNION ALL
                SELECT t.id, t.name, t.parent_id, t.created_at, tree.depth + 1 FROM tenants t JOIN tree ON t.parent_id = tree.id WHERE tree.depth < 64
            )
            SELECT id, name, parent_id, created_at FROM tree ORDER BY depth, created_at, id
            """, new { tenantId = account.TenantId }, cancellationToken: cancellationToken));
        return rows.Select(row => new TenantResponse(row.Id, row.Name, row.ParentId, Clock.FromMs(row.CreatedAt))).ToList();
    }

    private sealed record TenantRow(string Id, string Name, string? ParentId, long CreatedAt);
}
