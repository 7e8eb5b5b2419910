using Hub.Contracts;
using MassTransit;

namespace Hub.Consumers.WebphoneEvents;

/// <summary>
/// How the store-writing consumers take webphone events: in batches, one transaction per batch instead of
/// one per event. A batch closes at <see cref="MessageLimit"/> events or <see cref="TimeLimit"/> after its
/// first, so a lone event waits at most a few milliseconds.
/// </summary>
internal static class EventBatches
{
    public const int MessageLimit = 200;
    public static readonly TimeSpan TimeLimit = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Batches for this consumer, <paramref name="concurrencyLimit"/> at a time, and the endpoint's prefetch
    /// and concurrency sized so that full batches can form. A failed batch is retried as a whole (each of its
    /// messages is retried, and they meet again in one batch), then lands in <c>_error</c>.
    /// </summary>
    public static void UseEventBatches<TConsumer>(this IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<TConsumer> consumer,
        int concurrencyLimit)
        where TConsumer : class, IConsumer<Batch<IWebphoneEvent>>
    {
        consumer.Options<BatchOptions>(options => options
            .SetMessageLimit(MessageLimit)
            .SetTimeLimit(TimeLimit)
            .SetTimeLimitStart(BatchTimeLimitStart.FromFirst)
            .SetConcurrencyLimit(concurrencyLimit));
        // A message holds its slot until its batch is written: room for one more batch, so the next one fills meanwhile.
        endpoint.ConcurrentMessageLimit = MessageLimit * (concurrencyLimit + 1);
        endpoint.PrefetchCount = MessageLimit * (concurrencyLimit + 2);
        endpoint.UseStoreRetry();
    }

    /// <summary>
    /// Writes the batch's events in one unit of work. If that fails, writes them one by one, so a poison event
    /// cannot keep the good events of its batch out of the store, then rethrows if any failed: the batch is retried and
    /// finally lands in <c>_error</c> as a whole, but every write is idempotent on the event id, so the events
    /// already written have their effect once and moving them back from <c>_error</c> is harmless. When the
    /// first events fail alone too, the store itself is failing: it stops there and lets the retry wait.
    /// </summary>
    public static async Task WriteAsync(IReadOnlyList<IWebphoneEvent> events, Func<IReadOnlyList<IWebphoneEvent>, Task> write)
    {
        try
        {
            await write(events);
        }
        catch (Exception) when (events.Count > 1)
        {
            var written = 0;
            var failed = 0;
            foreach (var message in events)
            {
                try
                {
                    await write([message]);
                    written++;
                }
                catch (Exception) when (++failed < StoreDownAfter || written > 0)
                {
                }
            }

            if (failed > 0)
            {
                throw;
            }
        }
    }

    private const int StoreDownAfter = 3;

    /// <summary>The batch's events, each (tenant, event id) once: a duplicate in one batch is still one event.</summary>
    public static List<IWebphoneEvent> DistinctEvents(this Batch<IWebphoneEvent> batch) =>
        batch.Select(context => context.Message).DistinctBy(message => (message.TenantId, message.EventId)).ToList();
}
