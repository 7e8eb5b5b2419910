using Hub.Tests.Support;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Bench.Scenarios;

namespace Hub.Bench.Phases;

/// <summary>The embedded default: one <c>dotnet Hub.Api.dll</c> with its defaults (in-memory bus, SQLite, workers in-process).</summary>
public static class Embedded
{
    private const string Scenario = "embedded";
    private static readonly TimeSpan EmbeddedIngest = TimeSpan.FromSeconds(8);

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var data = Path.Combine(Path.GetTempPath(), $"hub-bench-{Guid.NewGuid():N}");
        try
        {
            var environment = HubProcess.Common();
            environment["Hub__DataDirectory"] = data;
            await using var api = await HubProcess.StartAsync("Hub.Api", "embedded", environment, context.LogDirectory);
            context.Report.Machine["embedded default"] = "one Hub.Api process with its defaults (in-memory bus, SQLite in a temporary data directory, workers in-process) and the bench's agents";
            using var hub = new HubClient(api.Url);
            var probe = StoreProbe.Sqlite(Path.Combine(data, "hub.db"));
            var cpu = CpuBreakdown.Start(context.Servers, ("Hub.Api", api.Pid));
            // Acks wait for room once Hub__EmbeddedBacklog events are waiting for SQLite, so a longer publishing
            // window only lengthens the run; the rates are the same.
            var ingest = settings with { IngestDuration = TimeSpan.FromTicks(Math.Min(settings.IngestDuration.Ticks, EmbeddedIngest.Ticks)) };
            var result = await Ingest.RunAsync(Scenario, hub, probe, ingest, cancellationToken);
            context.Report.Note(Scenario, cpu.Describe("ingest", result.Accepted));
            Record.Ingest(context, Scenario, result, raw: null);
            foreach (var rate in Production.Rates(settings, result.PersistedPerSecond))
            {
                var echo = await context.EchoAsync(rate, cancellationToken);
                var popsCpu = CpuBreakdown.Start(context.Servers, ("Hub.Api", api.Pid));
                var pops = await Latency.ScreenPopAsync(Scenario, hub, probe, settings, rate, cancellationToken);
                Record.Pops(context, Scenario, pops, echo);
                context.Report.Note(Scenario, popsCpu.Describe($"the screen-pops at {rate:#,0} events/s", pops.AckedEvents));
            }

            Record.Dials(context, Scenario, await Dial.RunAsync(Scenario, hub, settings, cancellationToken));
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
