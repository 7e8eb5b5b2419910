using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Workers.Batching;
using MassTransit;

namespace Hub.Workers.AgentState;

/// <summary>
/// Keeps each agent's webphone state (registered, current call) for presence. Every update is guarded
/// by the event's time, so a late or repeated event never overwrites a newer state, and a batch's events
/// can be applied in any order (one statement each, one transaction per batch).
/// </summary>
public sealed class AgentStateConsumer(HubDatabase database) : IConsumer<Batch<IWebphoneEvent>>
{
    public Task Consume(ConsumeContext<Batch<IWebphoneEvent>> context) =>
        EventBatches.WriteAsync(context.Message.DistinctEvents(), events => ApplyAsync(events, context.CancellationToken));

    private async Task ApplyAsync(IReadOnlyList<IWebphoneEvent> events, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var message in events)
        {
            var (sql, args) = Update(message);
            await connection.ExecuteAsync(new CommandDefinition(sql, args, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static (string Sql, object Args) Update(IWebphoneEvent message)
    {
        var args = new
        {
            message.TenantId,
            message.AgentId,
            message.CallId,
            at = message.OccurredAt.ToUnixTimeMilliseconds(),
            registered = message.Type == "registered" ? 1 : 0,
        };

        var sql = message.Type switch
        {
            "registered" or "unregistered" or "registration_failed" =>
                """
                INSERT INTO agents (tenant_id, agent_id, registered, registered_at, last_seen_at)
                VALUES (@TenantId, @AgentId, @registered, @at, @at)
                ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                    registered = CASE WHEN excluded.registered_at >= agents.registered_at THEN excluded.registered ELSE agents.registered END,
                    registered_at = CASE WHEN excluded.registered_at >= agents.registered_at THEN excluded.registered_at ELSE agents.registered_at END,
                    last_seen_at = CASE WHEN excluded.last_seen_at > agents.last_seen_at THEN excluded.last_seen_at ELSE agents.last_seen_at END
                """,
            "incoming_call" or "outgoing_call" or "call_answered" when message.CallId is not null =>
                """
                INSERT INTO agents (tenant_id, agent_id, registered, current_call_id, call_state_at, last_seen_at)
                VALUES (@TenantId, @AgentId, 1, @CallId, @at, @at)
                ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                    current_call_id = CASE WHEN excluded.call_state_at >= agents.call_state_at THEN excluded.current_call_id ELSE agents.current_call_id END,
                    call_state_at = CASE WHEN excluded.call_state_at >= agents.call_state_at THEN excluded.call_state_at ELSE agents.call_state_at END,
                    last_seen_at = CASE WHEN excluded.last_seen_at > agents.last_seen_at THEN excluded.last_seen_at ELSE agents.last_seen_at END
                """,
            "call_hangup" when message.CallId is not null =>
                """
                INSERT INTO agents (tenant_id, agent_id, registered, current_call_id, call_state_at, last_seen_at)
                VALUES (@TenantId, @AgentId, 1, NULL, @at, @at)
                ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                    current_call_id = CASE WHEN agents.current_call_id = @CallId AND excluded.call_state_at >= agents.call_state_at THEN NULL ELSE agents.current_call_id END,
                    call_state_at = CASE WHEN agents.current_call_id = @CallId AND excluded.call_state_at >= agents.call_state_at THEN excluded.call_state_at ELSE agents.call_state_at END,
                    last_seen_at = CASE WHEN excluded.last_seen_at > agents.last_seen_at THEN excluded.last_seen_at ELSE agents.last_seen_at END
                """,
            _ =>
                """
                INSERT INTO agents (tenant_id, agent_id, last_seen_at) VALUES (@TenantId, @AgentId, @at)
                ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                    last_seen_at = CASE WHEN excluded.last_seen_at > agents.last_seen_at THEN excluded.last_seen_at ELSE agents.last_seen_at END
                """,
        };

        return (sql, args);
    }
}
