using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Hub.Api.Agents;
using Hub.Api.Telemetry;
using Hub.Consumers.Telemetry;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Telemetry;

/// <summary>docs/operations.md and the Grafana dashboard name only metrics the hub defines, and the docs name every one.</summary>
public sealed partial class MetricNamesTests
{
    [Fact]
    public void The_operations_guide_and_the_dashboard_name_exactly_the_metrics_the_hub_defines()
    {
        var defined = DefinedPrometheusNames();
        Assert.Contains("hub_ingest_events_total", defined);
        Assert.Contains("hub_screen_pop_latency_seconds", defined);

        var guide = File.ReadAllText(Path.Combine(Repository.Root, "docs", "operations.md"));
        var dashboard = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "grafana", "hub-dashboard.json"));
        var documented = HubMetric().Matches(guide).Select(match => BaseName(match.Value)).ToHashSet(StringComparer.Ordinal);
        var charted = HubMetric().Matches(dashboard).Select(match => BaseName(match.Value)).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(defined.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
        Assert.Empty(charted.Except(defined));
    }

    /// <summary>The Prometheus names of every instrument of the hub's meters, as the OpenTelemetry exporter writes them.</summary>
    private static HashSet<string> DefinedPrometheusNames()
    {
        using var services = new ServiceCollection().AddMetrics().AddSingleton<AgentConnections>(_ => null!).BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name.StartsWith("Hub.", StringComparison.Ordinal))
                {
                    lock (names)
                    {
                        names.Add(PrometheusName(instrument));
                    }
                }
            },
        };
        listener.Start();
        _ = new HubApiMetrics(meters, null!);
        _ = new ConsumerMetrics(meters);
        _ = new StoreMetrics(meters);
        return names;
    }

    private static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s")
        {
            name += "_seconds";
        }

        return instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Counter<>) ? name + "_total" : name;
    }

    private static string BaseName(string series) => Suffix().Replace(series, "");

    [GeneratedRegex(@"\bhub_[a-z0-9_]+")]
    private static partial Regex HubMetric();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex Suffix();
}
