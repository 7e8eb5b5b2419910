using System.Threading.Channels;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Workers.Events;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hub.Api.Ingest;

/// <summary>
/// Writes the relay events of every connection on this node in groups. The <c>Publish</c> calls that
/// arrive while a group is being written wait together for the next one, so a hundred agents publishing
/// at once cost one dedupe query and one insert instead of a hundred of each; an idle hub takes a single
/// event at once. The rules are <see cref="EventIngestor"/>'s: an event is acked only after its publish
/// was confirmed, and its id is remembered only after that, so a crash in between makes the relay's
/// resend publish again (consumers are idempotent on the id) rather than be told "duplicate".
/// The queue holds at most one call per SignalR invocation in flight, so it is bounded by the connections.
/// </summary>
/// <remarks>In the embedded default each event also waits for room in the in-process <see cref="EventBacklog"/>.</remarks>
public sealed class IngestQueue(HubDatabase database, ConfirmedPublisher publisher, IOptions<HubSettings> settings, TimeProvider clock,
    ILogger<IngestQueue> logger, EventBacklog? backlog = null)
    : BackgroundService
{
    /// <summary>Groups are cut at about this many events: one dedupe query and one insert each.</summary>
    private const int MaxGroupEvents = 500;

    /// <summary>Groups written at once: while one waits for the broker's confirms, the next one fills.</summary>
    private const int Writers = 4;

    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>();

    public Task<PublishAck[]> IngestAsync(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes)
    {
        var pending = new Pending(tenantId, agentId, envelopes);
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new HubException("bus_unavailable: this hub node is shutting down; keep the event and retry");
        }

        return pending.Done.Task;
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
                foreach (var pending in group)
                {
                    pending.Done.TrySetException(exception);
                }
            }
        }
    }

    private async Task WriteAsync(List<Pending> group)
    {
        var seen = await SeenAsync(group);

        // The same id twice (in one call or in two calls of the group) is a duplicate too, as it would be in turn.
        var receivedAt = clock.GetUtcNow();
        var publishes = new List<Task>[group.Count];
        for (var g = 0; g < group.Count; g++)
        {
            var pending = group[g];
            publishes[g] = [];
            for (var i = 0; i < pending.Envelopes.Count; i++)
            {
                var eventId = pending.Envelopes[i].EventId.ToString();
                var accepted = seen.Add((pending.TenantId, eventId));
                pending.Acks[i] = new PublishAck(eventId, accepted ? PublishAck.Accepted : PublishAck.Duplicate);
                if (accepted)
                {
                    publishes[g].Add(PublishAsync(WebphoneEventFactory.Create(pending.Envelopes[i], pending.TenantId, pending.AgentId, receivedAt)));
                }
            }
        }

        var published = new List<Pending>();
        for (var g = 0; g < group.Count; g++)
        {
            try
            {
                await Task.WhenAll(publishes[g]);
                published.Add(group[g]);
            }
            catch (BusUnavailableException exception)
            {
                logger.LogWarning(exception, "Publishing {Count} events of {TenantId}/{AgentId} failed", publishes[g].Count, group[g].TenantId, group[g].AgentId);
                group[g].Done.TrySetException(new HubException("bus_unavailable: the message bus did not confirm the event; keep it and retry"));
            }
        }

        await RememberAsync(published, receivedAt.ToUnixTimeMilliseconds());
        foreach (var pending in published)
        {
            pending.Done.TrySetResult(pending.Acks);
        }
    }

    private async Task PublishAsync(object message)
    {
        if (backlog is null)
        {
            await publisher.PublishAsync(message, CancellationToken.None);
            return;
        }

        if (!await backlog.EnterAsync(settings.Value.PublishTimeout))
        {
            throw new BusUnavailableException(new TimeoutException($"{backlog.Capacity} acked events are still waiting for the store."));
        }

        try
        {
            await publisher.PublishAsync(message, CancellationToken.None);
        }
        catch
        {
            // Not on the bus, so the hub-events endpoint will never give this slot back.
            backlog.Leave();
            throw;
        }
    }

    private async Task<HashSet<(string TenantId, string EventId)>> SeenAsync(List<Pending> group)
    {
        var tenants = group.Select(pending => pending.TenantId).Distinct(StringComparer.Ordinal).ToList();
        var ids = group.SelectMany(pending => pending.Envelopes.Select(envelope => envelope.EventId.ToString())).Distinct(StringComparer.Ordinal).ToList();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var seen = await connection.QueryAsync<(string TenantId, string EventId)>(new CommandDefinition(
            $"SELECT tenant_id, event_id FROM ingested_events WHERE tenant_id {database.InList("tenants")} AND event_id {database.InList("ids")}",
            new { tenants, ids }));
        return seen.ToHashSet();
    }

    private async Task RememberAsync(List<Pending> published, long receivedAt)
    {
        var rows = published
            .SelectMany(pending => pending.Acks.Where(ack => ack.Status == PublishAck.Accepted).Select(ack => (pending.TenantId, EventId: ack.EventId!)))
            .ToList();
        if (rows.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenAsync(CancellationToken.None);
        foreach (var chunk in rows.Chunk(MaxGroupEvents))
        {
            var (values, parameters) = SqlRows.Values(chunk, row => [row.TenantId, row.EventId, receivedAt]);
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO ingested_events (tenant_id, event_id, received_at) VALUES {values} ON CONFLICT (tenant_id, event_id) DO NOTHING",
                parameters));
        }
    }

    private sealed class Pending(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes)
    {
        public string TenantId { get; } = tenantId;
        public string AgentId { get; } = agentId;
        public IReadOnlyList<EventEnvelope> Envelopes { get; } = envelopes;
        public PublishAck[] Acks { get; } = new PublishAck[envelopes.Count];

        // Continuations run on their own threads, not inside the writer's loop.
        public TaskCompletionSource<PublishAck[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
