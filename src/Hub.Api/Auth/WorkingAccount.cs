using Dapper;
using Hub.Api.Infrastructure;
using Hub.Api.Tenants;
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

    /// <summary>
    /// Whether <paramref name="ancestorId"/> is <paramref name="tenantId"/> or above it, walking the whole chain
    /// (<see cref="TenantTree"/>): nesting is capped at creation, so no chain is longer than a walk.
    /// </summary>
    public static async Task<bool> IsSelfOrDescendantAsync(HubDatabase database, string ancestorId, string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var found = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            TenantTree.SelfAndAncestors + " SELECT count(*) FROM chain WHERE id = @ancestorId",
            new { ancestorId, tenantId }, cancellationToken: cancellationToken));
        return found > 0;
    }
}
