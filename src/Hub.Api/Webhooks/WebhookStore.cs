using System.Text.Json;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Webhooks;

/// <summary>The Api's reads and writes of webhook subscriptions and their delivery log, always within one tenant.</summary>
public sealed class WebhookStore(HubDatabase database, TimeProvider clock)
{
    public const int MaxPerTenant = 20;

    public async Task<WebhookResponse> CreateAsync(string tenantId, string id, Uri url, IReadOnlyList<string> events, string secretProtected,
        CancellationToken cancellationToken)
    {
        var createdAt = clock.NowMs();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM webhook_subscriptions WHERE tenant_id = @tenantId", new { tenantId }, transaction, cancellationToken: cancellationToken));
        if (count >= MaxPerTenant)
        {
            throw HubProblemException.Conflict("webhook_limit_reached", $"An account has at most {MaxPerTenant} webhooks; delete one first.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_subscriptions (id, tenant_id, url, events, secret_protected, enabled, created_at)
            VALUES (@id, @tenantId, @url, @events, @secretProtected, 1, @createdAt)
            """,
            new { id, tenantId, url = url.AbsoluteUri, events = JsonSerializer.Serialize(events), secretProtected, createdAt },
            transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new WebhookResponse(id, url.AbsoluteUri, events, true, null, null, Clock.FromMs(createdAt));
    }

    public async Task<IReadOnlyList<WebhookResponse>> ListAsync(string tenantId, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<SubscriptionRow>(new CommandDefinition(
            """
            SELECT id, url, events, enabled, disabled_reason, disabled_at, created_at FROM webhook_subscriptions
            WHERE tenant_id = @tenantId AND (@id IS NULL OR id = @id) ORDER BY created_at, id
            """, new { tenantId, id }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToResponse()).ToList();
    }

    public async Task<WebhookResponse> GetAsync(string tenantId, string id, CancellationToken cancellationToken) =>
        (await ListAsync(tenantId, id, cancellationToken)).SingleOrDefault() ?? throw NotFound(id);

    /// <summary>The subscription, its deliveries and their log.</summary>
    public async Task DeleteAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM webhook_attempts WHERE delivery_id IN (
                SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE s.id = @id AND s.tenant_id = @tenantId);
            DELETE FROM webhook_deliveries WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE id = @id AND tenant_id = @tenantId);
            """, new { id, tenantId }, transaction, cancellationToken: cancellationToken));
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM webhook_subscriptions WHERE id = @id AND tenant_id = @tenantId", new { id, tenantId }, transaction, cancellationToken: cancellationToken));
        if (deleted == 0)
        {
            throw NotFound(id);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Enables it again with a clean failure record; its pending deliveries are due at once.</summary>
    public async Task EnableAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_subscriptions SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, failing_since = NULL
            WHERE id = @id AND tenant_id = @tenantId
            """, new { id, tenantId }, transaction, cancellationToken: cancellationToken));
        if (updated == 0)
        {
            throw NotFound(id);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_deliveries SET next_attempt_at = @now WHERE subscription_id = @id AND status = 'pending'",
            new { id, now }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Sends the delivery again, from the start of the retry schedule, with the same webhook-id and body.</summary>
    public async Task RedeliverAsync(string tenantId, string id, string deliveryId, CancellationToken cancellationToken)
    {
        var webhook = await GetAsync(tenantId, id, cancellationToken);
        if (!webhook.Enabled)
        {
            throw HubProblemException.Conflict("webhook_disabled", $"Webhook {id} is disabled; enable it first (POST /api/v1/webhooks/{id}/enable).");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_deliveries SET status = 'pending', schedule_step = 0, next_attempt_at = @now
            WHERE id = @deliveryId AND subscription_id = @id AND tenant_id = @tenantId
            """, new { deliveryId, id, tenantId, now = clock.NowMs() }, cancellationToken: cancellationToken));
        if (updated == 0)
        {
            throw HubProblemException.NotFound("webhook_delivery_not_found", $"No delivery {deliveryId} of webhook {id}.");
        }
    }

    public static HubProblemException NotFound(string id) => HubProblemException.NotFound("webhook_not_found", $"No webhook {id} in this account.");

    private sealed record SubscriptionRow
    {
        public string Id { get; init; } = "";
        public string Url { get; init; } = "";
        public string Events { get; init; } = "[]";
        public long Enabled { get; init; }
        public string? DisabledReason { get; init; }
        public long? DisabledAt { get; init; }
        public long CreatedAt { get; init; }

        public WebhookResponse ToResponse() => new(Id, Url, JsonSerializer.Deserialize<string[]>(Events) ?? [], Enabled == 1, DisabledReason,
            Clock.FromMs(DisabledAt), Clock.FromMs(CreatedAt));
    }
}
