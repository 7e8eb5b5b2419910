using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Audit;

public sealed record AuditEntryResponse(string Id, string TenantId, string Actor, string Action, string Target, JsonElement? Detail, DateTimeOffset At);

public sealed record AuditPage(IReadOnlyList<AuditEntryResponse> Items, string? NextCursor);

/// <summary><c>GET /api/v1/audit</c>: the working account's audit log, newest first, paged by a keyset cursor (at, id).</summary>
internal static class AuditEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    public static void MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audit", ListAsync).WithTags("Audit").RequireAuthorization(HubPolicies.Scope(Scopes.Admin));
    }

    private static async Task<AuditPage> ListAsync(WorkingAccount account, HubDatabase database, CancellationToken cancellationToken,
        int? limit = null, string? cursor = null)
    {
        var take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            throw HubProblemException.BadRequest("invalid_query", $"limit must be between 1 and {MaxLimit}.");
        }

        var (afterAt, afterId) = KeysetCursor.Decode(cursor);
        var sql = new StringBuilder("SELECT id, tenant_id, actor, action, target, detail, at FROM audit_log WHERE tenant_id = @tenantId");
        if (afterId is not null)
        {
            sql.Append(" AND (at < @afterAt OR (at = @afterAt AND id < @afterId))");
        }

        sql.Append(" ORDER BY at DESC, id DESC LIMIT @fetch");
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<AuditRow>(new CommandDefinition(sql.ToString(),
            new { tenantId = account.TenantId, afterAt, afterId, fetch = take + 1 }, cancellationToken: cancellationToken))).ToList();
        var page = rows.Take(take).Select(row => new AuditEntryResponse(row.Id, row.TenantId, row.Actor, row.Action, row.Target,
            row.Detail is null ? null : JsonDocument.Parse(row.Detail).RootElement.Clone(), Clock.FromMs(row.At))).ToList();
        return new AuditPage(page, rows.Count > take ? KeysetCursor.Encode(rows[take - 1].At, rows[take - 1].Id) : null);
    }


    private sealed record AuditRow(string Id, string TenantId, string Actor, string Action, string Target, string? Detail, long At);
}
