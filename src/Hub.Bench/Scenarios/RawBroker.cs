using System.Diagnostics;
using Hub.Bench.Reporting;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Hub.Bench.Scenarios;

/// <summary>
/// The limit of the bus path, measured with nothing of Hub in it: RabbitMQ.Client publishing persistent messages
/// of the hub envelope's size to a durable queue with publisher confirms (many outstanding, as a tuned client
/// keeps them), and one consumer acking each, on the same broker in the same run.
/// </summary>
public static class RawBroker
{
    public sealed record Result(long Messages, double ConfirmedPerSecond, double ConsumedPerSecond);

    private const int Outstanding = 256;

    public static async Task<Result> RunAsync(string amqpUrl, int messageSize, TimeSpan duration, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-raw" };
        await using var publishConnection = await factory.CreateConnectionAsync(cancellationToken);
        await using var consumeConnection = await factory.CreateConnectionAsync(cancellationToken);
        await using var publisher = await publishConnection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(Outstanding)),
            cancellationToken);
        await using var consumer = await consumeConnection.CreateChannelAsync(cancellationToken: cancellationToken);

        var queue = $"hub-bench-raw-{Guid.NewGuid():N}";
        await publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await consumer.BasicQosAsync(0, 256, false, cancellationToken);

        long published = 0;
        long consumed = 0;
        var clock = Stopwatch.StartNew();
        var lastConsumed = TimeSpan.Zero;
        var publishingDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = new AsyncEventingBasicConsumer(consumer);
        receiver.ReceivedAsync += async (_, delivery) =>
        {
            await consumer.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
            var count = Interlocked.Increment(ref consumed);
            lastConsumed = clock.Elapsed;
            if (publishingDone.Task.IsCompleted && count >= Interlocked.Read(ref published))
            {
                allConsumed.TrySetResult();
            }
        };
        await consumer.BasicConsumeAsync(queue, autoAck: false, receiver, cancellationToken);

        var body = new byte[messageSize];
        Random.Shared.NextBytes(body);
        var properties = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
        var status = () => $"{clock.Elapsed.TotalSeconds:0}s confirmed {Interlocked.Read(ref published):#,0}, consumed {Interlocked.Read(ref consumed):#,0}";
        TimeSpan publishElapsed = default;
        await Progress.WhileAsync("raw-broker", status, async () =>
        {
            // Publishers run concurrently on one channel; the rate limiter keeps at most 256 confirms outstanding.
            await Task.WhenAll(Enumerable.Range(0, Outstanding).Select(async _ =>
            {
                while (clock.Elapsed < duration)
                {
                    await publisher.BasicPublishAsync("", queue, mandatory: false, properties, body, cancellationToken);
                    Interlocked.Increment(ref published);
                }
            }));
            publishElapsed = clock.Elapsed;
            publishingDone.TrySetResult();
            if (Interlocked.Read(ref consumed) >= published)
            {
                allConsumed.TrySetResult();
            }

            await allConsumed.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        });

        await publisher.QueueDeleteAsync(queue, cancellationToken: cancellationToken);
        return new Result(published, published / publishElapsed.TotalSeconds, published / lastConsumed.TotalSeconds);
    }
}

/// <summary>The size of the message Hub itself puts on the bus for one incoming_call (MassTransit's JSON envelope).</summary>
public static class BusMessageSize
{
    private const string Exchange = "Hub.Contracts:IncomingCallReceived";

    /// <summary>Binds a private queue to the event's exchange, lets <paramref name="publish"/> send one event, and measures what arrives.</summary>
    public static async Task<int?> MeasureAsync(string amqpUrl, Func<Task> publish, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-size" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken)).QueueName;
        try
        {
            // MassTransit's own declaration (durable fanout), so this is a no-op when the exchange is already there.
            await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, Exchange, "", cancellationToken: cancellationToken);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return null; // the exchange is not there: the topology changed; the caller falls back to the relay envelope's size
        }

        await publish();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var message = await channel.BasicGetAsync(queue, autoAck: true, cancellationToken);
            if (message is not null)
            {
                return message.Body.Length;
            }

            await Task.Delay(20, cancellationToken);
        }

        return null;
    }
}
