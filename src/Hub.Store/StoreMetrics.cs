using System.Diagnostics.Metrics;

namespace Hub.Store;

/// <summary>Store failures as the hub's code meets them, by kind: <c>unavailable</c> (see <see cref="HubDatabase.IsUnavailable"/>) or <c>other</c>.</summary>
public sealed class StoreMetrics
{
    public const string MeterName = "Hub.Store";

    private readonly Counter<long> _errors;

    public StoreMetrics(IMeterFactory meters) =>
        _errors = meters.Create(MeterName).CreateCounter<long>("hub.store.errors", "{error}",
            "Failed units of work against the database, by kind: unavailable (the work waits or goes on without it) or other");

    public void Error(Exception exception) =>
        _errors.Add(1, new KeyValuePair<string, object?>("kind", HubDatabase.IsUnavailable(exception) ? "unavailable" : "other"));
}
