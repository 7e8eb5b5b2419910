using Hub.Consumers.Telemetry;
using Hub.Contracts;
using Hub.Store;
using Hub.Consumers.AgentState;
using Hub.Consumers.CallLog;
using Hub.Consumers.EventStream;
using Hub.Consumers.Webhooks;
using MassTransit;

namespace Hub.Consumers.WebphoneEvents;

/// <summary>
/// Every webphone event's effects in the store, a batch of events in one transaction: the call log, the
/// agents' state, the webhook deliveries and the event stream. One delivery and one commit per batch instead
/// of four deliveries and four commits per event. Each writer is idempotent on the event id, so a redelivered
/// batch, or an event twice in one, has its effect once.
/// </summary>
public sealed class WebphoneEventsConsumer(HubDatabase database, CallLogWriter callLog, WebhookFanOutWriter webhooks,
    EventStreamWriter eventStream, WebhookDispatchSignal dispatcher, ConsumerMetrics metrics, StoreMetrics storeMetrics, TimeProvider clock)
    : IConsumer<Batch<IWebphoneEvent>>
{
    public async Task Consume(ConsumeContext<Batch<IWebphoneEvent>> context)
    {
        var cancellationToken = context.CancellationToken;
        var events = context.Message.DistinctEvents();
        // What may read the store, before the batch's connection (SQLite: one connection at a time).
        var countryCodes = await callLog.CountryCodesAsync(events, cancellationToken);
        var deliveries = await webhooks.MatchAsync(events, cancellationToken);

        try
        {
            await WriteAsync(events, countryCodes, deliveries, cancellationToken);
        }
        catch (Exception exception)
        {
            storeMetrics.Error(exception);
            throw;
        }

        metrics.BatchWritten(events.Select(message => message.ReceivedAt), clock.GetUtcNow());
        if (deliveries.Count > 0)
        {
            dispatcher.Wake();
        }
    }

    private Task WriteAsync(List<IWebphoneEvent> events, IReadOnlyDictionary<string, string> countryCodes,
        IReadOnlyList<(IWebphoneEvent Message, string SubscriptionId)> deliveries, CancellationToken cancellationToken) =>
        EventBatches.WriteAsync(events, async batch =>
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await callLog.WriteAsync(connection, transaction, batch, countryCodes, cancellationToken);
            await AgentStateWriter.WriteAsync(connection, transaction, batch, cancellationToken);
            await webhooks.WriteAsync(connection, transaction, batch, deliveries, cancellationToken);
            await eventStream.WriteAsync(connection, transaction, batch, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });
}
