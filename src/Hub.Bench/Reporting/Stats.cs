namespace Hub.Bench.Reporting;

/// <summary>Percentiles of a full sorted sample (exact, no histogram buckets): small enough at these counts.</summary>
public sealed record Distribution(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    public static Distribution Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        return new Distribution(sorted.Length, At(sorted, 0.50), At(sorted, 0.95), At(sorted, 0.99), sorted[^1], sorted.Average());
    }

    public string Describe(string unit = "ms") =>
        Count == 0 ? "no samples" : $"p50 {P50:0.0} / p95 {P95:0.0} / p99 {P99:0.0} / max {Max:0.0} {unit} (n={Count})";

    // Nearest rank: the smallest value at or above the fraction of the sample.
    private static double At(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>A thread-safe list of latency samples in milliseconds.</summary>
public sealed class Samples
{
    private readonly List<double> _values = [];
    private readonly Lock _gate = new();

    public void Add(double milliseconds)
    {
        lock (_gate)
        {
            _values.Add(milliseconds);
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    public Distribution Distribution()
    {
        lock (_gate)
        {
            return Reporting.Distribution.Of(_values);
        }
    }
}
