namespace Hub.Bench;

/// <summary>How big and how long each scenario runs: <see cref="Short"/> for CI, <see cref="Full"/> for the documented figures.</summary>
public sealed record BenchSettings(
    string Mode,
    int IngestAgents,
    int CallsPerBatch,
    TimeSpan IngestDuration,
    TimeSpan LatencyDuration,
    int LatencyAgents,
    int TargetEventsPerSecond,
    double MaxRateFraction,
    int Dials,
    int Connections,
    int ConnectionsPerAgent,
    TimeSpan ConnectionsHold,
    int GeneratedCalls,
    int OtherTenantCalls,
    int QueryRepetitions)
{
    public static BenchSettings Short { get; } = new(
        "short",
        IngestAgents: 10,
        CallsPerBatch: 10,
        IngestDuration: TimeSpan.FromSeconds(3),
        LatencyDuration: TimeSpan.FromSeconds(4),
        LatencyAgents: 10,
        // Below what this machine persists, so CI's run stays short; the full run measures the 1,000 events/s target.
        TargetEventsPerSecond: 200,
        MaxRateFraction: 0,
        Dials: 50,
        Connections: 1_000,
        ConnectionsPerAgent: 10,
        ConnectionsHold: TimeSpan.FromSeconds(2),
        GeneratedCalls: 20_000,
        OtherTenantCalls: 5_000,
        QueryRepetitions: 10);

    public static BenchSettings Full { get; } = new(
        "full",
        IngestAgents: 100,
        CallsPerBatch: 10,
        IngestDuration: TimeSpan.FromSeconds(20),
        LatencyDuration: TimeSpan.FromSeconds(20),
        LatencyAgents: 100,
        TargetEventsPerSecond: 1000,
        MaxRateFraction: 0.5,
        Dials: 1_000,
        Connections: 20_000,
        ConnectionsPerAgent: 10,
        // Longer than two SignalR keep-alive intervals (15 s), so heartbeats are part of what is held.
        ConnectionsHold: TimeSpan.FromSeconds(35),
        GeneratedCalls: 1_000_000,
        OtherTenantCalls: 200_000,
        QueryRepetitions: 50);
}
