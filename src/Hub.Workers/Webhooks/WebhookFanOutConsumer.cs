using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.Webhooks;

/// <summary>
/// Turns webphone events into one pending delivery per matching enabled subscription of their tenant, a batch
/// of events in one transaction, then wakes the dispatcher so the first attempt is immediate. Idempotent: a
/// delivery is unique per (subscription, event), so a redelivered or duplicate event adds nothing.
/// </summary>
public sealed class WebhookFanOutConsumer(HubDatabase database, WebhookSubscriptionCache subscriptions, WebhookDispatchSignal dispatcher,
    TimeProvider clock) : IConsumer<Batch<IWebphoneEvent>>
{
    public async Task Consume(ConsumeContext<Batch<IWebphoneEvent>> context)
    {
        var cancellationToken = context.CancellationToken;
        var deliveries = new List<(IWebphoneEvent Message, string SubscriptionId)>();
        foreach (var message in context.Message.DistinctEvents())
        {
            var enabled = await subscriptions.EnabledForAsync(message.TenantId, cancellationToken);
            deliveries.AddRange(enabled.Where(w => w.Matches(message.Type)).Select(w => (message, w.Id)));
        }

        if (deliveries.Count == 0)
        {
            return;
        }

        var events = deliveries.Select(delivery => delivery.Message).Distinct().ToList();
        await EventBatches.WriteAsync(events, batch =>
        {
            var included = batch.ToHashSet();
            return FanOutAsync(deliveries.Where(delivery => included.Contains(delivery.Message)).ToList(), cancellationToken);
        });
        dispatcher.Wake();
    }

    private async Task FanOutAsync(List<(IWebphoneEvent Message, string SubscriptionId)> deliveries, CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        var bodies = new Dictionary<IWebphoneEvent, string>();
        // Through the subscription row: one deleted or disabled since it was cached gets nothing.
        var (values, parameters) = SqlRows.Values(deliveries, delivery =>
        {
            var (message, subscriptionId) = delivery;
            if (!bodies.TryGetValue(message, out var body))
            {
                bodies[message] = body = WebhookPayload.Serialize(message);
            }

            return [
                WebhookIds.NewDeliveryId(), subscriptionId, message.TenantId, message.EventId.ToString(), message.Type, message.CallId,
                // Events of one call go out in order; an event outside a call waits for nothing.
                message.CallId is { Length: > 0 } callId ? "call:" + callId : "event:" + message.EventId,
                message.OccurredAt.ToUnixTimeMilliseconds(), message.Seq, body,
            ];
        });
        parameters.Add("now", now);

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO webhook_deliveries (id, subscription_id, tenant_id, event_id, event_type, call_id, order_key, occurred_at, seq, body,
                status, attempts, schedule_step, next_attempt_at, created_at)
            SELECT v.column1, s.id, s.tenant_id, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10,
                'pending', 0, 0, @now, @now
            FROM (VALUES {values}) AS v -- (id, subscription_id, tenant_id, event_id, event_type, call_id, order_key, occurred_at, seq, body)
            JOIN webhook_subscriptions s ON s.id = v.column2 AND s.tenant_id = v.column3 AND s.enabled = 1
            WHERE true
            ON CONFLICT (subscription_id, event_id) DO NOTHING
            """, parameters, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }
}
