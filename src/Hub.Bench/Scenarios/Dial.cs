using Hub.Tests.Support;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Microsoft.AspNetCore.SignalR.Client;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Click-to-call: the CRM backend's <c>POST /api/v1/agents/{id}/dial</c> until the agent's connection receives
/// the <c>Command</c>, one dial at a time (the latency of an idle hub), each answered with CommandResult as the relay does.
/// </summary>
public static class Dial
{
    public sealed record Result(Distribution Command, Distribution Accepted, int Missing);

    public static async Task<Result> RunAsync(string scenario, HubClient hub, BenchSettings settings, CancellationToken cancellationToken)
    {
        await using var pool = await AgentPool.StartAsync(hub, $"bench {scenario} dial", 1, cancellationToken);
        var agent = pool.Agents[0];
        var waiting = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
        agent.Client.Connection.On<JsonElement>("Command", command =>
        {
            var received = Stopwatch.GetTimestamp();
            if (waiting.TryRemove(command.GetProperty("payload").GetProperty("number").GetString()!, out var signal))
            {
                signal.TrySetResult(received);
            }

            _ = agent.Client.InvokeAsync("CommandResult", new { command_id = command.GetProperty("command_id").GetString(), status = "delivered" });
        });

        var commands = new Samples();
        var accepted = new Samples();
        var missing = 0;
        await Progress.WhileAsync(scenario, () => $"{commands.Count:#,0} of {settings.Dials:#,0} dials", async () =>
        {
            for (var i = 0; i < settings.Dials; i++)
            {
                var number = "0987" + (100_000 + i).ToString(CultureInfo.InvariantCulture);
                var signal = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting[number] = signal;
                var sent = Stopwatch.GetTimestamp();
                await hub.SendAsync(HttpMethod.Post, $"/api/v1/agents/{agent.Id}/dial", pool.Key, null, new { number }, cancellationToken);
                accepted.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                try
                {
                    var received = await signal.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                    commands.Add(Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds);
                }
                catch (TimeoutException)
                {
                    missing++;
                }
            }
        });
        return new Result(commands.Distribution(), accepted.Distribution(), missing);
    }
}
