using System.Data.Common;
using System.Text.Json;
using Dapper;
using Hub.Store;
using Hub.Api.Infrastructure;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Ingest;

/// <summary>
/// Puts relay events on the bus. The ack is the hub's promise that the event will not be lost, so it is
/// given only after the publish completed (broker-confirmed on RabbitMQ). An event id is remembered
/// only after its publish, so a crash in between makes the relay's resend publish again rather than be
/// told "duplicate" for an event that never reached the bus; consumers are idempotent on the id, so a
/// second publish has no second effect.
/// </summary>
public sealed class EventIngestor(HubDatabase database, ConfirmedPublisher publisher, TimeProvider clock, ILogger<EventIngestor> logger)
{
    public const int MaxBatchSize = 500;

    public async Task<PublishAck> PublishAsync(string tenantId, string agentId, JsonElement raw, CancellationToken cancellationToken)
    {
        if (!EnvelopeValidator.TryValidate(raw, out var envelope, out var error))
        {
            throw new HubException(error);
        }

        var acks = await IngestAsync(tenantId, agentId, [envelope!], cancellationToken);
        return acks[0];
    }

    public async Task<IReadOnlyList<PublishAck>> PublishBatchAsync(string tenantId, string agentId, JsonElement raw, CancellationToken cancellationToken)
    {
        if (raw.ValueKind != JsonValueKind.Array)
        {
            throw new HubException("invalid_event: PublishBatch takes an array of envelopes");
        }

        if (raw.GetArrayLength() > MaxBatchSize)
        {
            throw new HubException($"invalid_event: at most {MaxBatchSize} envelopes per batch");
        }

        // An invalid envelope in a batch is answered "rejected" in its place so the valid ones still go through.
        var acks = new PublishAck?[raw.GetArrayLength()];
        var valid = new List<(int Index, EventEnvelope Envelope)>();
        var index = 0;
        foreach (var item in raw.EnumerateArray())
        {
            if (EnvelopeValidator.TryValidate(item, out var envelope, out var error))
            {
                valid.Add((index, envelope!));
            }
            else
            {
                acks[index] = new PublishAck(EventIdOf(item), PublishAck.Rejected, error);
            }

            index++;
        }

        var ingested = await IngestAsync(tenantId, agentId, valid.Select(v => v.Envelope).ToList(), cancellationToken);
        for (var i = 0; i < valid.Count; i++)
        {
            acks[valid[i].Index] = ingested[i];
        }

        return acks!;
    }

    private async Task<IReadOnlyList<PublishAck>> IngestAsync(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes, CancellationToken cancellationToken)
    {
        if (envelopes.Count == 0)
        {
            return [];
        }

        var ids = envelopes.Select(envelope => envelope.EventId.ToString()).ToList();
        HashSet<string> seen;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            seen = (await connection.QueryAsync<string>(new CommandDefinition(
                $"SELECT event_id FROM ingested_events WHERE tenant_id = @tenantId AND event_id {database.InList("ids")}",
                new { tenantId, ids }, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        }

        var acks = new PublishAck[envelopes.Count];
        var toPublish = new List<int>();
        for (var i = 0; i < envelopes.Count; i++)
        {
            // The same id twice in one batch is a duplicate too.
            acks[i] = seen.Add(ids[i]) ? new PublishAck(ids[i], PublishAck.Accepted) : new PublishAck(ids[i], PublishAck.Duplicate);
            if (acks[i].Status == PublishAck.Accepted)
            {
                toPublish.Add(i);
            }
        }

        var receivedAt = clock.GetUtcNow();
        try
        {
            await Task.WhenAll(toPublish.Select(i =>
                publisher.PublishAsync(WebphoneEventFactory.Create(envelopes[i], tenantId, agentId, receivedAt), cancellationToken)));
        }
        catch (BusUnavailableException exception)
        {
            logger.LogWarning(exception, "Publishing {Count} events of {TenantId}/{AgentId} failed", toPublish.Count, tenantId, agentId);
            throw new HubException("bus_unavailable: the message bus did not confirm the event; keep it and retry");
        }

        await RememberAsync(tenantId, toPublish.Select(i => ids[i]).ToList(), receivedAt.ToUnixTimeMilliseconds(), cancellationToken);
        return acks;
    }

    private async Task RememberAsync(string tenantId, IReadOnlyList<string> eventIds, long receivedAt, CancellationToken cancellationToken)
    {
        if (eventIds.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO ingested_events (tenant_id, event_id, received_at) VALUES (@tenantId, @eventId, @receivedAt)
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            """,
            eventIds.Select(eventId => new { tenantId, eventId, receivedAt }), transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private static string? EventIdOf(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("event_id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;
}
