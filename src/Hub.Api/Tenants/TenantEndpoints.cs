using Dapper;
using System.Security.Claims;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.Extensions.Options;

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
        IOptions<HubSettings> settings, TimeProvider clock, CancellationToken cancellationToken)
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
        // A parent's depth never changes (parent_id is never updated), so the check holds without a lock.
        var maxDepth = settings.Value.MaxTenantDepth;
        if (await TenantTree.DepthAsync(connection, parentId, cancellationToken) is { } parentDepth && parentDepth + 1 > maxDepth)
        {
            throw HubProblemException.BadRequest("tenant_too_deep",
                $"Tenants nest at most {maxDepth} levels below the master (Hub:MaxTenantDepth); {parentId} is at level {parentDepth}.",
                new Dictionary<string, object?> { ["max_depth"] = maxDepth });
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO tenants (id, name, parent_id, is_master, created_at) VALUES (@Id, @Name, @ParentId, 0, @createdAt)",
            new { tenant.Id, tenant.Name, tenant.ParentId, createdAt = tenant.CreatedAt.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        await audit.RecordAsync(connection, user, account.TenantId, AuditActions.TenantCreated, tenant.Id,
            new Dictionary<string, object?> { ["name"] = tenant.Name, ["parent_id"] = tenant.ParentId });
        return Results.Created($"/api/v1/tenants/{tenant.Id}", tenant);
    }

    /// <summary>The working account and all of its descendants, level by level (each level by creation).</summary>
    private static async Task<IReadOnlyList<TenantResponse>> ListAsync(WorkingAccount account, HubDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<TenantRow>(new CommandDefinition(
            TenantTree.SelfAndDescendants + " SELECT t.id, t.name, t.parent_id, t.created_at FROM tenants t JOIN tree ON tree.id = t.id",
            new { tenantId = account.TenantId }, cancellationToken: cancellationToken))).ToList();

        // Levels are formed here rather than counted in the walk, which must stay a UNION without a depth column to
        // end on a cycle. Breadth first from the working account; seen guards against a cycle written by hand.
        var children = rows.ToLookup(row => row.ParentId, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal) { account.TenantId };
        var level = rows.Where(row => row.Id == account.TenantId).ToList();
        var ordered = new List<TenantResponse>(rows.Count);
        while (level.Count > 0)
        {
            level = [.. level.OrderBy(row => row.CreatedAt).ThenBy(row => row.Id, StringComparer.Ordinal)];
            ordered.AddRange(level.Select(row => new TenantResponse(row.Id, row.Name, row.ParentId, Clock.FromMs(row.CreatedAt))));
            level = level.SelectMany(row => children[row.Id]).Where(row => seen.Add(row.Id)).ToList();
        }

        return ordered;
    }

    private sealed record TenantRow(string Id, string Name, string? ParentId, long CreatedAt);
}
