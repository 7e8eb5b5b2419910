using System.Diagnostics;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Bench.Scenarios;

/// <summary>
/// How many agent connections one Api node holds: open them (each signed in, Hello answered), hold them
/// past two SignalR keep-alive intervals with client pings running, check every one is still up and a sample
/// still answers, and read the node's resident memory before and after.
/// </summary>
public static class Connections
{
    public sealed record Result(int Requested, int Opened, int StillUp, int Failed, double OpenPerSecond, long RssBefore, long RssAfter, string? FirstError)
    {
        public double BytesPerConnection => StillUp == 0 ? 0 : (RssAfter - RssBefore) / (double)StillUp;
    }

    public static async Task<Result> RunAsync(HubProcess node, int count, BenchSettings settings, CancellationToken cancellationToken)
    {
        settings = settings with { Connections = count };
        using var hub = new HubClient(node.Url);
        var agents = Math.Max(1, settings.Connections / settings.ConnectionsPerAgent);
        var (_, key) = await hub.CreateTenantAsync("bench connections", cancellationToken);
        var sessions = new string[agents];
        var signedIn = 0;
        await Progress.WhileAsync("connections", () => $"signing in {Volatile.Read(ref signedIn):#,0} of {agents:#,0} agents", () =>
            Parallel.ForEachAsync(Enumerable.Range(0, agents), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (i, token) =>
                {
                    sessions[i] = await hub.CreateSessionAsync(key, $"agent-{i}", token);
                    Interlocked.Increment(ref signedIn);
                }));

        var rssBefore = node.ResidentBytes();
        var clients = new AgentConnection?[settings.Connections];
        var failed = 0;
        string? firstError = null;
        var opened = 0;
        var clock = Stopwatch.StartNew();
        await Progress.WhileAsync("connections", () => $"{Volatile.Read(ref opened):#,0} of {settings.Connections:#,0} open, node RSS {node.ResidentBytes() / 1048576.0:0} MiB", () =>
            Parallel.ForEachAsync(Enumerable.Range(0, settings.Connections), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (i, token) =>
                {
                    try
                    {
                        clients[i] = await hub.ConnectAgentAsync(sessions[i % agents], token);
                        Interlocked.Increment(ref opened);
                    }
                    catch (Exception e) when (e is IOException or System.Net.WebSockets.WebSocketException or HttpRequestException or HubException or TimeoutException or OperationCanceledException)
                    {
                        Interlocked.Increment(ref failed);
                        Interlocked.CompareExchange(ref firstError, e.Message, null);
                    }
                }));
        var openPerSecond = opened / clock.Elapsed.TotalSeconds;

        try
        {
            var hold = Stopwatch.StartNew();
            await Progress.WhileAsync("connections", () => $"holding {opened:#,0} connections {hold.Elapsed.TotalSeconds:0}/{settings.ConnectionsHold.TotalSeconds:0} s, node RSS {node.ResidentBytes() / 1048576.0:0} MiB",
                () => Task.Delay(settings.ConnectionsHold, cancellationToken));
            var open = clients.Where(c => c is { IsConnected: true }).Select(c => c!).ToList();
            // A sample must still answer: a connection the server forgot would not.
            await Task.WhenAll(open.Where((_, i) => i % Math.Max(1, open.Count / 100) == 0).Select(c => c.InvokeAsync("Hello")));
            var rssAfter = node.ResidentBytes();
            return new Result(settings.Connections, opened, open.Count, failed, openPerSecond, rssBefore, rssAfter, firstError);
        }
        finally
        {
            await Parallel.ForEachAsync(clients.Where(c => c is not null), new ParallelOptions { MaxDegreeOfParallelism = 64 },
                async (client, _) => await client!.DisposeAsync());
        }
    }
}

/// <summary>The open-file limit every process here inherits: one descriptor per socket on both ends.</summary>
public static class FileLimit
{
    /// <summary>The soft "Max open files" of this process (children inherit it), or null when unknown.</summary>
    public static int? Current()
    {
        foreach (var line in File.Exists("/proc/self/limits") ? File.ReadLines("/proc/self/limits") : [])
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var soft) ? soft : null;
            }
        }

        return null;
    }
}
