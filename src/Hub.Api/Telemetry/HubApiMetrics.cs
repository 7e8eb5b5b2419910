using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hub.Api.Agents;
using Hub.Contracts;

namespace Hub.Api.Telemetry;

/// <summary>
/// The Api node's own instruments. Labels stay few and bounded: an event type the hub does not know is counted as
/// <c>other</c> (the relay may send any type), and no tenant or agent id is ever a label.
/// </summary>
public sealed class HubApiMetrics
{
    public const string IngestMeter = "Hub.Ingest";
    public const string ScreenPopMeter = "Hub.ScreenPop";
    public const string AgentsMeter = "Hub.Agents";

    /// <summary>The Api node's own spans: an event put on the bus (child of the hub invocation that brought it), a screen-pop pushed.</summary>
    public static readonly ActivitySource Activities = new("Hub.Api");

    /// <summary>Span names of an event's publish, made once: a type the hub does not know is <c>other</c>, as in the metrics.</summary>
    private static readonly Dictionary<string, string> PublishSpanNames =
        WebphoneEventTypes.Known.ToDictionary(type => type, type => "publish " + type, StringComparer.Ordinal);

    public static string PublishSpanName(string type) => PublishSpanNames.GetValueOrDefault(type, "publish other");

    private readonly Counter<long> _events;
    private readonly Histogram<double> _publishDuration;
    private readonly Histogram<double> _screenPopLatency;

    public HubApiMetrics(IMeterFactory meters, AgentConnections connections)
    {
        var ingest = meters.Create(IngestMeter);
        _events = ingest.CreateCounter<long>("hub.ingest.events", "{event}",
            "Relay events by type and outcome: accepted (on the bus), duplicate, rejected (invalid), refused (not acked; the relay retries)");
        _publishDuration = ingest.CreateHistogram<double>("hub.ingest.publish.duration", "s",
            "From an event's publish to the bus confirming it (the broker's confirm on RabbitMQ)");

        var screenPop = meters.Create(ScreenPopMeter);
        _screenPopLatency = screenPop.CreateHistogram<double>("hub.screen_pop.latency", "s",
            "From the hub receiving an incoming_call to this node pushing its screen-pop to the agent's connections");

        var agents = meters.Create(AgentsMeter);
        agents.CreateObservableGauge("hub.agents.connections", () => connections.LocalCount, "{connection}", "Agent hub connections open on this node");
    }

    public void Event(string type, string outcome) =>
        _events.Add(1, new KeyValuePair<string, object?>("type", WebphoneEventTypes.Known.Contains(type) ? type : "other"), new KeyValuePair<string, object?>("outcome", outcome));

    public void Published(TimeSpan duration) => _publishDuration.Record(duration.TotalSeconds);

    public void ScreenPopPushed(TimeSpan latency) => _screenPopLatency.Record(Math.Max(0, latency.TotalSeconds));
}
