using Hub.Tests.Support;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Bench.Scenarios;

namespace Hub.Bench.Phases;

/// <summary>Concurrent agent connections on one fresh Api node of the production topology, and its memory.</summary>
public static class ConnectionsPhase
{
    private const string Scenario = "connections";
    private const double TargetConnections = 20_000;
    private const double TargetMiB = 1536;
    private const int FileHeadroom = 500;

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var environment = HubProcess.Production(await context.Servers.DatabaseAsync(), await context.Servers.VirtualHostAsync());
        environment["Hub__NodeId"] = "bench-connections";
        await using var api = await HubProcess.StartAsync("Hub.Api", "connections-api", environment, context.LogDirectory);
        var report = context.Report;
        // Each connection is a descriptor in the Api node and one in the bench; a node at its limit dies
        // (the runtime reports "Out of memory"), so stay below it and say so.
        var count = settings.Connections;
        if (FileLimit.Current() is { } limit && limit - FileHeadroom < count)
        {
            count = limit - FileHeadroom;
            report.Note(Scenario, $"capped at {count:#,0} connections: the open-file limit here is {limit:#,0} per process and could not be raised " +
                "(`ulimit -n` / prlimit need CAP_SYS_RESOURCE above the hard limit); memory at the target size is projected from the measured per-connection cost");
        }

        var result = await Connections.RunAsync(api, count, settings, cancellationToken);
        var full = settings.Connections >= TargetConnections;
        report.Add(new Figure(Scenario, "concurrent agent connections held by one Api node", result.StillUp, "connections",
            Target: full ? $">= {TargetConnections:#,0}" : null, TargetMet: full ? result.StillUp >= TargetConnections : null));
        report.Add(new Figure(Scenario, $"Api node resident memory with {result.StillUp:#,0} connections", result.RssAfter / 1048576.0, "MiB",
            Target: full ? $"< {TargetMiB:#,0} MiB" : null, TargetMet: full ? result.RssAfter / 1048576.0 < TargetMiB : null));
        report.Add(new Figure(Scenario, "memory per connection (RSS growth / connections)", result.BytesPerConnection / 1024, "KiB"));
        if (full && result.StillUp < TargetConnections)
        {
            var projected = (result.RssBefore + result.BytesPerConnection * TargetConnections) / 1048576.0;
            report.Add(new Figure(Scenario, $"projected Api node memory at {TargetConnections:#,0} connections", projected, "MiB",
                Target: $"< {TargetMiB:#,0} MiB", TargetMet: projected < TargetMiB, Note: "RSS before + measured per-connection cost x 20,000"));
        }
        report.Note(Scenario, $"{result.Opened:#,0} of {result.Requested:#,0} opened ({result.OpenPerSecond:#,0}/s, each signed in and answered Hello; {settings.ConnectionsPerAgent} connections per agent session), " +
            $"{result.StillUp:#,0} still up after {settings.ConnectionsHold.TotalSeconds:0} s of heartbeats (client pings every 15 s); node RSS {result.RssBefore / 1048576.0:0} MiB before, {result.RssAfter / 1048576.0:0} MiB after" +
            (result.FirstError is null ? "" : $"; first error: {result.FirstError}"));
        // Every connection the bench asked for (within the file limit) must hold: a drop is a failure, not a figure.
        if (result.StillUp < result.Requested)
        {
            report.Loss(Scenario, $"{result.Requested - result.StillUp} of {result.Requested} connections failed or dropped" + (result.FirstError is null ? "" : $" ({result.FirstError})"));
        }
    }
}
