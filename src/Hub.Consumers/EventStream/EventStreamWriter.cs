using System.Data.Common;
using System.Text.Json;
using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Consumers.WebphoneEvents;

namespace Hub.Consumers.EventStream;

/// <summary>
/// Appends every webphone event to <c>event_stream</c>, the store behind <c>GET /api/v1/events/stream</c>, a
/// batch at a time in the batch's order, inside the batch's transaction. The insert is idempotent on (tenant, event_id): a redelivered or
/// duplicate event keeps its first position. Because the stream lives in the shared store, any Api node can
/// serve (and resume) it.
/// </summary>
public sealed class EventStreamWriter(HubDatabase database)
{
    // Any constant works; it only has to be the same for every appender.
    private const long AppendLockKey = 0x4875_6245_7653_7472; // "HubEvStr"

    /// <summary>Call it last in the transaction: from here until the commit, every other append waits.</summary>
    public async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IWebphoneEvent> events,
        CancellationToken cancellationToken)
    {
        var (values, parameters) = SqlRows.Of(database.Dialect, events, ["text", "text", "text", "text", "text", "bigint", "text"], message => [
            message.TenantId, message.EventId.ToString(), message.Type, message.CallId, message.AgentId,
            message.OccurredAt.ToUnixTimeMilliseconds(),
            JsonSerializer.Serialize(new EventData(message.AgentId, message.CallId, message.Seq, message.Payload)),
        ]);

        if (database.Dialect == SqlDialect.Postgres)
        {
            // Identity values are handed out before commit, so two concurrent appends could become
            // visible out of order and a reader already past the later one would skip the earlier.
            // Appends take turns until commit, so positions become visible in order. (SQLite has one writer.)
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_xact_lock(@AppendLockKey)", new { AppendLockKey }, transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO event_stream (tenant_id, event_id, type, call_id, agent_id, occurred_at, data)
            {values}
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            """, parameters, transaction, cancellationToken: cancellationToken));
    }

    private sealed record EventData(
        [property: System.Text.Json.Serialization.JsonPropertyName("agent_id")] string AgentId,
        [property: System.Text.Json.Serialization.JsonPropertyName("call_id")] string? CallId,
        [property: System.Text.Json.Serialization.JsonPropertyName("seq")] long Seq,
        [property: System.Text.Json.Serialization.JsonPropertyName("payload")] JsonElement Payload);
}
