namespace Hub.Tests.Telemetry;

/// <summary>
/// Meters and activity sources are process-wide: a test that counts what its hub recorded must not share the
/// process's instruments with hubs of other tests running at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
