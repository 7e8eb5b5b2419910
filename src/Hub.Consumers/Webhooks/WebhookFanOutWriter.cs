using System.Data.Common;
using Dapper;
using Hub.Store;
using Hub.Consumers.WebphoneEvents;
using Hub.Contracts;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Turns webphone events into one pending delivery per matching enabled subscription of their tenant, inside
/// the batch's transaction. Idempotent: a delivery is unique per (subscription, event), so a redelivered or
/// duplicate event adds nothing. Wake the dispatcher after the commit so the first attempt is immediate.
/// </summary>
public sealed class WebhookFanOutWriter(WebhookSubscriptionCache subscriptions, TimeProvider clock)
{
    /// <summary>The deliveries the batch's events make. Before the batch's connection: the cache may read the store.</summary>
    public async Task<IReadOnlyList<(IWebphoneEvent Message, string SubscriptionId)>> MatchAsync(IReadOnlyList<IWebphoneEvent> events,
        CancellationToken cancellationToken)
    {
        var deliveries = new List<(IWebphoneEvent Message, string SubscriptionId)>();
        foreach (var message in events)
        {
            var enabled = await subscriptions.EnabledForAsync(message.TenantId, cancellationToken);
            deliveries.AddRange(enabled.Where(w => w.Matches(message.Type)).Select(w => (message, w.Id)));
        }

        return deliveries;
    }

    public async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IWebphoneEvent> batch,
        IReadOnlyList<(IWebphoneEvent Message, string SubscriptionId)> matched, CancellationToken cancellationToken)
    {
        var included = batch.ToHashSet();
        var deliveries = matched.Where(delivery => included.Contains(delivery.Message)).ToList();
        if (deliveries.Count == 0)
        {
            return;
        }

        var now = clock.NowMs();
        var bodies = new Dictionary<IWebphoneEvent, string>();
        // Ids of one millisecond are not ordered among themselves: sorted, they follow the batch's order, as
        // the delivery log (newest first, by time then id) shows them.
        var ids = new Queue<string>(deliveries.Select(_ => WebhookIds.NewDeliveryId()).Order(StringComparer.Ordinal));
        // Through the subscription row: one deleted or disabled since it was cached gets nothing.
        var (values, parameters) = SqlRows.Values(deliveries, delivery =>
        {
            var (message, subscriptionId) = delivery;
            if (!bodies.TryGetValue(message, out var body))
            {
                bodies[message] = body = WebhookPayload.Serialize(message);
            }

            return [
                ids.Dequeue(), subscriptionId, message.TenantId, message.EventId.ToString(), message.Type, message.CallId,
                // Events of one call go out in order; an event outside a call waits for nothing.
                message.CallId is { Length: > 0 } callId ? "call:" + callId : "event:" + message.EventId,
                message.OccurredAt.ToUnixTimeMilliseconds(), message.Seq, body,
            ];
        });
        parameters.Add("now", now);

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
    }
}
