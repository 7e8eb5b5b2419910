using Dapper;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Api.Maintenance;

/// <summary>
/// Keeps the bookkeeping tables bounded: burnt token ids are useless once the token expired, and an
/// event id only has to be remembered for as long as a relay could still resend it. Deletes run in
/// small batches so they never hold the store for long.
/// </summary>
internal sealed class StorePruning(HubDatabase database, IOptions<HubSettings> settings, TimeProvider clock, ILogger<StorePruning> logger)
    : PeriodicJob(clock, logger)
{
    protected override TimeSpan Interval { get; } = TimeSpan.FromMinutes(5);
    private const int BatchSize = 5000;

    protected override Task RunAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    internal async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = Time.NowMs();
        var eventsBefore = Time.GetUtcNow().Subtract(settings.Value.EventIdRetention).ToUnixTimeMilliseconds();
        await DeleteInBatchesAsync(
            "DELETE FROM used_tokens WHERE expires_at < @cutoff AND jti IN (SELECT jti FROM used_tokens WHERE expires_at < @cutoff LIMIT @BatchSize)", now, cancellationToken);
        await DeleteInBatchesAsync(
            "DELETE FROM ingested_events WHERE received_at < @cutoff AND event_id IN (SELECT event_id FROM ingested_events WHERE received_at < @cutoff LIMIT @BatchSize)",
            eventsBefore, cancellationToken);
        var streamBefore = Time.GetUtcNow().Subtract(settings.Value.EventStreamRetention).ToUnixTimeMilliseconds();
        await DeleteInBatchesAsync(
            "DELETE FROM event_stream WHERE seq IN (SELECT seq FROM event_stream WHERE occurred_at < @cutoff ORDER BY seq LIMIT @BatchSize)",
            streamBefore, cancellationToken);
    }

    private async Task DeleteInBatchesAsync(string sql, long cutoff, CancellationToken cancellationToken)
    {
        int deleted;
        // The age condition is repeated outside: ids are unique per tenant only, so a batch must never
        // take a newer row of another tenant that shares an id with an old one.
        do
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            deleted = await connection.ExecuteAsync(new CommandDefinition(sql, new { cutoff, BatchSize }, cancellationToken: cancellationToken));
        }
        while (deleted == BatchSize);
    }
}
