using System.Collections.Concurrent;
using System.Diagnostics;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Faults;

/// <summary>One event the hub acked: its id, its call, its type, when (on the traffic's clock), through which node, and how (accepted or duplicate).</summary>
public sealed record AckedEvent(Guid EventId, string CallId, string Type, int? Billsec, TimeSpan At, int Node, string Status);

/// <summary>An agent of the traffic: its id, and how to open its hub connection on each Api node, in the order it tries them.</summary>
public sealed record RelayAgent(string Id, IReadOnlyList<Func<CancellationToken, Task<AgentConnection>>> Nodes);

/// <summary>
/// Agents publishing complete calls (<c>incoming_call</c>, <c>call_answered</c>, <c>call_hangup</c> with its
/// <c>billsec</c>) as the browser relay does: each event is kept until the hub acks it and sent again with the same
/// id after a retryable refusal or a lost connection, to the next Api node when its node is gone. An agent stops only
/// between calls, so every call it began is complete. An event still unacked after <see cref="GiveUpAfter"/>, a refusal
/// that is not retryable, or an error without a code fails the traffic.
/// </summary>
public sealed class CallTraffic : IAsyncDisposable
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    /// <summary>The codes the relay keeps an event for and retries (API.md section 2).</summary>
    private static readonly string[] RetryableCodes = ["bus_unavailable"];

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<AckedEvent> _acked = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private readonly TimeSpan _pause;
    private Task _agents = Task.CompletedTask;
    private int _refusals;
    private int _reconnects;

    private CallTraffic(TimeSpan pause) => _pause = pause;

    /// <summary>The traffic's clock: marks taken with it compare with <see cref="AckedEvent.At"/>.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public int AckedCount => _acked.Count;

    public IReadOnlyList<AckedEvent> Acked => [.. _acked];

    public int Refusals => Volatile.Read(ref _refusals);

    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <param name="pause">Between one agent's events: the offered rate is about agents / pause.</param>
    public static CallTraffic Start(IReadOnlyList<RelayAgent> agents, TimeSpan pause)
    {
        var traffic = new CallTraffic(pause);
        traffic._agents = Task.WhenAll(agents.Select(agent => Task.Run(() => traffic.RunAsync(agent))));
        return traffic;
    }

    /// <summary>Returns once <paramref name="count"/> events were acked in all, from the start.</summary>
    public Task WaitForAcksAsync(int count, TimeSpan timeout) =>
        WaitAsync(() => _acked.Count >= count, timeout, () => $"{count} acks (have {_acked.Count}, {Refusals} refusals)");

    /// <summary>Returns once <paramref name="more"/> events more than now were acked.</summary>
    public Task WaitForMoreAcksAsync(int more, TimeSpan timeout) => WaitForAcksAsync(_acked.Count + more, timeout);

    /// <summary>Returns once the hub refused an event with a retryable code.</summary>
    public Task WaitForRefusalAsync(TimeSpan timeout) =>
        WaitAsync(() => Refusals > 0, timeout, () => $"a retryable refusal ({_acked.Count} acks)");

    /// <summary>How long after <paramref name="mark"/> (on <see cref="Now"/>'s clock) the first ack came; waits for it.</summary>
    public async Task<TimeSpan> FirstAckAfterAsync(TimeSpan mark, TimeSpan timeout)
    {
        await WaitAsync(() => _acked.Any(ack => ack.At >= mark), timeout, () => $"an ack after {mark} ({_acked.Count} acks, {Refusals} refusals)");
        return _acked.Where(ack => ack.At >= mark).Min(ack => ack.At) - mark;
    }

    /// <summary>Lets every agent finish the call it is in, and returns the acked events.</summary>
    public async Task<IReadOnlyList<AckedEvent>> StopAsync()
    {
        await _stop.CancelAsync();
        await _agents.WaitAsync(GiveUpAfter + TimeSpan.FromSeconds(30));
        return Acked;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _agents.WaitAsync(GiveUpAfter + TimeSpan.FromSeconds(30));
        }
        catch (Exception)
        {
            // The test already failed on it, or asserts on what it has.
        }

        _stop.Dispose();
    }

    private async Task RunAsync(RelayAgent agent)
    {
        AgentConnection? connection = null;
        var node = 0;
        long seq = 0;
        try
        {
            for (var n = 0; !_stop.IsCancellationRequested; n++)
            {
                var callId = $"{agent.Id}-call-{n}";
                var billsec = 1 + (n % 90);
                (string Type, object Payload, int? Billsec)[] events =
                [
                    ("incoming_call", Call(callId, $"+4930{n % 1000:D3}4567"), null),
                    ("call_answered", Call(callId), null),
                    ("call_hangup", new { call = new { uuid = callId }, billsec }, billsec),
                ];
                foreach (var (type, payload, hangupBillsec) in events)
                {
                    var eventId = Guid.NewGuid();
                    var envelope = Envelope(type, payload, eventId, ++seq);
                    var kept = Stopwatch.StartNew();
                    while (true)
                    {
                        if (kept.Elapsed > GiveUpAfter)
                        {
                            throw new TimeoutException($"{agent.Id}: event {eventId} ({type} of {callId}) was not acked within {GiveUpAfter}.");
                        }

                        if (connection is not { IsConnected: true })
                        {
                            if (connection is not null)
                            {
                                await connection.DisposeAsync();
                                connection = null;
                                node = (node + 1) % agent.Nodes.Count;
                                Interlocked.Increment(ref _reconnects);
                            }

                            connection = await TryConnectAsync(agent.Nodes[node]);
                            if (connection is null)
                            {
                                node = (node + 1) % agent.Nodes.Count;
                                await Task.Delay(RetryDelay);
                                continue;
                            }
                        }

                        try
                        {
                            var ack = await connection.InvokeAsync("Publish", envelope);
                            var status = ack.GetProperty("status").GetString();
                            if (status is not ("accepted" or "duplicate"))
                            {
                                throw new InvalidOperationException($"{agent.Id}: event {eventId} was answered {ack}.");
                            }

                            Record(new AckedEvent(eventId, callId, type, hangupBillsec, _clock.Elapsed, node, status));
                            break;
                        }
                        catch (HubException exception) when (connection.IsConnected)
                        {
                            var message = exception.HubMessage
                                ?? throw new InvalidOperationException($"{agent.Id}: the hub answered event {eventId} with an error without a code: {exception.Message}", exception);
                            if (!RetryableCodes.Any(code => message.StartsWith(code + ":", StringComparison.Ordinal)))
                            {
                                throw new InvalidOperationException($"{agent.Id}: event {eventId} was refused: {message}", exception);
                            }

                            Interlocked.Increment(ref _refusals);
                            Signal();
                            await Task.Delay(RetryDelay);
                        }
                        catch (Exception) when (connection is not { IsConnected: true })
                        {
                            // The connection went away with the invocation in flight: the outcome is unknown, so the relay sends it again.
                        }
                    }

                    await Task.Delay(_pause);
                }
            }
        }
        catch (Exception exception)
        {
            _failed.TrySetException(exception);
            Signal();
            throw;
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<AgentConnection?> TryConnectAsync(Func<CancellationToken, Task<AgentConnection>> connect)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await connect(deadline.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private void Record(AckedEvent acked)
    {
        _acked.Enqueue(acked);
        Signal();
    }

    private void Signal()
    {
        lock (_gate)
        {
            foreach (var waiter in _waiters.Where(waiter => waiter.Condition()).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private async Task WaitAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition())
            {
                return;
            }

            _waiters.Add((condition, signal));
        }

        var done = await Task.WhenAny(signal.Task, _failed.Task, Task.Delay(timeout));
        if (done == _failed.Task)
        {
            await _failed.Task;
        }

        Assert.True(done == signal.Task, $"Waited {timeout} for {what()}.");
    }
}
