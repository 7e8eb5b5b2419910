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
    private readonly ConcurrentDictionary<(string Endpoint, Guid EventId), TaskCompletionSource> _done = new();
    private readonly ConcurrentDictionary<(string Endpoint, Guid EventId), Exception> _faults = new();

    public async Task WaitAsync(string endpoint, Guid eventId, TimeSpan timeout)
    {
        try
        {
            await Signal(endpoint, eventId).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var fault = _faults.TryGetValue((endpoint, eventId), out var exception) ? $" Last fault: {exception}" : "";
            Assert.Fail($"{endpoint} did not consume event {eventId} within {timeout.TotalSeconds} s.{fault}");
        }
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        foreach (var message in EventsOf(context))
        {
            Signal(EndpointOf(context), message.EventId).TrySetResult();
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

    private TaskCompletionSource Signal(string endpoint, Guid eventId) =>
        _done.GetOrAdd((endpoint, eventId), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

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
