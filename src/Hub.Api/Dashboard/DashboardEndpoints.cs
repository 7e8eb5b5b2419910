using System.Security.Claims;
using Dapper;
using Hub.Api.Auth;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Dashboard;

/// <summary>Who the dashboard is signed in as, and which portals may steer it (<c>portal_origins</c>).</summary>
public sealed record DashboardContext(string TenantId, string TenantName, string Role, IReadOnlyList<string> PortalOrigins);

internal static class DashboardEndpoints
{
    public static void MapDashboardEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/dashboard/context", ContextAsync).WithTags("Dashboard").RequireAuthorization(HubPolicies.CallsReader);
    }

    /// <summary>
    /// The signed-in tenant's own context, whatever <c>X-Account-ID</c> says: the portals it trusts decide
    /// which working-account messages the dashboard follows, and every data request it then makes is
    /// checked against the credential again (<see cref="WorkingAccount"/>).
    /// </summary>
    private static async Task<DashboardContext> ContextAsync(ClaimsPrincipal user, HubDatabase database, TenantConfigReader configs,
        CancellationToken cancellationToken)
    {
        var tenantId = user.Tenant();
        string name;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            name = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT name FROM tenants WHERE id = @tenantId", new { tenantId }, cancellationToken: cancellationToken)) ?? tenantId;
        }

        var config = await configs.ReadCachedAsync(tenantId, cancellationToken);
        var role = user.IsSession() ? user.FindFirstValue(HubClaims.Role) ?? Roles.Analyst : HubClaims.ApiKeyKind;
        return new DashboardContext(tenantId, name, role, config.Config.PortalOrigins);
    }
}
