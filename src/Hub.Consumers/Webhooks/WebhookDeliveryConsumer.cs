using System.Data.Common;
using Dapper;
using Hub.Store;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Makes one attempt of one delivery and records it: the attempt in the delivery log, and on the
/// delivery either success or the next time from the retry schedule (or <c>failed</c> when it is
/// exhausted). An endpoint that answers <c>410 Gone</c>, or has failed without a success for
/// <c>Hub:Webhooks:DisableAfter</c>, is disabled with a reason.
/// </summary>
public sealed class WebhookDeliveryConsumer(HubDatabase database, WebhookSecrets secrets, WebhookSender sender, WebhookSubscriptionCache subscriptions,
    WebhookDispatchSignal dispatcher, IOptions<HubSettings> options, TimeProvider clock) : IConsumer<DeliverWebhook>
{
    public async Task Consume(ConsumeContext<DeliverWebhook> context)
    {
        var cancellationToken = context.CancellationToken;
        var delivery = await TakeAsync(context.Message, cancellationToken);
        if (delivery is null)
        {
            return;
        }

        // Decrypted with no connection held: loading the key ring may need the store.
        var secret = secrets.Unprotect(delivery.TenantId, delivery.SubscriptionId, delivery.SecretProtected);
        var result = await sender.SendAsync(delivery.Url, secret, delivery.Id, delivery.Body, cancellationToken);
        var disabled = await RecordAsync(delivery, result, cancellationToken);
        if (disabled)
        {
            subscriptions.Forget();
        }

        // A success may let the call's next event go; a failure has a new time to be woken for.
        dispatcher.Wake();
    }

    /// <summary>The delivery this message leases, taken so no duplicate of the message sends it too; null when stale.</summary>
    private async Task<DeliveryRow?> TakeAsync(DeliverWebhook message, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var taken = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE webhook_deliveries SET claim_token = NULL WHERE id = @DeliveryId AND claim_token = @ClaimToken AND status = 'pending'",
            message, cancellationToken: cancellationToken));
        if (taken == 0)
        {
            return null;
        }

        return await connection.QuerySingleAsync<DeliveryRow>(new CommandDefinition(
            """
            SELECT d.id, d.tenant_id, d.subscription_id, d.body, d.attempts, d.schedule_step, s.url, s.secret_protected
            FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.id = @DeliveryId
            """, message, cancellationToken: cancellationToken));
    }

    /// <summary>Records the attempt and what follows from it; true when it disabled the endpoint.</summary>
    private async Task<bool> RecordAsync(DeliveryRow delivery, WebhookAttemptResult result, CancellationToken cancellationToken)
    {
        var settings = options.Value.Webhooks;
        var now = clock.NowMs();
        var attempt = delivery.Attempts + 1;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The webhook may have been deleted during the attempt: then there is nothing left to record.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_attempts (id, delivery_id, attempt, at, duration_ms, status, response_code, response_body, error)
            SELECT @id, @deliveryId, @attempt, @at, @DurationMs, @status, @StatusCode, @ResponseBody, @Error
            WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = @deliveryId)
            """,
            new
            {
                id = Guid.CreateVersion7().ToString("N"), deliveryId = delivery.Id, attempt, at = now - result.DurationMs, result.DurationMs,
                status = result.Succeeded ? "succeeded" : "failed", result.StatusCode, result.ResponseBody, result.Error,
            }, transaction, cancellationToken: cancellationToken));

        bool disabled;
        if (result.Succeeded)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE webhook_deliveries SET status = 'delivered', attempts = @attempt, last_response_code = @StatusCode, delivered_at = @now,
                    next_attempt_at = NULL, claimed_until = NULL
                WHERE id = @id;
                UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = @subscriptionId;
                """, new { attempt, result.StatusCode, now, id = delivery.Id, subscriptionId = delivery.SubscriptionId }, transaction,
                cancellationToken: cancellationToken));
            disabled = false;
        }
        else
        {
            var schedule = settings.EffectiveRetrySchedule;
            var exhausted = delivery.ScheduleStep >= schedule.Count;
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE webhook_deliveries SET status = @status, attempts = @attempt, schedule_step = @step, last_response_code = @StatusCode,
                    next_attempt_at = @next, claimed_until = NULL
                WHERE id = @id;
                UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, @now) WHERE id = @subscriptionId;
                """,
                new
                {
                    status = exhausted ? "failed" : "pending", attempt, step = delivery.ScheduleStep + 1, result.StatusCode,
                    next = exhausted ? (long?)null : now + (long)schedule[(int)delivery.ScheduleStep].TotalMilliseconds,
                    id = delivery.Id, now, subscriptionId = delivery.SubscriptionId,
                }, transaction, cancellationToken: cancellationToken));
            disabled = await DisableIfDueAsync(connection, transaction, delivery.SubscriptionId, result.StatusCode, now, settings, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return disabled;
    }

    private static async Task<bool> DisableIfDueAsync(DbConnection connection, DbTransaction transaction, string subscriptionId, int? statusCode, long now,
        WebhookSettings settings, CancellationToken cancellationToken)
    {
        var gone = statusCode == 410;
        var reason = gone
            ? "The endpoint answered 410 Gone."
            : $"Every attempt failed for {settings.DisableAfter} (the last: {(statusCode is { } code ? "HTTP " + code : "no answer")}).";
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = @reason, disabled_at = @now
            WHERE id = @subscriptionId AND enabled = 1 AND (@gone = 1 OR failing_since <= @failingBefore)
            """,
            new { reason, now, subscriptionId, gone = gone ? 1 : 0, failingBefore = now - (long)settings.DisableAfter.TotalMilliseconds },
            transaction, cancellationToken: cancellationToken)) > 0;
    }

    private sealed record DeliveryRow
    {
        public string Id { get; init; } = "";
        public string TenantId { get; init; } = "";
        public string SubscriptionId { get; init; } = "";
        public string Body { get; init; } = "";
        public long Attempts { get; init; }
        public long ScheduleStep { get; init; }
        public string Url { get; init; } = "";
        public string SecretProtected { get; init; } = "";
    }
}
