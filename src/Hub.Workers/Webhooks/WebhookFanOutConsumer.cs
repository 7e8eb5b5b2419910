using Dapper;
using Hub.Contracts;
using Hub.Store;
using MassTransit;

namespace Hub.Workers.Webhooks;

/// <summary>
/// Turns a webphone event into one pending delivery per matching enabled subscription of its tenant, then
/// wakes the dispatcher so the first attempt is immediate. Idempotent: a delivery is unique per
/// (subscription, event), so a redelivered or duplicate event adds nothing.
/// </summary>
public sealed class WebhookFanOutConsumer(HubDatabase database, WebhookSubscriptionCache subscriptions, WebhookDispatchSignal dispatcher,
    TimeProvider clock) : IConsumer<IWebphoneEvent>
{
    public async Task Consume(ConsumeContext<IWebphoneEvent> context)
    {
        var message = context.Message;
        var cancellationToken = context.CancellationToken;
        var matching = (await subscriptions.EnabledForAsync(message.TenantId, cancellationToken)).Where(w => w.Matches(message.Type)).ToList();
        if (matching.Count == 0)
        {
            return;
        }

        var body = WebhookPayload.Serialize(message);
        var now = clock.NowMs();
        await using (var connection = await database.OpenAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            foreach (var webhook in matching)
            {
                // Through the subscription row: one deleted or disabled since it was cached gets nothing.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO webhook_deliveries (id, subscription_id, tenant_id, event_id, event_type, call_id, order_key, occurred_at, seq, body,
                        status, attempts, schedule_step, next_attempt_at, created_at)
                    SELECT @Id, s.id, s.tenant_id, @EventId, @Type, @CallId, @OrderKey, @OccurredAt, @Seq, @body, 'pending', 0, 0, @now, @now
                    FROM webhook_subscriptions s WHERE s.id = @SubscriptionId AND s.tenant_id = @TenantId AND s.enabled = 1
                    ON CONFLICT (subscription_id, event_id) DO NOTHING
                    """,
                    new
                    {
                        Id = WebhookIds.NewDeliveryId(),
                        EventId = message.EventId.ToString(),
                        message.Type,
                        message.CallId,
                        // Events of one call go out in order; an event outside a call waits for nothing.
                        OrderKey = message.CallId is { Length: > 0 } callId ? "call:" + callId : "event:" + message.EventId,
                        OccurredAt = message.OccurredAt.ToUnixTimeMilliseconds(),
                        message.Seq,
                        body,
                        now,
                        SubscriptionId = webhook.Id,
                        message.TenantId,
                    }, transaction, cancellationToken: cancellationToken));
            }

            await transaction.CommitAsync(cancellationToken);
        }

        dispatcher.Wake();
    }
}
