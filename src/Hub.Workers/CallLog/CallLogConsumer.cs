using System.Text.Json;
using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;
using MassTransit;

namespace Hub.Workers.CallLog;

/// <summary>
/// Logs every call event and rebuilds the call row from all of its events. The event insert is
/// idempotent on (tenant, event_id) and the rebuild is a pure function of the event set, so redelivery,
/// duplicates and any arrival order give the same call record.
/// </summary>
public sealed class CallLogConsumer(HubDatabase database, TenantConfigReader configs, TimeProvider clock) : IConsumer<IWebphoneEvent>
{
    // Click-to-call options reach the call through the dial command when the webphone does not echo them.
    private static readonly TimeSpan DialCorrelationWindow = TimeSpan.FromMinutes(2);

    public async Task Consume(ConsumeContext<IWebphoneEvent> context)
    {
        var message = context.Message;
        if (message.CallId is null)
        {
            return;
        }

        var cancellationToken = context.CancellationToken;
        var config = await configs.ReadCachedAsync(message.TenantId, cancellationToken);
        var countryCode = configs.CountryCodeOf(config.Config);

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (database.Dialect == SqlDialect.Postgres)
        {
            // Concurrent consumers may hold two events of one call; each rebuild must see the other's
            // event, so rebuilds of one call take turns. (SQLite has one writer: they already do.)
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))",
                new { key = message.TenantId + "/" + message.CallId }, transaction, cancellationToken: cancellationToken));
        }

        var (campaignId, leadId) = message.Type == "outgoing_call"
            ? await FindDialOptionsAsync(connection, transaction, message, countryCode, cancellationToken)
            : (null, null);

        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO call_events (tenant_id, event_id, call_id, agent_id, type, seq, occurred_at, received_at, payload, campaign_id, lead_id)
            VALUES (@TenantId, @EventId, @CallId, @AgentId, @Type, @Seq, @OccurredAt, @ReceivedAt, @Payload, @campaignId, @leadId)
            ON CONFLICT (tenant_id, event_id) DO NOTHING
            """,
            new
            {
                message.TenantId,
                EventId = message.EventId.ToString(),
                message.CallId,
                message.AgentId,
                message.Type,
                message.Seq,
                OccurredAt = message.OccurredAt.ToUnixTimeMilliseconds(),
                ReceivedAt = message.ReceivedAt.ToUnixTimeMilliseconds(),
                Payload = message.Payload.GetRawText(),
                campaignId,
                leadId,
            }, transaction, cancellationToken: cancellationToken));
        if (inserted == 0)
        {
            // Already logged, and the rebuild that followed committed with it.
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        var events = (await connection.QueryAsync<CallEventRow>(new CommandDefinition(
            """
            SELECT event_id, call_id, agent_id, type, seq, occurred_at, received_at, payload, campaign_id, lead_id
            FROM call_events WHERE tenant_id = @TenantId AND call_id = @CallId
            """, new { message.TenantId, message.CallId }, transaction, cancellationToken: cancellationToken))).ToList();
        var call = CallRecordBuilder.Build(events);
        var remote = call.RemoteNumber is null ? null : PhoneNumbers.Normalise(call.RemoteNumber, countryCode)?.E164 ?? call.RemoteNumber;

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO calls (tenant_id, call_id, agent_id, direction, from_number, to_number, remote_number, status,
                               started_at, answered_at, ended_at, ring_seconds, billsec, hangup_cause, campaign_id, lead_id, updated_at, end_reason)
            VALUES (@tenantId, @CallId, @AgentId, @Direction, @FromNumber, @ToNumber, @remote, @Status,
                    @StartedAt, @AnsweredAt, @EndedAt, @RingSeconds, @Billsec, @HangupCause, @CampaignId, @LeadId, @now, NULL)
            ON CONFLICT (tenant_id, call_id) DO UPDATE SET
                agent_id = excluded.agent_id, direction = excluded.direction, from_number = excluded.from_number,
                to_number = excluded.to_number, remote_number = excluded.remote_number, status = excluded.status,
                started_at = excluded.started_at, answered_at = excluded.answered_at, ended_at = excluded.ended_at,
                ring_seconds = excluded.ring_seconds, billsec = excluded.billsec, hangup_cause = excluded.hangup_cause,
                campaign_id = excluded.campaign_id, lead_id = excluded.lead_id, updated_at = excluded.updated_at,
                end_reason = NULL
            """,
            new
            {
                tenantId = message.TenantId, call.CallId, call.AgentId, call.Direction, call.FromNumber, call.ToNumber, remote,
                call.Status, call.StartedAt, call.AnsweredAt, call.EndedAt, call.RingSeconds, call.Billsec, call.HangupCause,
                call.CampaignId, call.LeadId, now = clock.NowMs(),
            }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<(string? CampaignId, string? LeadId)> FindDialOptionsAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, IWebphoneEvent message,
        string countryCode, CancellationToken cancellationToken)
    {
        var number = message.Payload.ValueKind == JsonValueKind.Object
                     && message.Payload.TryGetProperty("call", out var call) && call.ValueKind == JsonValueKind.Object
                     && call.TryGetProperty("number", out var n) && n.ValueKind == JsonValueKind.String
            ? PhoneNumbers.Normalise(n.GetString(), countryCode)?.E164
            : null;
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
