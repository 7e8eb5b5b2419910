using Dapper;
using Hub.Store;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Workers.Webhooks;

/// <summary>
/// Finds due webhook deliveries in the store, leases them and publishes one <see cref="DeliverWebhook"/>
/// per attempt. The schedule lives in the store (<c>next_attempt_at</c>), not in memory, so a restart
/// loses nothing: an attempt whose worker died is due again when its lease ends. Several worker
/// processes may run this; on PostgreSQL <c>FOR UPDATE SKIP LOCKED</c> hands each delivery to one.
/// Only the first pending delivery of a (subscription, call), in the call's own order (occurred_at, then
/// the relay's seq), is due, so a later event of a call waits while an earlier one is retried.
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
        var lockClause = database.Dialect == SqlDialect.Postgres ? "FOR UPDATE OF d SKIP LOCKED" : "";

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = (await connection.QueryAsync<string>(new CommandDefinition(
            $"""
            SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= @now AND (d.claimed_until IS NULL OR d.claimed_until <= @now) AND s.enabled = 1
              AND NOT EXISTS (
                SELECT 1 FROM webhook_deliveries e
                WHERE e.subscription_id = d.subscription_id AND e.order_key = d.order_key AND e.status = 'pending'
                  AND (e.occurred_at, e.seq, e.id) < (d.occurred_at, d.seq, d.id))
            ORDER BY d.next_attempt_at, d.created_at, d.id
            LIMIT @BatchSize
            {lockClause}
            """, new { now, BatchSize }, transaction, cancellationToken: cancellationToken))).ToList();
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
}
