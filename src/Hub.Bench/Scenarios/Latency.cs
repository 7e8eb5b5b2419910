using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Screen-pop latency at a fixed offered rate: each simulated call is <c>Publish(incoming_call)</c> then
/// <c>Publish(call_hangup)</c> (two events), and the clock runs from sending the incoming_call until the same
/// agent's connection receives its <c>ScreenPop</c>. The pop's <c>created_at</c> (stamped by the screen-pop
/// worker) splits that time into "to the worker" and "back to the browser".
/// </summary>
public static class Latency
{
    public sealed record PopResult(double OfferedEventsPerSecond, double AchievedEventsPerSecond, Distribution Pop, Distribution Ack, Distribution ToWorker, Distribution ToBrowser, long Missing, long AckedEvents)
    {
        /// <summary>Publishes answered <c>bus_unavailable</c> (the hub pushing back) and sent again, as the relay does.</summary>
        public long Refused { get; init; }
    }

    private static readonly TimeSpan ResendAfter = TimeSpan.FromMilliseconds(100);

    private const int ContactCount = 1000;
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    public static async Task<PopResult> ScreenPopAsync(string scenario, HubClient hub, StoreProbe probe, BenchSettings settings, double eventsPerSecond, CancellationToken cancellationToken)
    {
        await using var pool = await AgentPool.StartAsync(hub, $"bench {scenario} pops {eventsPerSecond:0}", settings.LatencyAgents, cancellationToken);
        await hub.PutContactsAsync(pool.Key, Envelopes.Contacts(ContactCount), cancellationToken);

        var pending = new ConcurrentDictionary<string, (long Sent, DateTimeOffset SentAt)>(StringComparer.Ordinal);
        var pops = new Samples();
        var acks = new Samples();
        var toWorker = new Samples();
        var toBrowser = new Samples();
        foreach (var agent in pool.Agents)
        {
            agent.Client.Connection.On<JsonElement>("ScreenPop", pop =>
            {
                var received = Stopwatch.GetTimestamp();
                var receivedAt = DateTimeOffset.UtcNow;
                if (pending.TryRemove(pop.GetProperty("call_id").GetString()!, out var sent))
                {
                    pops.Add(Stopwatch.GetElapsedTime(sent.Sent, received).TotalMilliseconds);
                    var createdAt = DateTimeOffset.Parse(pop.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture);
                    toWorker.Add((createdAt - sent.SentAt).TotalMilliseconds);
                    toBrowser.Add((receivedAt - createdAt).TotalMilliseconds);
                }
            });
        }

        long refused = 0;
        // The relay keeps an event the hub refused and sends it again; the pop's clock keeps running meanwhile.
        async Task PublishAsync(Agent agent, Envelope envelope)
        {
            while (true)
            {
                try
                {
                    await agent.Client.InvokeAsync("Publish", envelope);
                    return;
                }
                catch (HubException exception) when (exception.HubMessage?.StartsWith("bus_unavailable:", StringComparison.Ordinal) == true)
                {
                    Interlocked.Increment(ref refused);
                    await Task.Delay(ResendAfter, cancellationToken);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        long ackedEvents = 0;
        var lastAck = TimeSpan.Zero;
        var status = () => $"{clock.Elapsed.TotalSeconds:0}s at {eventsPerSecond:#,0} events/s: {pops.Count:#,0} pops, {pending.Count} waiting";
        await Progress.WhileAsync(scenario, status, async () =>
        {
            var issued = await Pacer.RunAsync(eventsPerSecond / 2, settings.LatencyDuration, async i =>
            {
                var agent = pool.Agents[(int)(i % pool.Agents.Count)];
                var callId = $"{agent.Id}-pop-{i}";
                // One caller in ten is unknown; the others match a stored contact.
                var number = i % 10 == 9 ? "0888" + (100_000 + i).ToString(CultureInfo.InvariantCulture) : Envelopes.Number((int)(i % ContactCount));
                var sent = Stopwatch.GetTimestamp();
                pending[callId] = (sent, DateTimeOffset.UtcNow);
                await PublishAsync(agent, Envelopes.Incoming(callId, number, 1));
                acks.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                await PublishAsync(agent, Envelopes.Hangup(callId, 2));
                Interlocked.Add(ref ackedEvents, 2);
                lastAck = clock.Elapsed;
            }, cancellationToken);

            // Pops still arriving is progress; a pop missing once nothing moved for 30 s is lost.
            var waiting = pending.Count;
            var lastProgress = Stopwatch.StartNew();
            while (!pending.IsEmpty && lastProgress.Elapsed < StallTimeout)
            {
                await Task.Delay(50, cancellationToken);
                if (pending.Count != waiting)
                {
                    waiting = pending.Count;
                    lastProgress.Restart();
                }
            }

            // The next measurement starts on a quiet hub: every consumer has caught up with these calls.
            await probe.WaitForConsumersAsync(pool.TenantId, ackedEvents, issued, StallTimeout, cancellationToken);
            return issued;
        });

        return new PopResult(eventsPerSecond, ackedEvents / lastAck.TotalSeconds, pops.Distribution(), acks.Distribution(),
            toWorker.Distribution(), toBrowser.Distribution(), pending.Count, ackedEvents) { Refused = Interlocked.Read(ref refused) };
    }

    /// <summary>The same open-loop rate of the same-sized message through a bare SignalR echo hub.</summary>
    public static async Task<Distribution> EchoAsync(BenchSettings settings, double messagesPerSecond, CancellationToken cancellationToken)
    {
        await using var server = await EchoServer.StartAsync();
        var clients = new List<AgentConnection>();
        try
        {
            for (var i = 0; i < settings.LatencyAgents; i++)
            {
                clients.Add(await AgentConnection.StartAsync(HubClient.CreateConnection(server.Url + "/echo"), cancellationToken));
            }

            var samples = new Samples();
            var clock = Stopwatch.StartNew();
            await Progress.WhileAsync("echo", () => $"{clock.Elapsed.TotalSeconds:0}s at {messagesPerSecond:#,0}/s: {samples.Count:#,0} round trips",
                () => Pacer.RunAsync(messagesPerSecond, settings.LatencyDuration, async i =>
                {
                    var message = Envelopes.Incoming($"echo-{i}", Envelopes.Number((int)(i % ContactCount)), 1);
                    var sent = Stopwatch.GetTimestamp();
                    await clients[(int)(i % clients.Count)].InvokeAsync("Echo", message);
                    samples.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                }, cancellationToken));
            return samples.Distribution();
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Bytes of one envelope as the agents send it, for the raw broker baseline's message size.</summary>
    public static int EnvelopeBytes() =>
        JsonSerializer.SerializeToUtf8Bytes(Envelopes.Incoming(Guid.NewGuid().ToString(), Envelopes.Number(1), 1), AgentConnection.Json).Length;
}
