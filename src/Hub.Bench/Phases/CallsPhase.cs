using Hub.Tests.Support;
using System.Diagnostics;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Bench.Scenarios;

namespace Hub.Bench.Phases;

/// <summary>
/// Issue 8: a year of generated calls in PostgreSQL (one account with 50 agents, four other accounts), then the
/// call-log queries over HTTP on a real Api node.
/// </summary>
public static class CallsPhase
{
    private const string Scenario = "calls";
    private const double TargetMs = 200;
    private const int OtherTenants = 4;

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var report = context.Report;
        var database = await context.Servers.DatabaseAsync();
        var environment = HubProcess.Production(database, await context.Servers.VirtualHostAsync());
        environment["Hub__NodeId"] = "bench-calls";
        // The node runs the migrations (007 included once merged) before anything is generated.
        await using var api = await HubProcess.StartAsync("Hub.Api", "calls-api", environment, context.LogDirectory);
        using var hub = new HubClient(api.Url);

        var (tenantId, key) = await hub.CreateTenantAsync("bench calls", cancellationToken);
        var clock = Stopwatch.StartNew();
        var step = "";
        await Progress.WhileAsync(Scenario, () => $"{step} ({clock.Elapsed.TotalSeconds:0} s)", async () =>
        {
            step = $"generating {settings.GeneratedCalls:#,0} calls for the measured account";
            await CallsQueries.GenerateAsync(database, tenantId, settings.GeneratedCalls, cancellationToken);
            for (var i = 0; i < OtherTenants; i++)
            {
                step = $"generating {settings.OtherTenantCalls:#,0} calls for other account {i + 1}";
                var (other, _) = await hub.CreateTenantAsync($"bench calls other {i}", cancellationToken);
                await CallsQueries.GenerateAsync(database, other, settings.OtherTenantCalls, cancellationToken);
            }

            step = "VACUUM ANALYZE calls";
            await CallsQueries.AnalyzeAsync(database, cancellationToken);
        });
        report.Note(Scenario, $"generated {settings.GeneratedCalls:#,0} calls over 365 days for one account ({CallsQueries.Agents} agents) and {OtherTenants} x {settings.OtherTenantCalls:#,0} for other accounts in {clock.Elapsed.TotalSeconds:0} s (INSERT … SELECT generate_series, then VACUUM ANALYZE)");

        foreach (var query in CallsQueries.Queries())
        {
            var timing = await CallsQueries.TimeAsync(hub, key, query, settings.QueryRepetitions, cancellationToken);
            if (timing.Latency is { } latency)
            {
                report.Add(new Figure(Scenario, $"{query.Name}: p95", latency.P95, "ms", Target: $"< {TargetMs} ms", TargetMet: latency.P95 < TargetMs,
                    Note: latency.Describe()));
                report.Note(Scenario, $"{query.Name} (`GET {query.Path}`): {latency.Describe()}");
            }
            else
            {
                // Not fatal: contact= cannot match the generated calls (see CallsQueries), and one missing figure is no loss.
                report.Problem(Scenario, $"{query.Name} (`GET {query.Path}`): {timing.Error}", fatal: false);
            }
        }
    }
}
