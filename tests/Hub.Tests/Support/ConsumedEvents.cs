using System.Collections.Concurrent;
using Hub.Contracts;
using MassTransit;

namespace Hub.Tests.Support;

/// <summary>
/// Signals each (receive endpoint, event id) once its consumer finished with it. Every consumer has its
/// own endpoint, so this says exactly "the call log has logged event X". MassTransit's harness lists
/// cannot: the bus-wide one keeps one entry per message, and a consumer harness wakes its waiters only
/// on later bus activity.
/// </summary>
public sealed class ConsumedEvents : IConsumeObserver
{
    private readonly ConcurrentDictionary<(string Endpoint, Guid EventId, int Delivery), TaskCompletionSource> _done = new();
    private readonly ConcurrentDictionary<(string Endpoint, Guid EventId), int> _deliveries = new();
    private readonly ConcurrentDictionary<(string Endpoint, Guid EventId), Exception> _faults = new();

    /// <summary>Waits until <paramref name="endpoint"/> finished with the event <paramref name="delivery"/> times (a redelivery is a second).</summary>
    public async Task WaitAsync(string endpoint, Guid eventId, TimeSpan timeout, int delivery = 1)
    {
        try
        {
            await Signal(endpoint, eventId, delivery).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var fault = _faults.TryGetValue((endpoint, eventId), out var exception) ? $" Last fault: {exception}" : "";
            Assert.Fail($"{endpoint} did not consume event {eventId} {delivery} time(s) within {timeout.TotalSeconds} s.{fault}");
        }
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        foreach (var message in EventsOf(context))
        {
            var endpoint = EndpointOf(context);
            var delivery = _deliveries.AddOrUpdate((endpoint, message.EventId), 1, (_, count) => count + 1);
            Signal(endpoint, message.EventId, delivery).TrySetResult();
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
    {
        foreach (var message in EventsOf(context))
        {
            _faults[(EndpointOf(context), message.EventId)] = exception;
        }

        return Task.CompletedTask;
    }

    private TaskCompletionSource Signal(string endpoint, Guid eventId, int delivery) =>
        _done.GetOrAdd((endpoint, eventId, delivery), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>The event a consumer took alone, or each event of a batch it took (finished when the batch is).</summary>
    private static IEnumerable<IWebphoneEvent> EventsOf<T>(ConsumeContext<T> context) where T : class => context.Message switch
    {
        IWebphoneEvent message => [message],
        Batch<IWebphoneEvent> batch => batch.Select(item => item.Message),
        _ => [],
    };

    /// <summary>The queue name: the last path segment (on RabbitMQ the path starts with the virtual host).</summary>
    private static string EndpointOf(ConsumeContext context) => context.ReceiveContext.InputAddress.Segments[^1];
}
