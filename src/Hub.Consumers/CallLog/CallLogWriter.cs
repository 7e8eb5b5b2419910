using System.Data.Common;
using System.Text.Json;
using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;
using Hub.Consumers.WebphoneEvents;

namespace Hub.Consumers.CallLog;

/// <summary>
/// Logs every call event of a batch and rebuilds the affected call rows from all of their events, inside the
/// batch's transaction: one multi-row insert, one read of the affected calls' events, one multi-row upsert.
/// The event insert is idempotent on (tenant, event_id) and the rebuild is a pure function of the event set,
/// so redelivery, duplicates and any arrival order give the same call record.
/// </summary>
public sealed class CallLogWriter(HubDatabase database, TenantConfigReader configs, TimeProvider clock)
{
    // Click-to-call options reach the call through the dial command when the webphone does not echo them.
    private static readonly TimeSpan DialCorrelationWindow = TimeSpan.FromMinutes(2);

    private static readonly string[] CallEventTypes = ["text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "text", "text", "text"];

    private static readonly string[] CallTypes =
        ["text", "text", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "integer", "integer", "text", "text", "text", "bigint"];

    /// <summary>The default country code of each tenant in the batch. Before the batch's connection: it may read the store.</summary>
    public async Task<IReadOnlyDictionary<string, string>> CountryCodesAsync(IReadOnlyList<IWebphoneEvent> events, CancellationToken cancellationToken)
    {
        var countryCodes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenantId in events.Select(message => message.TenantId).Distinct())
        {
            var config = await configs.ReadCachedAsync(tenantId, cancellationToken);
            countryCodes[tenantId] = configs.CountryCodeOf(config.Config);
        }

        return countryCodes;
    }

    public async Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IWebphoneEvent> batch,
        IReadOnlyDictionary<string, string> countryCodes, CancellationToken cancellationToken)
    {
        var events = batch.Where(message => message.CallId is not null).ToList();
        if (events.Count == 0)
        {
            return;
        }

        if (database.Dialect == SqlDialect.Postgres)
        {
            // Concurrent consumers may hold events of one call; each rebuild must see the other's events, so
            // rebuilds of one call take turns. A batch locks all of its calls at once, in one global order, so
            // two batches waiting for each other's calls cannot deadlock. (SQLite has one writer: they take turns.)
            await connection.ExecuteAsync(new CommandDefinition(
                """
                SELECT pg_advisory_xact_lock(h)
                FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(@keys) AS k ORDER BY h) AS locks
                """,
                new { keys = events.Select(message => message.TenantId + "/" + message.CallId).Distinct().ToArray() },
                transaction, cancellationToken: cancellationToken));
        }

        var rows = new List<object?[]>(events.Count);
        foreach (var message in events)
        {
            var (campaignId, leadId) = message.Type == "outgoing_call"
                ? await FindDialOptionsAsync(connection, transaction, message, countryCodes[message.TenantId], cancellationToken)
                : (null, null);
            rows.Add([
                message.TenantId, message.EventId.ToString(), message.CallId, message.AgentId, message.Type, message.Seq,
                message.OccurredAt.ToUnixTimeMilliseconds(), message.ReceivedAt.ToUnixTimeMilliseconds(), message.Payload.GetRawText(),
                campaignId, leadId,
            ]);
        }

        var (values, parameters) = SqlRows.Of(database.Dialect, rows, CallEventTypes, row => row);
        // Only the calls that got a new event are rebuilt: an event already logged was rebuilt when it committed.
        var changed = (await connection.QueryAsync<(string TenantId, string CallId)>(new CommandDefinition(
            $"""
            INSERT INTO call_events (tenant_id, event_id, call_id, agent_id, type, seq, occurred_at, received_at, payload, campaign_id, lead_id)
            {values}
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            RETURNING tenant_id, call_id
            """, parameters, transaction, cancellationToken: cancellationToken))).Distinct().ToList();
        if (changed.Count == 0)
        {
            return;
        }

        var calls = new List<object?[]>(changed.Count);
        var now = clock.NowMs();
        foreach (var tenant in changed.GroupBy(call => call.TenantId, StringComparer.Ordinal))
        {
            var callIds = tenant.Select(call => call.CallId).ToArray();
            var stored = await connection.QueryAsync<CallEventRow>(new CommandDefinition(
                $"""
                SELECT event_id, call_id, agent_id, type, seq, occurred_at, received_at, payload, campaign_id, lead_id
                FROM call_events WHERE tenant_id = @tenantId AND call_id {database.InList("callIds")}
                """, new { tenantId = tenant.Key, callIds }, transaction, cancellationToken: cancellationToken));
            foreach (var callEvents in stored.GroupBy(row => row.CallId, StringComparer.Ordinal))
            {
                var call = CallRecordBuilder.Build(callEvents.ToList());
                var remote = call.RemoteNumber is null
                    ? null
                    : Phone.Normalise(call.RemoteNumber, countryCodes[tenant.Key])?.E164 ?? call.RemoteNumber;
                calls.Add([
                    tenant.Key, call.CallId, call.AgentId, call.Direction, call.FromNumber, call.ToNumber, remote, call.Status,
                    call.StartedAt, call.AnsweredAt, call.EndedAt, call.RingSeconds, call.Billsec, call.HangupCause, call.CampaignId,
                    call.LeadId, now,
                ]);
            }
        }

        // An erased call (POST /api/v1/privacy/erasures) keeps the record it had: rebuilt from its erased payloads, or
        // from a late event's, it would lose its billsec or get its number back.
        var (callValues, callParameters) = SqlRows.Of(database.Dialect, calls, CallTypes, row => row);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO calls (tenant_id, call_id, agent_id, direction, from_number, to_number, remote_number, status,
                               started_at, answered_at, ended_at, ring_seconds, billsec, hangup_cause, campaign_id, lead_id, updated_at)
            {callValues}
            ON CONFLICT (tenant_id, call_id) DO UPDATE SET
                agent_id = excluded.agent_id, direction = excluded.direction, from_number = excluded.from_number,
                to_number = excluded.to_number, remote_number = excluded.remote_number, status = excluded.status,
                started_at = excluded.started_at, answered_at = excluded.answered_at, ended_at = excluded.ended_at,
                ring_seconds = excluded.ring_seconds, billsec = excluded.billsec, hangup_cause = excluded.hangup_cause,
                campaign_id = excluded.campaign_id, lead_id = excluded.lead_id, updated_at = excluded.updated_at,
                end_reason = NULL
            WHERE calls.erased_at IS NULL
            """, callParameters, transaction, cancellationToken: cancellationToken));
    }

    private async Task<(string? CampaignId, string? LeadId)> FindDialOptionsAsync(
        DbConnection connection, DbTransaction transaction, IWebphoneEvent message,
        string countryCode, CancellationToken cancellationToken)
    {
        var number = WebphonePayload.Read(message.Payload).Number is { } written ? Phone.Normalise(written, countryCode)?.E164 : null;
        if (number is null)
        {
            return (null, null);
        }

        var since = message.OccurredAt.Subtract(DialCorrelationWindow).ToUnixTimeMilliseconds();
        var row = await connection.QueryFirstOrDefaultAsync<(string? CampaignId, string? LeadId)>(new CommandDefinition(
            """
            SELECT campaign_id, lead_id FROM commands
            WHERE tenant_id = @TenantId AND agent_id = @AgentId AND type = 'call' AND number = @number AND created_at >= @since
            ORDER BY created_at DESC
            LIMIT 1
            """, new { message.TenantId, message.AgentId, number, since }, transaction, cancellationToken: cancellationToken));
        return row;
    }
}
