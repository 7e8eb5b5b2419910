using Dapper;
using Hub.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// Keeps the delivery log bounded: finished deliveries (delivered or failed) older than
/// <c>Hub:Webhooks:LogRetention</c> go, with their attempts, once an hour. Pending ones always stay.
/// Several workers may prune at once; the deletes are idempotent.
/// </summary>
public sealed class WebhookLogPruning(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock, ILogger<WebhookLogPruning> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var before = clock.NowMs() - (long)options.Value.Webhooks.LogRetention.TotalMilliseconds;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM webhook_attempts WHERE delivery_id IN (
                SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < @before)
            """, new { before }, transaction, cancellationToken: cancellationToken));
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < @before",
            new { before }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Pruning the webhook delivery log failed; trying again in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
