using System.Diagnostics;

namespace Hub.Bench.Running;

/// <summary>
/// An open-loop load generator: starts operation i at i / rate seconds whether or not earlier ones finished,
/// so a slow server shows as latency instead of silently lowering the offered rate (no coordinated omission).
/// </summary>
public static class Pacer
{
    public static async Task<long> RunAsync(double perSecond, TimeSpan duration, Func<long, Task> operation, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var running = new List<Task>();
        long issued = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
        while (clock.Elapsed < duration)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * perSecond);
            while (issued < due)
            {
                running.Add(operation(issued++));
            }

            await timer.WaitForNextTickAsync(cancellationToken);
        }

        await Task.WhenAll(running);
        return issued;
    }
}
