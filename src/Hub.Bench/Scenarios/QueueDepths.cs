using System.Diagnostics;
using RabbitMQ.Client;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Samples the backlog of each worker queue (a passive declare answers its message count) while a scenario runs:
/// the consumer whose queue grows is the one that cannot keep up.
/// </summary>
public sealed class QueueDepths : IAsyncDisposable
{
    public static readonly string[] Queues = ["hub-events", "hub-screen-pop"];

    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, (uint Max, TimeSpan At, TimeSpan? EmptyAfterMax)> _seen = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _sampling = Task.CompletedTask;

    public static async Task<QueueDepths> StartAsync(string amqpUrl)
    {
        var depths = new QueueDepths();
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-depths" };
        var connection = await factory.CreateConnectionAsync();
        depths._sampling = depths.SampleAsync(connection);
        return depths;
    }

    /// <summary>Waits until every worker queue is empty, so the next measurement starts on a quiet hub.</summary>
    public static async Task WaitEmptyAsync(string amqpUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), ClientProvidedName = "hub-bench-quiet" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            uint waiting = 0;
            foreach (var queue in Queues)
            {
                waiting += (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            }

            if (waiting == 0)
            {
                return;
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>Per queue: the largest backlog, when it was seen, and when the queue was empty again.</summary>
    public string Describe()
    {
        lock (_seen)
        {
            return string.Join("; ", Queues.Where(_seen.ContainsKey).Select(q =>
            {
                var (max, at, empty) = _seen[q];
                if (max == 0)
                {
                    return $"{q} never had a backlog";
                }

                return $"{q} at most {max:#,0} waiting (at {at.TotalSeconds:0} s)" + (empty is { } e ? $", empty at {e.TotalSeconds:0} s" : ", never empty again");
            }));
        }
    }

    private async Task SampleAsync(IConnection connection)
    {
        await using (connection)
        {
            await using var channel = await connection.CreateChannelAsync();
            while (!_stop.IsCancellationRequested)
            {
                foreach (var queue in Queues)
                {
                    var depth = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
                    lock (_seen)
                    {
                        var (max, at, empty) = _seen.GetValueOrDefault(queue);
                        _seen[queue] = depth > max ? (depth, _clock.Elapsed, null)
                            : depth == 0 && max > 0 && empty is null ? (max, at, _clock.Elapsed)
                            : (max, at, empty);
                    }
                }

                try
                {
                    await Task.Delay(250, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
