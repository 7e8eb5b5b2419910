using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Auth;

/// <summary>
/// The tenant a request acts on: the credential's own tenant, or with <c>X-Account-ID</c> one of its
/// descendants (the fonoUC Portal's "working account"). Bound as an endpoint parameter, so no handler
/// can forget to scope by tenant.
/// </summary>
public sealed record WorkingAccount(string TenantId, string CallerTenantId)
{
    public const string Header = "X-Account-ID";

    public static async ValueTask<WorkingAccount?> BindAsync(HttpContext context)
    {
        var caller = context.User.Tenant();
        string? requested = context.Request.Headers[Header];
        if (string.IsNullOrEmpty(requested) || requested == caller)
        {
            return new WorkingAccount(caller, caller);
        }

        if (!Ids.IsTenantId(requested))
        {
            throw HubProblemException.BadRequest("invalid_account_id", $"{Header} must be a tenant id of 32 lowercase hex characters.");
        }

        var database = context.RequestServices.GetRequiredService<HubDatabase>();
        if (!await IsSelfOrDescendantAsync(database, caller, requested, context.RequestAborted))
        {
            // The same answer whether the tenant does not exist or is someone else's: ids do not leak.
            throw HubProblemException.Forbidden("account_forbidden", $"This credential cannot act on account {requested}.");
        }

        return new WorkingAccount(requested, caller);
    }

    public static async Task<bool> IsSelfOrDescendantAsync(HubDatabase database, string ancestorId, string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var found = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            WITH RECURSIVE chain (id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM tenants WHERE id = @tenantId
                UNION ALL
                SELECT t.id, t.parent_id, c.depth + 1 FROM tenants t JOIN chain c ON t.id = c.parent_id WHERE c.depth < 64
            )
            SELECT count(*) FROM chain WHERE id = @ancestorId
            """, new { ancestorId, tenantId }, cancellationToken: cancellationToken));
        return found > 0;
    }
}
