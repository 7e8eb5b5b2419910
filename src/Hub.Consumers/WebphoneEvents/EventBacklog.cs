using Hub.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Consumers.WebphoneEvents;

/// <summary>
/// The events the embedded default has acked but not yet fully consumed. Its bus is in memory: an acked event
/// waits in this process until its consumers have written it, so an Api that acked faster than the store writes
/// would grow memory without bound in a burst, and every event waiting there would be lost with the process.
/// The Api takes a slot per delivery before publishing (<see cref="SlotsFor"/>: one per endpoint that consumes the
/// message, as the endpoints registered themselves) and each of those endpoints gives its slot back once it is done
/// with the message (or it has gone to the error queue); when no slot frees up in
/// time the Api answers <c>bus_unavailable</c> and the relay keeps the event. On RabbitMQ the broker holds the
/// backlog durably and pushes back itself, so nothing registers this.
/// </summary>
public sealed class EventBacklog(int capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();

    /// <summary>The tenants that hold slots or wait for some; a tenant leaves it when it does neither.</summary>
    private readonly Dictionary<string, TenantShare> _tenants = new(StringComparer.Ordinal);

    // May go above capacity (a message published without a slot, as a test harness does, gives one back all the
    // same) and below zero (a call larger than the whole backlog may enter when it is empty).
    private int _available = capacity;

    public int Capacity { get; } = capacity;

    /// <summary>Per endpoint that gives slots back, the message types its consumers take (set as the bus is configured).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type[]> _endpoints = new(StringComparer.Ordinal);

    /// <summary>Slots taken without a tenant: first come first served, no share (a test's or tool's direct use).</summary>
    public Task<bool> EnterAsync(int count, TimeSpan timeout) => EnterAsync(null, count, timeout);

    /// <summary>
    /// Takes <paramref name="count"/> slots at once, in arrival order; false, holding none, when they did not free
    /// up within <paramref name="timeout"/>. All or nothing: callers holding part of what they need while they wait
    /// for the rest could between them hold every slot and wait for each other.
    /// </summary>
    /// <remarks>
    /// A tenant may hold at most its fair share, <see cref="ShareFor"/>: the capacity divided by one more than the
    /// tenants active (holding or waiting). The one more is room kept free for a tenant not yet here, so when one
    /// tenant floods the hub faster than the store writes, another one's publish still finds room at once instead of
    /// queuing behind the flood. A tenant's call that would pass its share waits without blocking other tenants'
    /// calls behind it; a tenant that holds nothing may always enter (as a call larger than the whole backlog may
    /// enter an empty one), so a share smaller than one call does not lock a tenant out.
    /// </remarks>
    public Task<bool> EnterAsync(string? tenantId, int count, TimeSpan timeout)
    {
        var waiter = new Waiter(tenantId, count);
        lock (_lock)
        {
            waiter.Node = _waiters.AddLast(waiter);
            if (tenantId is not null)
            {
                Tenant(tenantId).Waiting++;
            }

            Grant();
            if (waiter.Node.List is null)
            {
                return waiter.Done.Task;
            }
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
                Settle(waiter.TenantId, waiting: -1, held: 0);
                waiter.Done.TrySetResult(false);
                // The next ones may fit now that this one no longer blocks the head of the line.
                Grant();
            }
        });
        return waiter.Done.Task;
    }

    public void Leave(int count = 1) => Leave(null, count);

    /// <summary>Gives back slots <paramref name="tenantId"/> took (null: slots taken without a tenant).</summary>
    public void Leave(string? tenantId, int count)
    {
        lock (_lock)
        {
            _available += count;
            Settle(tenantId, waiting: 0, held: -count);
            Grant();
        }
    }

    /// <summary>The slots this tenant holds now.</summary>
    public int HeldBy(string tenantId)
    {
        lock (_lock)
        {
            return _tenants.GetValueOrDefault(tenantId)?.Held ?? 0;
        }
    }

    /// <summary>The most a tenant may hold while <paramref name="activeTenants"/> tenants (itself included) are active.</summary>
    public int ShareFor(int activeTenants) => Math.Max(1, Capacity / (activeTenants + 1));

    private bool Fits(int count) => _available >= Math.Min(count, Capacity);

    private bool WithinShare(Waiter waiter)
    {
        if (waiter.TenantId is null || _tenants[waiter.TenantId] is not { Held: > 0 } tenant)
        {
            return true;
        }

        return tenant.Held + waiter.Count <= ShareFor(_tenants.Count);
    }

    /// <summary>
    /// Grants waiters in arrival order. One that would pass its tenant's share is passed over (it must not hold up the
    /// other tenants); one within its share that does not fit stops the line, so a large call is not starved by smaller ones.
    /// </summary>
    private void Grant()
    {
        var node = _waiters.First;
        while (node is not null)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (WithinShare(waiter))
            {
                if (!Fits(waiter.Count))
                {
                    return;
                }

                _available -= waiter.Count;
                _waiters.Remove(node);
                Settle(waiter.TenantId, waiting: -1, held: waiter.Count);
                waiter.Done.TrySetResult(true);
            }

            node = next;
        }
    }

    private TenantShare Tenant(string tenantId)
    {
        if (!_tenants.TryGetValue(tenantId, out var tenant))
        {
            tenant = new TenantShare();
            _tenants[tenantId] = tenant;
        }

        return tenant;
    }

    private void Settle(string? tenantId, int waiting, int held)
    {
        if (tenantId is null)
        {
            return;
        }

        var tenant = Tenant(tenantId);
        tenant.Waiting += waiting;
        // Never below zero: a message published without a slot gives one back all the same.
        tenant.Held = Math.Max(0, tenant.Held + held);
        if (tenant is { Held: 0, Waiting: 0 })
        {
            _tenants.Remove(tenantId);
        }
    }

    private sealed class TenantShare
    {
        public int Held { get; set; }
        public int Waiting { get; set; }
    }

    private sealed class Waiter(string? tenantId, int count)
    {
        public string? TenantId { get; } = tenantId;
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
    /// The in-process deliveries of a bus message of this type: one per registered endpoint whose consumers take it
    /// (today every event goes to <c>hub-events</c>, an <c>incoming_call</c> to <c>hub-screen-pop</c> too). Derived
    /// from the consumers, so a new consumer of a message takes and gives back its own slot.
    /// </summary>
    public int SlotsFor(Type message) => _endpoints.Values.Count(consumed => consumed.Any(type => type.IsAssignableFrom(message)));

    /// <summary>An endpoint that gives a slot back for each message it consumes, and the message types it consumes.</summary>
    internal void Register(string endpoint, IEnumerable<Type> consumed) => _endpoints[endpoint] = [.. consumed];

    /// <summary>The messages a consumer takes: <c>T</c> of each <c>IConsumer&lt;T&gt;</c>, and of <c>IConsumer&lt;Batch&lt;T&gt;&gt;</c>.</summary>
    internal static IEnumerable<Type> ConsumedBy(Type consumer) =>
        consumer.GetInterfaces()
            .Where(contract => contract.IsGenericType && contract.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(contract => contract.GetGenericArguments()[0])
            .Select(message => message.IsGenericType && message.GetGenericTypeDefinition() == typeof(Batch<>) ? message.GetGenericArguments()[0] : message);

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
                // The slot was taken in the name of the event's tenant (the consumer has deserialised it by now).
                backlog.Leave(context.TryGetMessage<IWebphoneEvent>(out var message) ? message.Message.TenantId : null, 1);
            }
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("eventBacklog");
    }
}

public static class EventBacklogConfiguration
{
    /// <summary>
    /// In the embedded default, counts this endpoint among those an event takes a slot for (by the messages
    /// <typeparamref name="TConsumer"/> consumes), and gives each message's slot back when the endpoint is done with it.
    /// Configure it before the retries, so the slot comes back once, after the last attempt.
    /// </summary>
    public static void UseEventBacklog<TConsumer>(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
        where TConsumer : class, IConsumer
    {
        if (context.GetService<EventBacklog>() is { } backlog)
        {
            backlog.Register(endpoint.InputAddress.AbsolutePath, EventBacklog.ConsumedBy(typeof(TConsumer)));
            endpoint.UseFilter(new EventBacklog.LeaveFilter(backlog));
        }
    }
}
