using Dapper;
using Hub.Store;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Finds due webhook deliveries in the store, leases them and publishes one <see cref="DeliverWebhook"/>
/// per attempt. The schedule lives in the store (<c>next_attempt_at</c>), not in memory, so a restart
/// loses nothing: an attempt whose worker died is due again when its lease ends. Several worker
/// processes may run this; on PostgreSQL <c>FOR UPDATE SKIP LOCKED</c> hands each delivery to one.
/// Only the first pending delivery of a (subscription, call), in the call's own order (occurred_at, then
/// the relay's seq), is due, so a later event of a call waits while an earlier one is retried.
/// <para>
/// Fair shares: an account has at most <c>Hub:Webhooks:MaxConcurrentPerTenant</c> attempts leased at once
/// (queued or being made, by any worker), and at most <c>MaxConcurrentPerHost</c> to one host. Its other due
/// deliveries are not claimed: they keep their place and their schedule in the store and go as its attempts
/// finish, so an account whose endpoints never answer holds only its share of the delivery slots.
/// </para>
/// </summary>
internal sealed class WebhookDispatcher(HubDatabase database, IBus bus, WebhookDispatchSignal signal, IOptions<HubSettings> options,
    TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The bus starts with the host; publishing before then would wait on it or fail.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var settings = options.Value.Webhooks;
            TimeSpan wait;
            try
            {
                var (claimed, token, nextDue) = await ClaimDueAsync(settings, stoppingToken);
                foreach (var id in claimed)
                {
                    await bus.Publish(new DeliverWebhook(id, token), stoppingToken);
                }

                wait = claimed.Count == BatchSize ? TimeSpan.Zero
                    : nextDue is { } due ? TimeSpan.FromMilliseconds(Math.Clamp(due - clock.NowMs(), 0, (long)settings.PollInterval.TotalMilliseconds))
                    : settings.PollInterval;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The store or the bus is down: the deliveries wait in the store until it is back.
                logger.LogWarning(exception, "Webhook dispatch failed; trying again in {PollInterval}", settings.PollInterval);
                wait = settings.PollInterval;
            }

            await signal.WaitAsync(wait, stoppingToken);
        }
    }

    private async Task<(List<string> Claimed, string Token, long? NextDue)> ClaimDueAsync(WebhookSettings settings, CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        var token = Guid.NewGuid().ToString("N");
        // Long enough for the attempt to be consumed and finish; after it, the attempt is taken as lost.
        var claimedUntil = now + (long)(settings.AttemptTimeout * 2 + TimeSpan.FromSeconds(30)).TotalMilliseconds;

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = (await connection.QueryAsync<string>(new CommandDefinition(
            FairClaimSql(database.Dialect),
            new
            {
                now, BatchSize,
                perTenant = Math.Max(1, settings.MaxConcurrentPerTenant),
                perHost = Math.Max(1, settings.MaxConcurrentPerHost),
            }, transaction, cancellationToken: cancellationToken))).ToList();
        if (claimed.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE webhook_deliveries SET claim_token = @token, claimed_until = @claimedUntil WHERE id {database.InList("claimed")}",
                new { token, claimedUntil, claimed = claimed.ToArray() }, transaction, cancellationToken: cancellationToken));
        }

        var nextDue = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at > @now",
            new { now }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return (claimed, token, nextDue);
    }

    /// <summary>
    /// The host of a subscription's URL with its port, lower case: the text between <c>://</c> and the first
    /// <c>/</c> or <c>?</c> (the API stores absolute http(s) URLs without credentials or fragment).
    /// </summary>
    private static string HostOf(SqlDialect dialect, string url) => dialect == SqlDialect.Postgres
        ? $"lower(split_part(split_part(split_part({url}, '://', 2), '/', 1), '?', 1))"
        : $"lower(substr(replace(substr({url}, instr({url}, '://') + 3), '?', '/'), 1, instr(replace(substr({url}, instr({url}, '://') + 3), '?', '/') || '/', '/') - 1))";

    /// <summary>
    /// The due deliveries to claim now, oldest first: of each account and host only as many as its bounds
    /// leave room for beside its leased ones (a lease is an attempt queued or under way). A leased delivery
    /// was due when it was claimed, so counting them within the due range sees them all.
    /// </summary>
    private static string FairClaimSql(SqlDialect dialect) =>
        $"""
        WITH pending AS (
            SELECT d.id, d.tenant_id, d.subscription_id, d.order_key, d.occurred_at, d.seq, d.next_attempt_at, d.created_at, s.enabled,
                {HostOf(dialect, "s.url")} AS host,
                CASE WHEN d.claimed_until > @now THEN 1 ELSE 0 END AS leased
            FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= @now
        ),
        leased_hosts AS (
            SELECT tenant_id, host, COUNT(*) AS n FROM pending WHERE leased = 1 GROUP BY tenant_id, host
        ),
        leased_tenants AS (
            SELECT tenant_id, SUM(n) AS n FROM leased_hosts GROUP BY tenant_id
        ),
        due AS (
            SELECT p.id, p.tenant_id, p.host, p.next_attempt_at, p.created_at FROM pending p
            WHERE p.leased = 0 AND p.enabled = 1
              AND NOT EXISTS (
                SELECT 1 FROM webhook_deliveries e
                WHERE e.subscription_id = p.subscription_id AND e.order_key = p.order_key AND e.status = 'pending'
                  AND (e.occurred_at, e.seq, e.id) < (p.occurred_at, p.seq, p.id))
        ),
        within_host AS (
            SELECT due.*, COALESCE(l.n, 0) + ROW_NUMBER() OVER (
                PARTITION BY due.tenant_id, due.host ORDER BY due.next_attempt_at, due.created_at, due.id) AS host_slot
            FROM due LEFT JOIN leased_hosts l ON l.tenant_id = due.tenant_id AND l.host = due.host
        ),
        within_tenant AS (
            SELECT h.id, h.next_attempt_at, h.created_at, COALESCE(t.n, 0) + ROW_NUMBER() OVER (
                PARTITION BY h.tenant_id ORDER BY h.next_attempt_at, h.created_at, h.id) AS tenant_slot
            FROM within_host h LEFT JOIN leased_tenants t ON t.tenant_id = h.tenant_id
            WHERE h.host_slot <= @perHost
        )
        SELECT d.id FROM webhook_deliveries d
        WHERE d.id IN (
            SELECT id FROM within_tenant WHERE tenant_slot <= @perTenant
            ORDER BY next_attempt_at, created_at, id
            LIMIT @BatchSize)
          AND d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until <= @now)
        ORDER BY d.next_attempt_at, d.created_at, d.id
        {(dialect == SqlDialect.Postgres ? "FOR UPDATE OF d SKIP LOCKED" : "")}
        """;
}
