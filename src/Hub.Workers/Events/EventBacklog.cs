using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Workers.Events;

/// <summary>
/// The events the embedded default has acked but not yet fully consumed. Its bus is in memory: an acked event
/// waits in this process until its consumers have written it, so an Api that acked faster than the store writes
/// would grow memory without bound in a burst, and every event waiting there would be lost with the process.
/// The Api takes a slot per delivery before publishing (<see cref="SlotsFor"/>) and each consuming endpoint gives
/// its slot back once it is done with the message (or it has gone to the error queue); when no slot frees up in
/// time the Api answers <c>bus_unavailable</c> and the relay keeps the event. On RabbitMQ the broker holds the
/// backlog durably and pushes back itself, so nothing registers this.
/// </summary>
public sealed class EventBacklog(int capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();

    // May go above capacity (a message published without a slot, as a test harness does, gives one back all
    // the same) and below zero (a call larger than the whole backlog may enter when it is empty).
    private int _available = capacity;

    public int Capacity { get; } = capacity;

    /// <summary>
    /// Takes <paramref name="count"/> slots at once, in arrival order; false, holding none, when they did not free
    /// up within <paramref name="timeout"/>. All or nothing: callers holding part of what they need while they wait
    /// for the rest could between them hold every slot and wait for each other.
    /// </summary>
    public Task<bool> EnterAsync(int count, TimeSpan timeout)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(count))
            {
                _available -= count;
                return Task.FromResult(true);
            }

            waiter = new Waiter(count);
            waiter.Node = _waiters.AddLast(waiter);
        }

        waiter.Expire(timeout, () =>
        {
            lock (_lock)
            {
                if (waiter.Node.List is null)
                {
                    return;
                }

                _waiters.Remove(waiter.Node);
                waiter.Done.TrySetResult(false);
                // The next ones may fit now that this one no longer blocks the head of the line.
                Grant();
            }
        });
        return waiter.Done.Task;
    }

    public void Leave(int count = 1)
    {
        lock (_lock)
        {
            _available += count;
            Grant();
        }
    }

    private bool Fits(int count) => _available >= Math.Min(count, Capacity);

    private void Grant()
    {
        while (_waiters.First is { } first && Fits(first.Value.Count))
        {
            _available -= first.Value.Count;
            _waiters.RemoveFirst();
            first.Value.Done.TrySetResult(true);
        }
    }

    private sealed class Waiter(int count)
    {
        public int Count { get; } = count;
        public LinkedListNode<Waiter> Node { get; set; } = null!;
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Expire(TimeSpan timeout, Action expire)
        {
            var timer = new CancellationTokenSource(timeout);
            var registration = timer.Token.Register(expire);
            Done.Task.ContinueWith(_ =>
            {
                registration.Dispose();
                timer.Dispose();
            }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The in-process deliveries of an event of this webphone type: every event goes to <c>hub-events</c>; an
    /// <c>incoming_call</c> also goes to <c>hub-screen-pop</c>, whose endpoint gives its own slot back.
    /// </summary>
    public static int SlotsFor(string type) => type == "incoming_call" ? 2 : 1;

    /// <summary>On each consuming endpoint: a message's slot is given back once all its attempts are over.</summary>
    internal sealed class LeaveFilter(EventBacklog backlog) : IFilter<ConsumeContext>
    {
        public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
        {
            try
            {
                await next.Send(context);
            }
            finally
            {
                backlog.Leave();
            }
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("eventBacklog");
    }
}

public static class EventBacklogConfiguration
{
    /// <summary>
    /// In the embedded default, gives each message's backlog slot back when the endpoint is done with it. Configure
    /// it before the retries, so the slot comes back once, after the last attempt.
    /// </summary>
    public static void UseEventBacklog(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        if (context.GetService<EventBacklog>() is { } backlog)
        {
            endpoint.UseFilter(new EventBacklog.LeaveFilter(backlog));
        }
    }
}
