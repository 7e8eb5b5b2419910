using Dapper;
using Hub.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.CallLog;

/// <summary>
/// Closes calls that never got their hangup (a browser closed mid-call): a call still ringing or in
/// progress whose last event was logged more than <see cref="HubSettings.CallSweepAfter"/> ago becomes
/// <c>failed</c> with <c>end_reason</c> <c>swept</c>, ended at its last event. The update is conditional on
/// the row still being open and stale, so several worker processes may sweep at once, and a rebuild by
/// <see cref="CallLogWriter"/> (a late hangup) always wins: it rewrites every column and clears the reason.
/// </summary>
public sealed class CallSweeper(HubDatabase database, IOptions<HubSettings> settings, TimeProvider clock, ILogger<CallSweeper> logger)
    : BackgroundService
{
    public const string SweptReason = "swept";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Sweeping abandoned calls failed; trying again in {Interval}", Interval);
            }
        }
    }

    /// <summary>Sweeps every stale open call; returns how many it closed.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        var cutoff = clock.GetUtcNow().Subtract(settings.Value.CallSweepAfter).ToUnixTimeMilliseconds();
        int swept, total = 0;
        // updated_at is when the consumer last rebuilt the row, i.e. when its latest event was logged
        // (the hub's clock, not the browser's). The conditions are repeated outside the batch: call ids
        // are unique per tenant only, and a row rebuilt meanwhile must not be swept.
        do
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            swept = await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE calls SET status = 'failed', end_reason = @reason, updated_at = @now,
                    ended_at = COALESCE((SELECT max(e.occurred_at) FROM call_events e
                                         WHERE e.tenant_id = calls.tenant_id AND e.call_id = calls.call_id), started_at)
                WHERE status IN ('ringing', 'in_progress') AND updated_at < @cutoff
                  AND call_id IN (SELECT call_id FROM calls WHERE status IN ('ringing', 'in_progress') AND updated_at < @cutoff LIMIT @BatchSize)
                """, new { reason = SweptReason, now, cutoff, BatchSize }, cancellationToken: cancellationToken));
            total += swept;
        }
        while (swept >= BatchSize);

        if (total > 0)
        {
            logger.LogInformation("Swept {Count} calls without a hangup for {After}", total, settings.Value.CallSweepAfter);
        }

        return total;
    }
}
