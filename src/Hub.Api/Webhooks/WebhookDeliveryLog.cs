using System.Text;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Webhooks;

/// <summary><c>GET /api/v1/webhooks/{id}/deliveries</c>: newest first, each delivery with every attempt.</summary>
public sealed class WebhookDeliveryLog(HubDatabase database)
{
    public static readonly string[] Statuses = ["pending", "delivered", "failed"];

    public async Task<WebhookDeliveryPage> ReadAsync(string tenantId, string id, string? status, int limit, string? cursor, CancellationToken cancellationToken)
    {
        var (cursorAt, cursorId) = KeysetCursor.Decode(cursor);
        var sql = new StringBuilder(
            """
            SELECT id, event_id, event_type, call_id, status, attempts, next_attempt_at, last_response_code, created_at, delivered_at
            FROM webhook_deliveries WHERE subscription_id = @id AND tenant_id = @tenantId
            """);
        if (status is not null)
        {
            sql.Append(" AND status = @status");
        }

        if (cursorAt is not null)
        {
            sql.Append(" AND (created_at < @cursorAt OR (created_at = @cursorAt AND id < @cursorId))");
        }

        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT @take");

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(sql.ToString(),
            new { id, tenantId, status, cursorAt, cursorId, take = limit + 1 }, cancellationToken: cancellationToken))).ToList();
        var page = rows.Take(limit).ToList();
        if (page.Count == 0)
        {
            return new WebhookDeliveryPage([], null);
        }

        var ids = page.Select(row => row.Id).ToArray();
        var attempts = (await connection.QueryAsync<AttemptRow>(new CommandDefinition(
            $"""
            SELECT delivery_id, attempt, at, status, duration_ms, response_code, response_body, error
            FROM webhook_attempts WHERE delivery_id {database.InList("ids")} ORDER BY attempt
            """, new { ids }, cancellationToken: cancellationToken))).ToLookup(a => a.DeliveryId);

        var items = page.Select(row => new WebhookDeliveryResponse(row.Id, row.EventId, row.EventType, row.CallId, row.Status, row.Attempts,
            Clock.FromMs(row.Status == "pending" ? row.NextAttemptAt : null), (int?)row.LastResponseCode, Clock.FromMs(row.CreatedAt),
            Clock.FromMs(row.DeliveredAt),
            attempts[row.Id].Select(a => new WebhookAttemptResponse(a.Attempt, Clock.FromMs(a.At), a.Status, a.DurationMs, (int?)a.ResponseCode,
                a.ResponseBody, a.Error)).ToList())).ToList();
        var next = rows.Count > limit ? KeysetCursor.Encode(page[^1].CreatedAt, page[^1].Id) : null;
        return new WebhookDeliveryPage(items, next);
    }

    private sealed record DeliveryRow
    {
        public string Id { get; init; } = "";
        public string EventId { get; init; } = "";
        public string EventType { get; init; } = "";
        public string? CallId { get; init; }
        public string Status { get; init; } = "";
        public long Attempts { get; init; }
        public long? NextAttemptAt { get; init; }
        public long? LastResponseCode { get; init; }
        public long CreatedAt { get; init; }
        public long? DeliveredAt { get; init; }
    }

    private sealed record AttemptRow
    {
        public string DeliveryId { get; init; } = "";
        public long Attempt { get; init; }
        public long At { get; init; }
        public string Status { get; init; } = "";
        public long DurationMs { get; init; }
        public long? ResponseCode { get; init; }
        public string? ResponseBody { get; init; }
        public string? Error { get; init; }
    }
}
