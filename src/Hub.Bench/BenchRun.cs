using Hub.Tests.Support;
using System.Globalization;
using Hub.Bench.Phases;
using Hub.Bench.Reporting;
using Hub.Bench.Running;

namespace Hub.Bench;

/// <summary>Runs the selected scenarios in order, each topology in its own processes, and writes the report.</summary>
public static class BenchRun
{
    public static readonly string[] Scenarios = ["ingest", "screenpop", "dial", "connections", "embedded", "calls"];

    public static async Task<int> RunAsync(BenchSettings settings, string[] selected, string? output, CancellationToken cancellationToken)
    {
        Progress.ConfigureConsole();
        await Machine.RaiseFileLimitAsync();
        var started = DateTimeOffset.UtcNow;
        var stamp = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var folder = Path.GetFullPath(output ?? Path.Combine(Repository.Root, "bench", "results"));
        var context = new BenchContext(settings, new BenchReport
        {
            Mode = settings.Mode,
            Command = $"dotnet run -c Release --project src/Hub.Bench -- --{settings.Mode}" + string.Concat(selected.Select(s => " --scenario " + s)),
            StartedAt = started,
        }, Path.Combine(folder, stamp + "-logs"));
        Machine.Describe(context.Report.Machine);
        Progress.Line("setup", $"{settings.Mode} run; report and process logs in {folder}");

        await using (var servers = new Servers())
        {
            context.Servers = servers;
            bool Wants(string scenario) => selected.Length == 0 || selected.Contains(scenario, StringComparer.OrdinalIgnoreCase);
            if (Wants("ingest") || Wants("screenpop") || Wants("dial"))
            {
                await GuardAsync(context, "production", () => Production.RunAsync(context, Wants("ingest"), Wants("screenpop"), Wants("dial"), cancellationToken));
            }

            if (Wants("connections"))
            {
                await GuardAsync(context, "connections", () => ConnectionsPhase.RunAsync(context, cancellationToken));
            }

            if (Wants("embedded"))
            {
                await GuardAsync(context, "embedded", () => Embedded.RunAsync(context, cancellationToken));
            }

            if (Wants("calls"))
            {
                await GuardAsync(context, "calls", () => CallsPhase.RunAsync(context, cancellationToken));
            }

            context.Report.Machine["servers"] = servers.Where;
        }

        context.Report.FinishedAt = DateTimeOffset.UtcNow;
        // Other work on the machine skews every figure: say how busy it was at both ends.
        context.Report.Machine["load average at end"] = Machine.LoadAverage();
        var (markdown, json) = await ReportWriter.WriteAsync(context.Report, folder, stamp);
        Progress.Line("done", $"{(context.Report.FinishedAt - started).TotalMinutes:0.0} min; report: {markdown} and {json}");
        Console.WriteLine();
        Console.WriteLine(ReportWriter.Markdown(context.Report));
        return context.Report.Failed ? 1 : 0;
    }

    /// <summary>A scenario that throws is reported (and fails the command) without stopping the others.</summary>
    private static async Task GuardAsync(BenchContext context, string scenario, Func<Task> run)
    {
        try
        {
            await run();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.Report.Problem(scenario, e.ToString(), fatal: true);
        }
    }
}

/// <summary>What every phase needs: the sizes, the report, where process logs go, the servers.</summary>
public sealed class BenchContext(BenchSettings settings, BenchReport report, string logDirectory)
{
    public BenchSettings Settings { get; } = settings;
    public BenchReport Report { get; } = report;
    public string LogDirectory { get; } = logDirectory;
    public Servers Servers { get; set; } = null!;

    /// <summary>The bare SignalR echo at a given rate, measured once per rate and run.</summary>
    public Dictionary<double, Distribution> Echo { get; } = [];

    public async Task<Distribution> EchoAsync(double rate, CancellationToken cancellationToken)
    {
        if (!Echo.TryGetValue(rate, out var echo))
        {
            echo = Echo[rate] = await Scenarios.Latency.EchoAsync(Settings, rate, cancellationToken);
            Report.Note("echo", $"bare SignalR echo at {rate:#,0}/s: {echo.Describe()}");
        }

        return echo;
    }
}
