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
    // No maximum: an event published without a slot (a test's harness) gives one back all the same.
    private readonly SemaphoreSlim _slots = new(capacity);

    public int Capacity { get; } = capacity;

    /// <summary>Waits for <paramref name="count"/> slots; false, holding none, when they did not free up within <paramref name="timeout"/>.</summary>
    public async Task<bool> EnterAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var taken = 0; taken < count; taken++)
        {
            if (!await _slots.WaitAsync(Max(deadline - DateTime.UtcNow, TimeSpan.Zero)))
            {
                for (; taken > 0; taken--)
                {
                    _slots.Release();
                }

                return false;
            }
        }

        return true;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    public void Leave(int count = 1) => _slots.Release(count);

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
