using System.Diagnostics;
using System.Threading.Channels;
using Hub.Api.Infrastructure;
using Hub.Api.Telemetry;
using Hub.Store;
using Hub.Consumers.WebphoneEvents;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hub.Api.Ingest;

/// <summary>
/// Writes the relay events of every connection on this node in groups. The <c>Publish</c> calls that
/// arrive while a group is being written wait together for the next one, so a hundred agents publishing
/// at once cost one insert and one commit instead of a hundred of each; an idle hub takes a single event
/// at once. A group claims its event ids (<see cref="EventIdClaims"/>): an id that is not new is a
/// <c>duplicate</c> and is not published; an event is acked only after its confirmed publish, and an id whose
/// publish failed is not remembered, so the relay's resend is accepted and published again (consumers are
/// idempotent on the id). A crash before the claim's commit remembers nothing. The queue holds at most one call
/// per SignalR invocation in flight, so it is bounded by the connections.
/// </summary>
/// <remarks>In the embedded default each event also waits for room in the in-process <see cref="EventBacklog"/>.</remarks>
public sealed class IngestQueue(EventIdClaims claims, ConfirmedPublisher publisher, IOptions<HubSettings> settings, TimeProvider clock,
    HubApiMetrics metrics, ILogger<IngestQueue> logger, EventBacklog? backlog = null)
    : BackgroundService
{
    /// <summary>Groups are cut at about this many events: one insert each.</summary>
    private const int MaxGroupEvents = 500;

    /// <summary>Groups written at once: while one waits for the broker's confirms, the next one fills.</summary>
    private const int Writers = 4;

    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>();

    public async Task<PublishAck[]> IngestAsync(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes)
    {
        // The embedded default's slots are taken per call, before the call joins a group, so one call waiting
        // for room never holds up the others of its group.
        var slots = backlog is null ? 0 : envelopes.Sum(envelope => backlog.SlotsFor(WebphoneEventFactory.MessageTypeFor(envelope.Type)));
        // In the tenant's name: a tenant holds at most its fair share, so another tenant's events still find room.
        if (backlog is not null && !await backlog.EnterAsync(tenantId, slots, settings.Value.PublishTimeout))
        {
            logger.LogWarning("The in-process backlog ({Capacity}) has no room for {TenantId}; refusing {Count} events",
                backlog.Capacity, tenantId, envelopes.Count);
            CountRefused(envelopes);
            throw new HubException("bus_unavailable: the hub is behind writing events; keep the event and retry");
        }

        var pending = new Pending(tenantId, agentId, envelopes, slots);
        if (!_pending.Writer.TryWrite(pending))
        {
            backlog?.Leave(tenantId, slots);
            CountRefused(envelopes);
            throw new HubException("bus_unavailable: this hub node is shutting down; keep the event and retry");
        }

        return await pending.Done.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteGroupsAsync, CancellationToken.None)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Calls already queued are still written (each within the publish timeout); new ones are refused.
        _pending.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteGroupsAsync()
    {
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync())
        {
            var group = new List<Pending>();
            var events = 0;
            while (events < MaxGroupEvents && reader.TryRead(out var next))
            {
                group.Add(next);
                events += next.Envelopes.Count;
            }

            if (group.Count == 0)
            {
                continue;
            }

            try
            {
                await WriteAsync(group);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Writing a group of {Count} relay events failed", events);
                // Nothing of the group was acked: the relay keeps its events and sends them again.
                var refusal = new HubException("bus_unavailable: the hub could not put the event on the bus; keep it and retry");
                foreach (var pending in group)
                {
                    if (pending.Done.TrySetException(refusal))
                    {
                        CountRefused(pending.Envelopes);
                    }
                }
            }
        }
    }

    private async Task WriteAsync(List<Pending> group)
    {
        // The same id twice in the group (in one call or in two) is a duplicate too, as it would be in turn.
        var inGroup = new HashSet<(string TenantId, Guid EventId)>();
        var candidates = new List<int>[group.Count];
        for (var g = 0; g < group.Count; g++)
        {
            var pending = group[g];
            candidates[g] = [];
            for (var i = 0; i < pending.Envelopes.Count; i++)
            {
                var eventId = pending.Envelopes[i].EventId;
                pending.Acks[i] = new PublishAck(eventId.ToString(), PublishAck.Duplicate);
                if (inGroup.Add((pending.TenantId, eventId)))
                {
                    candidates[g].Add(i);
                }
            }
        }

        // Slots still held here, per call (each in its tenant's name); a published event's slots are given back by
        // the endpoints that consume it instead.
        var heldSlots = group.Select(pending => pending.Slots).ToArray();
        try
        {
            var receivedAt = clock.GetUtcNow();
            var ids = Enumerable.Range(0, group.Count)
                .SelectMany(g => candidates[g].Select(i => (group[g].TenantId, group[g].Envelopes[i].EventId)))
                .ToList();
            await using var claim = await claims.ClaimAsync(ids, receivedAt.ToUnixTimeMilliseconds());
            var claimed = claim.Claimed;

            var publishes = new List<Task>[group.Count];
            for (var g = 0; g < group.Count; g++)
            {
                var pending = group[g];
                publishes[g] = [];
                // An id already seen, or claimed by a concurrent call that committed first, goes nowhere.
                foreach (var i in candidates[g].Where(i => claimed.Contains((pending.TenantId, pending.Envelopes[i].EventId))))
                {
                    var slots = backlog is null ? 0 : backlog.SlotsFor(WebphoneEventFactory.MessageTypeFor(pending.Envelopes[i].Type));
                    heldSlots[g] -= slots;
                    pending.Acks[i] = pending.Acks[i] with { Status = PublishAck.Accepted };
                    publishes[g].Add(PublishAsync(WebphoneEventFactory.Create(pending.Envelopes[i], pending.TenantId, pending.AgentId, receivedAt),
                        pending.Envelopes[i].Type, pending.TenantId, slots, pending.Caller));
                }
            }

            var published = new List<Pending>();
            var unpublished = new List<Pending>();
            for (var g = 0; g < group.Count; g++)
            {
                var tasks = publishes[g];
                try
                {
                    await Task.WhenAll(tasks);
                    published.Add(group[g]);
                }
                catch (BusUnavailableException exception)
                {
                    logger.LogWarning(exception, "Publishing {Count} events of {TenantId}/{AgentId} failed", tasks.Count, group[g].TenantId, group[g].AgentId);
                    unpublished.Add(group[g]);
                    group[g].Done.TrySetException(new HubException("bus_unavailable: the message bus did not confirm the event; keep it and retry"));
                    CountRefused(group[g].Envelopes);
                }
            }

            // An event is remembered only once it is on the bus: the relay's resend of one that is not is accepted again.
            await claim.CommitAsync(unpublished.SelectMany(pending => pending.Acks
                .Where(ack => ack.Status == PublishAck.Accepted)
                .Select(ack => (pending.TenantId, Guid.Parse(ack.EventId!)))));
            foreach (var pending in published)
            {
                pending.Done.TrySetResult(pending.Acks);
                for (var i = 0; i < pending.Acks.Length; i++)
                {
                    metrics.Event(pending.Envelopes[i].Type, pending.Acks[i].Status);
                }
            }
        }
        finally
        {
            for (var g = 0; g < group.Count; g++)
            {
                if (heldSlots[g] > 0)
                {
                    backlog?.Leave(group[g].TenantId, heldSlots[g]);
                }
            }
        }
    }

    private async Task PublishAsync(object message, string type, string tenantId, int slots, ActivityContext? caller)
    {
        // Written by a group writer, not in the hub invocation: its span is made the invocation's child by hand, so the
        // bus (which propagates the current span) carries the relay's trace on to the workers and the screen-pop.
        using var activity = HubApiMetrics.Activities.StartActivity(HubApiMetrics.PublishSpanName(type), ActivityKind.Internal, caller ?? default);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await publisher.PublishAsync(message, CancellationToken.None);
            metrics.Published(Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            // Not on the bus, so no endpoint will ever give this event's slots back.
            backlog?.Leave(tenantId, slots);
            throw;
        }
    }

    private void CountRefused(IReadOnlyList<EventEnvelope> envelopes)
    {
        foreach (var envelope in envelopes)
        {
            metrics.Event(envelope.Type, "refused");
        }
    }

    private sealed class Pending(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes, int slots)
    {
        /// <summary>The hub invocation's span (<c>Publish</c>), if traced: the parent of each event's publish.</summary>
        public ActivityContext? Caller { get; } = Activity.Current?.Context;

        /// <summary>The embedded default's backlog slots this call holds.</summary>
        public int Slots { get; } = slots;

        public string TenantId { get; } = tenantId;
        public string AgentId { get; } = agentId;
        public IReadOnlyList<EventEnvelope> Envelopes { get; } = envelopes;
        public PublishAck[] Acks { get; } = new PublishAck[envelopes.Count];

        // Continuations run on their own threads, not inside the writer's loop.
        public TaskCompletionSource<PublishAck[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
