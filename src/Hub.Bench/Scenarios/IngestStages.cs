using System.Diagnostics;
using Dapper;
using Hub.Bench.Reporting;
using Npgsql;
using RabbitMQ.Client;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Where a Publish's time goes in the Api, measured stage by stage with the raw clients on the same servers, one
/// at a time (an idle hub's cost), as <c>IngestQueue</c> does it: the INSERT that claims the id on
/// <c>ingested_events</c> in an open transaction, one persistent publish waiting for its broker confirm
/// (MassTransit's path, one outstanding), and the COMMIT.
/// </summary>
public static class IngestStages
{
    public sealed record Result(Distribution ClaimInsert, Distribution PublishConfirm, Distribution Commit);

    public static async Task<Result> RunAsync(string postgres, string amqpUrl, string tenantId, int messageSize, int iterations, CancellationToken cancellationToken)
    {
        var claim = new Samples();
        var confirm = new Samples();
        var commit = new Samples();
        await using var data = NpgsqlDataSource.Create(postgres);
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-stages" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var queue = $"hub-bench-stages-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        var body = new byte[messageSize];
        var properties = new BasicProperties { Persistent = true };
        for (var i = 0; i < iterations; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var db = await data.OpenConnectionAsync(cancellationToken);
            await using var transaction = await db.BeginTransactionAsync(cancellationToken);
            await db.QueryAsync<string>(new CommandDefinition(
                "INSERT INTO ingested_events (tenant_id, event_id, received_at) VALUES (@tenantId, @eventId, 0) ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING event_id",
                new { tenantId, eventId = Guid.NewGuid().ToString() }, transaction, cancellationToken: cancellationToken));
            claim.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            started = Stopwatch.GetTimestamp();
            await channel.BasicPublishAsync("", queue, mandatory: false, properties, body, cancellationToken);
            confirm.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            started = Stopwatch.GetTimestamp();
            await transaction.CommitAsync(cancellationToken);
            commit.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        await channel.QueueDeleteAsync(queue, cancellationToken: cancellationToken);
        return new Result(claim.Distribution(), confirm.Distribution(), commit.Distribution());
    }
}
