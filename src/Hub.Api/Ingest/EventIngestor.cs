using System.Text.Json;
using Hub.Api.Telemetry;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Ingest;

/// <summary>
/// Puts relay events on the bus: validates them here and hands the valid ones to <see cref="IngestQueue"/>.
/// The ack is the hub's promise that the event will not be lost, so it is given only after the publish
/// completed (broker-confirmed on RabbitMQ). An event id is remembered only after its publish, so a crash
/// in between makes the relay's resend publish again rather than be told "duplicate" for an event that
/// never reached the bus; consumers are idempotent on the id, so a second publish has no second effect.
/// </summary>
public sealed class EventIngestor(IngestQueue queue, HubApiMetrics metrics)
{
    public const int MaxBatchSize = 500;

    public async Task<PublishAck> PublishAsync(string tenantId, string agentId, JsonElement raw)
    {
        if (!EnvelopeValidator.TryValidate(raw, out var envelope, out var error))
        {
            metrics.Event(TypeOf(raw), "rejected");
            throw new HubException(error);
        }

        var acks = await IngestAsync(tenantId, agentId, [envelope!]);
        return acks[0];
    }

    public async Task<IReadOnlyList<PublishAck>> PublishBatchAsync(string tenantId, string agentId, JsonElement raw)
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
                metrics.Event(TypeOf(item), "rejected");
                acks[index] = new PublishAck(EventIdOf(item), PublishAck.Rejected, error);
            }

            index++;
        }

        var ingested = await IngestAsync(tenantId, agentId, valid.Select(v => v.Envelope).ToList());
        for (var i = 0; i < valid.Count; i++)
        {
            acks[valid[i].Index] = ingested[i];
        }

        return acks!;
    }

    private async Task<IReadOnlyList<PublishAck>> IngestAsync(string tenantId, string agentId, IReadOnlyList<EventEnvelope> envelopes) =>
        envelopes.Count == 0 ? [] : await queue.IngestAsync(tenantId, agentId, envelopes);

    private static string TypeOf(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()!
            : "other";

    private static string? EventIdOf(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("event_id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;
}
