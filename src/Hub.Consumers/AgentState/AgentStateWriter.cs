using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Hub.Contracts;

namespace Hub.Consumers.AgentState;

/// <summary>
/// Keeps each agent's webphone state (registered, current call) for presence. Every update is guarded
/// by the event's time, so a late or repeated event never overwrites a newer state, and a batch's events
/// are applied in one command inside the batch's transaction.
/// </summary>
public sealed partial class AgentStateWriter
{
    public static async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IWebphoneEvent> batch,
        CancellationToken cancellationToken)
    {
        // Agent by agent (each agent's events keep their order): concurrent batches lock agents' rows in one
        // global order, so they cannot deadlock.
        var events = batch.OrderBy(message => message.TenantId, StringComparer.Ordinal).ThenBy(message => message.AgentId, StringComparer.Ordinal).ToList();
        // All of the batch's statements in one command: one round trip (both providers run them in order).
        var sql = new StringBuilder();
        var parameters = new DynamicParameters();
        for (var i = 0; i < events.Count; i++)
        {
            var message = events[i];
            var suffix = "_" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(Parameter().Replace(Update(message), "$0" + suffix)).Append(";\n");
            parameters.Add("TenantId" + suffix, message.TenantId);
            parameters.Add("AgentId" + suffix, message.AgentId);
            parameters.Add("CallId" + suffix, message.CallId);
            parameters.Add("at" + suffix, message.OccurredAt.ToUnixTimeMilliseconds());
            parameters.Add("registered" + suffix, message.Type == "registered" ? 1 : 0);
        }

        await connection.ExecuteAsync(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: cancellationToken));
    }

    [GeneratedRegex(@"@\w+")]
    private static partial Regex Parameter();

    /// <summary>The update for one event; its parameters are @TenantId, @AgentId, @CallId, @at and @registered.</summary>
    private static string Update(IWebphoneEvent message)
    {
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

        return sql;
    }
}
