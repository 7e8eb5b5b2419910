using System.Threading.Channels;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Wakes this process's <see cref="WebhookDispatcher"/> when a delivery may have become due (a new event,
/// an attempt's result, a re-enabled endpoint), so a first attempt goes out at once rather than a poll later.
/// </summary>
public sealed class WebhookDispatchSignal
{
    // One pending wake-up is enough: the dispatcher looks at everything that is due when it runs.
    private readonly Channel<bool> _wakeups = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => _wakeups.Writer.TryWrite(true);

    /// <summary>Returns when woken or after <paramref name="timeout"/>, whichever is first.</summary>
    internal async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_wakeups.Reader.TryRead(out _) || timeout <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _wakeups.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout: time to look for scheduled retries.
        }
    }
}
