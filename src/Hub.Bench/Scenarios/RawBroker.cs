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

    private const int Outstanding = 512;

    public static async Task<Result> RunAsync(string amqpUrl, int messageSize, TimeSpan duration, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-raw" };
        await using var publishConnection = await factory.CreateConnectionAsync(cancellationToken);
        await using var consumeConnection = await factory.CreateConnectionAsync(cancellationToken);
        // Confirms on, the client's own per-message tracking off: this loop keeps a window of outstanding
        // confirms and releases it as (often multiple) acks arrive, as a tuned publisher does.
        await using var publisher = await publishConnection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), cancellationToken);
        await using var consumer = await consumeConnection.CreateChannelAsync(cancellationToken: cancellationToken);

        var queue = $"hub-bench-raw-{Guid.NewGuid():N}";
        await publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await consumer.BasicQosAsync(0, 256, false, cancellationToken);

        using var window = new SemaphoreSlim(Outstanding);
        var unconfirmed = new SortedSet<ulong>();
        long confirmed = 0;
        long nacked = 0;
        var allConfirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var publishingDone = false;
        void Settle(ulong tag, bool multiple, bool ack)
        {
            int settled;
            lock (unconfirmed)
            {
                var done = multiple ? unconfirmed.GetViewBetween(0, tag).ToList() : unconfirmed.Contains(tag) ? [tag] : [];
                foreach (var sequence in done)
                {
                    unconfirmed.Remove(sequence);
                }

                settled = done.Count;
                if (publishingDone && unconfirmed.Count == 0)
                {
                    allConfirmed.TrySetResult();
                }
            }

            Interlocked.Add(ref ack ? ref confirmed : ref nacked, settled);
            if (settled > 0)
            {
                window.Release(settled);
            }
        }

        publisher.BasicAcksAsync += (_, e) =>
        {
            Settle(e.DeliveryTag, e.Multiple, ack: true);
            return Task.CompletedTask;
        };
        publisher.BasicNacksAsync += (_, e) =>
        {
            Settle(e.DeliveryTag, e.Multiple, ack: false);
            return Task.CompletedTask;
        };

        long consumed = 0;
        var clock = Stopwatch.StartNew();
        var lastConsumed = TimeSpan.Zero;
        var allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long published = 0;
        var receiver = new AsyncEventingBasicConsumer(consumer);
        receiver.ReceivedAsync += async (_, delivery) =>
        {
            await consumer.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
            var count = Interlocked.Increment(ref consumed);
            lastConsumed = clock.Elapsed;
            if (Volatile.Read(ref publishingDone) && count >= Interlocked.Read(ref published))
            {
                allConsumed.TrySetResult();
            }
        };
        await consumer.BasicConsumeAsync(queue, autoAck: false, receiver, cancellationToken);

        var body = new byte[messageSize];
        Random.Shared.NextBytes(body);
        var properties = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
        var status = () => $"{clock.Elapsed.TotalSeconds:0}s confirmed {Interlocked.Read(ref confirmed):#,0}, consumed {Interlocked.Read(ref consumed):#,0}";
        var confirmElapsed = TimeSpan.Zero;
        await Progress.WhileAsync("raw-broker", status, async () =>
        {
            while (clock.Elapsed < duration)
            {
                await window.WaitAsync(cancellationToken);
                var sequence = await publisher.GetNextPublishSequenceNumberAsync(cancellationToken);
                lock (unconfirmed)
                {
                    unconfirmed.Add(sequence);
                }

                await publisher.BasicPublishAsync("", queue, mandatory: false, properties, body, cancellationToken);
                Interlocked.Increment(ref published);
            }

            lock (unconfirmed)
            {
                Volatile.Write(ref publishingDone, true);
                if (unconfirmed.Count == 0)
                {
                    allConfirmed.TrySetResult();
                }
            }

            await allConfirmed.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            confirmElapsed = clock.Elapsed;
            if (Interlocked.Read(ref consumed) >= published)
            {
                allConsumed.TrySetResult();
            }

            await allConsumed.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        });

        await publisher.QueueDeleteAsync(queue, cancellationToken: cancellationToken);
        if (nacked > 0)
        {
            throw new InvalidOperationException($"The broker nacked {nacked} of {published} raw messages.");
        }

        return new Result(published, published / confirmElapsed.TotalSeconds, published / lastConsumed.TotalSeconds);
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
