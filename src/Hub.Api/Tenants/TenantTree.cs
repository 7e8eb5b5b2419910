using System.Data.Common;
using Dapper;

namespace Hub.Api.Tenants;

/// <summary>
/// Walks of the tenant tree. None has a step limit: nesting is capped when a tenant is created
/// (<c>Hub:MaxTenantDepth</c>), so a walk is as long as the deepest chain allows, and a tenant is never out of reach
/// of an ancestor because a walk stopped early (the fixed 64 steps of old let deeper tenants escape their
/// ancestors). Each walk is a <c>UNION</c>, not a <c>UNION ALL</c>: rows it has seen are not walked again, so even
/// a cycle written into the store by hand ends the walk instead of running forever.
/// </summary>
internal static class TenantTree
{
    /// <summary>A common table expression <c>tree (id)</c>: <c>@tenantId</c> and every tenant below it.</summary>
    public const string SelfAndDescendants =
        """
        WITH RECURSIVE tree (id) AS (
            SELECT id FROM tenants WHERE id = @tenantId
            UNION
            SELECT t.id FROM tenants t JOIN tree ON t.parent_id = tree.id
        )
        """;

    /// <summary>A common table expression <c>chain (id, parent_id)</c>: <c>@tenantId</c> and every tenant above it.</summary>
    public const string SelfAndAncestors =
        """
        WITH RECURSIVE chain (id, parent_id) AS (
            SELECT id, parent_id FROM tenants WHERE id = @tenantId
            UNION
            SELECT t.id, t.parent_id FROM tenants t JOIN chain c ON t.id = c.parent_id
        )
        """;

    /// <summary>How many ancestors the tenant has (the master: 0, its children: 1); null when it does not exist.</summary>
    public static async Task<int?> DepthAsync(DbConnection connection, string tenantId, CancellationToken cancellationToken)
    {
        var chain = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            SelfAndAncestors + " SELECT count(*) FROM chain", new { tenantId }, cancellationToken: cancellationToken));
        return chain == 0 ? null : (int)chain - 1;
    }

    /// <summary>The tenant and every tenant below it.</summary>
    public static async Task<IReadOnlyList<string>> SelfAndDescendantsAsync(DbConnection connection, DbTransaction? transaction, string tenantId,
        CancellationToken cancellationToken) =>
        (await connection.QueryAsync<string>(new CommandDefinition(
            SelfAndDescendants + " SELECT id FROM tree", new { tenantId }, transaction, cancellationToken: cancellationToken))).ToList();
}
