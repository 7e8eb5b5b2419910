using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Agents publish call lifecycles as fast as the hub acks them (one PublishBatch in flight per agent, as the
/// relay sends its outbox), then the bench counts what the workers persisted until every acked event is there.
/// </summary>
public static class Ingest
{
    public sealed record Result(long Accepted, double AckedPerSecond, double PersistedPerSecond, Distribution BatchAck, bool Lossless)
    {
        public string Detail { get; init; } = "";

        public string Consumers { get; init; } = "";
    }

    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(60);

    public static async Task<Result> RunAsync(string scenario, HubClient hub, StoreProbe probe, BenchSettings settings, CancellationToken cancellationToken)
    {
        await using var pool = await AgentPool.StartAsync(hub, $"bench {scenario}", settings.IngestAgents, cancellationToken);
        var acked = new ConcurrentBag<string>();
        var batchAcks = new Samples();
        long accepted = 0;
        long refused = 0;
        long persisted = 0;
        var clock = Stopwatch.StartNew();
        var publishElapsed = TimeSpan.Zero;

        var publishing = Task.WhenAll(pool.Agents.Select(agent => PublishLoopAsync(agent, settings, clock, acked, batchAcks,
            () => Interlocked.Add(ref accepted, settings.CallsPerBatch * 3), () => Interlocked.Increment(ref refused))));
        var status = () =>
            $"{clock.Elapsed.TotalSeconds:0}s acked {Interlocked.Read(ref accepted):#,0} ({Interlocked.Read(ref accepted) / Math.Max(0.001, clock.Elapsed.TotalSeconds):#,0}/s), persisted {Interlocked.Read(ref persisted):#,0}";

        var done = new TimeSpan?[3];
        var persistedElapsed = await Progress.WhileAsync(scenario, status, async () =>
        {
            await publishing;
            publishElapsed = clock.Elapsed;
            var total = acked.Count;
            var expected = new long[] { total, total, total / 3 };
            var lastProgress = clock.Elapsed;
            var last = new long[3];
            while (true)
            {
                var counts = await probe.CountsAsync(pool.TenantId, cancellationToken);
                long[] now = [counts.CallEvents, counts.StreamEvents, counts.ScreenPops];
                Interlocked.Exchange(ref persisted, counts.CallEvents);
                for (var i = 0; i < 3; i++)
                {
                    if (now[i] != last[i])
                    {
                        lastProgress = clock.Elapsed;
                        last[i] = now[i];
                    }

                    if (now[i] >= expected[i])
                    {
                        done[i] ??= clock.Elapsed;
                    }
                }

                // Every consumer finished (so the next scenario starts on a quiet hub), or nothing moved for a minute.
                if (done.All(d => d is not null) || clock.Elapsed - lastProgress > StallTimeout)
                {
                    return done[0] ?? clock.Elapsed;
                }

                await Task.Delay(200, cancellationToken);
            }
        });

        var total = acked.Count;
        var stored = await probe.EventIdsAsync(pool.TenantId, cancellationToken);
        var missing = acked.Count(id => !stored.Contains(id));
        var unexpected = stored.Count - (total - missing);
        var (calls, complete) = await probe.CallsAsync(pool.TenantId, Envelopes.Billsec, cancellationToken);
        var lossless = missing == 0 && unexpected == 0 && calls == total / 3 && complete == calls;
        string Rate(TimeSpan? at, long count) => at is { } t ? $"{count / t.TotalSeconds:#,0}/s (done after {t.TotalSeconds:0.0} s)" : "not finished";
        return new Result(total, total / publishElapsed.TotalSeconds, total / persistedElapsed.TotalSeconds, batchAcks.Distribution(), lossless)
        {
            Consumers = $"per consumer, from the first publish: call log {Rate(done[0], total)} events, event stream {Rate(done[1], total)} events, " +
                $"screen-pop {Rate(done[2], total / 3)} incoming calls",
            Detail = $"{total:#,0} events acked in {publishElapsed.TotalSeconds:0.0} s by {settings.IngestAgents} agents " +
                $"(PublishBatch of {settings.CallsPerBatch * 3}; {Interlocked.Read(ref refused)} batches refused), all persisted after {persistedElapsed.TotalSeconds:0.0} s; " +
                $"in the store: {stored.Count:#,0} events, {missing} acked events missing, {unexpected} unexpected; {calls:#,0} calls, {complete:#,0} of them complete (answered, billsec {Envelopes.Billsec}).",
        };
    }

    private static async Task PublishLoopAsync(Agent agent, BenchSettings settings, Stopwatch clock, ConcurrentBag<string> acked, Samples batchAcks, Action accept, Action refuse)
    {
        var call = 0;
        while (clock.Elapsed < settings.IngestDuration)
        {
            var batch = new List<Envelope>(settings.CallsPerBatch * 3);
            for (var i = 0; i < settings.CallsPerBatch; i++, call++)
            {
                batch.AddRange(Envelopes.Lifecycle($"{agent.Id}-{call}", Envelopes.Number(call % 1000), 1));
            }

            var sent = Stopwatch.GetTimestamp();
            JsonElement acks;
            try
            {
                acks = await agent.Client.InvokeAsync("PublishBatch", (object)batch);
            }
            catch (HubException)
            {
                // bus_unavailable: not acked, so not counted; the relay would keep and resend these.
                refuse();
                continue;
            }

            batchAcks.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            foreach (var ack in acks.EnumerateArray())
            {
                if (ack.GetProperty("status").GetString() != "accepted")
                {
                    throw new InvalidOperationException($"A fresh event was not accepted: {ack}");
                }

                acked.Add(ack.GetProperty("event_id").GetString()!);
            }

            accept();
        }
    }
}
