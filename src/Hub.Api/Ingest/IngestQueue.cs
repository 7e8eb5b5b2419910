using System.Diagnostics;
using System.Threading.Channels;
using System.Data.Common;
using Dapper;
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
/// at once. A group claims its event ids by inserting them in a transaction that stays open until the
/// broker confirmed their publishes: an id already there, or claimed by a concurrent call (another group,
/// another Api node, which waits for that commit), is a <c>duplicate</c> and is not published; an event is
/// acked only after its confirmed publish, and an id whose publish failed is not remembered, so the relay's
/// resend is accepted and published again (consumers are idempotent on the id). A crash before the commit
/// remembers nothing. While the database cannot be reached, groups are published without claiming their ids
/// (API.md: the store is not needed to accept an event while the broker is up); a resend is then accepted
/// again, and still has one effect. The queue holds at most one call per SignalR invocation in flight, so it
/// is bounded by the connections.
/// </summary>
/// <remarks>In the embedded default each event also waits for room in the in-process <see cref="EventBacklog"/>.</remarks>
public sealed class IngestQueue(HubDatabase database, ConfirmedPublisher publisher, IOptions<HubSettings> settings, TimeProvider clock,
    HubApiMetrics metrics, StoreMetrics storeMetrics, ILogger<IngestQueue> logger, EventBacklog? backlog = null)
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
            await using var claim = await ClaimOrSkipAsync(group, candidates, receivedAt.ToUnixTimeMilliseconds());
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
            await CommitAsync(claim, unpublished);
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
        using var activity = HubApiMetrics.Activities.StartActivity("publish " + type, ActivityKind.Internal, caller ?? default);
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

    /// <summary>
    /// Claims the group's candidate ids in an open transaction; when the database cannot be reached, takes them all
    /// as new, unremembered.
    /// </summary>
    private async Task<Claim> ClaimOrSkipAsync(List<Pending> group, List<int>[] candidates, long receivedAt)
    {
        DbConnection? connection = null;
        DbTransaction? transaction = null;
        try
        {
            connection = await database.OpenAsync(CancellationToken.None);
            transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            return new Claim(connection, transaction, await ClaimAsync(connection, transaction, group, candidates, receivedAt));
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            storeMetrics.Error(exception);
            logger.LogWarning("The database is unavailable ({Error}); publishing {Count} events without remembering their ids",
                exception.Message, candidates.Sum(c => c.Count));
            await DisposeQuietlyAsync(transaction, connection);
            var all = Enumerable.Range(0, group.Count).SelectMany(g => candidates[g].Select(i => (group[g].TenantId, group[g].Envelopes[i].EventId)));
            return new Claim(null, null, [.. all]);
        }
        catch
        {
            await DisposeQuietlyAsync(transaction, connection);
            throw;
        }
    }

    private static async Task DisposeQuietlyAsync(DbTransaction? transaction, DbConnection? connection)
    {
        try
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            // A broken connection's rollback cannot reach the server either; the server drops the transaction itself.
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Forgets the ids whose publish failed and commits. The published events are on the bus whatever happens here,
    /// so a database lost now is no reason to withhold their acks: their ids are just not remembered.
    /// </summary>
    private async Task CommitAsync(Claim claim, List<Pending> unpublished)
    {
        if (claim is not { Connection: { } connection, Transaction: { } transaction })
        {
            return;
        }

        try
        {
            await ForgetAsync(connection, transaction, unpublished);
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception exception) when (HubDatabase.IsUnavailable(exception))
        {
            storeMetrics.Error(exception);
            logger.LogWarning("The database became unavailable before a group's ids were committed ({Error}); they are not remembered",
                exception.Message);
        }
    }

    /// <summary>A group's claimed ids, and the open transaction that keeps them (none when the database was unavailable).</summary>
    private sealed record Claim(DbConnection? Connection, DbTransaction? Transaction, HashSet<(string TenantId, Guid EventId)> Claimed)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await DisposeQuietlyAsync(Transaction, Connection);
    }

    /// <summary>
    /// Inserts the ids, inside the group's transaction, and returns those that were new. A concurrent call with
    /// the same id (another group, another node) waits on the uncommitted row and then finds it: exactly one is accepted.
    /// </summary>
    private async Task<HashSet<(string TenantId, Guid EventId)>> ClaimAsync(DbConnection connection, DbTransaction transaction,
        List<Pending> group, List<int>[] candidates, long receivedAt)
    {
        var rows = Enumerable.Range(0, group.Count)
            .SelectMany(g => candidates[g].Select(i => (group[g].TenantId, EventId: group[g].Envelopes[i].EventId.ToString())))
            .ToList();
        var claimed = new HashSet<(string TenantId, Guid EventId)>();
        foreach (var chunk in rows.Chunk(MaxGroupEvents))
        {
            var (values, parameters) = SqlRows.Of(database.Dialect, chunk, ["text", "text", "bigint"], row => [row.TenantId, row.EventId, receivedAt]);
            var inserted = await connection.QueryAsync<(string TenantId, string EventId)>(new CommandDefinition(
                $"INSERT INTO ingested_events (tenant_id, event_id, received_at) {values} ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING tenant_id, event_id",
                parameters, transaction));
            claimed.UnionWith(inserted.Select(row => (row.TenantId, Guid.Parse(row.EventId))));
        }

        return claimed;
    }

    private async Task ForgetAsync(DbConnection connection, DbTransaction transaction, List<Pending> unpublished)
    {
        foreach (var pending in unpublished)
        {
            var ids = pending.Acks.Where(ack => ack.Status == PublishAck.Accepted).Select(ack => ack.EventId!).ToList();
            await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM ingested_events WHERE tenant_id = @TenantId AND event_id {database.InList("ids")}",
                new { pending.TenantId, ids }, transaction));
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
