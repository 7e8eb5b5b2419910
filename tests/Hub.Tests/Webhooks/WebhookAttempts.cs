using System.Collections.Concurrent;
using Hub.Consumers.Webhooks;
using MassTransit;

namespace Hub.Tests.Webhooks;

/// <summary>
/// Signals when the delivery consumer has recorded an attempt (its result is in the store), per webhook-id:
/// what a test awaits before it reads the delivery log or the webhook's state.
/// </summary>
public sealed class WebhookAttempts : IConsumeObserver
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Id, int Count), TaskCompletionSource> _waiters = new();

    public async Task RecordedAsync(string webhookId, int count)
    {
        var signal = _waiters.GetOrAdd((webhookId, count), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_counts.TryGetValue(webhookId, out var done) && done >= count)
        {
            return;
        }

        try
        {
            await signal.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Attempt {count} of {webhookId} was not recorded in time (recorded: {_counts.GetValueOrDefault(webhookId)}).");
        }
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.Message is DeliverWebhook message)
        {
            var count = _counts.AddOrUpdate(message.DeliveryId, 1, (_, n) => n + 1);
            for (var i = 1; i <= count; i++)
            {
                _waiters.GetOrAdd((message.DeliveryId, i), _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
