namespace Hub.Bench.Reporting;

/// <summary>One measured figure, with the raw limit it is compared to (when there is one) and the product target.</summary>
public sealed record Figure(
    string Scenario,
    string Name,
    double Value,
    string Unit,
    string? Baseline = null,
    double? BaselineValue = null,
    string? Target = null,
    bool? TargetMet = null,
    string? Note = null)
{
    /// <summary>Value / baseline: for rates the fraction of the limit reached, for latencies how many times the bare round trip.</summary>
    public double? Ratio => BaselineValue is > 0 ? Value / BaselineValue : null;
}

/// <summary>Everything one run measured: machine facts, figures, breakdowns, problems.</summary>
public sealed class BenchReport
{
    public required string Mode { get; init; }
    public required string Command { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; set; }
    public Dictionary<string, string> Machine { get; } = new(StringComparer.Ordinal);
    public List<Figure> Figures { get; } = [];

    /// <summary>Where the time goes, and other facts worth printing next to the figures, per scenario.</summary>
    public List<(string Scenario, string Text)> Notes { get; } = [];

    /// <summary>A scenario that could not measure (crash, missing endpoint). Fatal ones fail the command.</summary>
    public List<(string Scenario, string Error, bool Fatal)> Problems { get; } = [];

    /// <summary>Lost events, missing pops, dropped connections: these fail the command in every mode.</summary>
    public List<(string Scenario, string Text)> Losses { get; } = [];

    public void Add(Figure figure)
    {
        lock (Figures)
        {
            Figures.Add(figure);
        }

        Progress.Line(figure.Scenario, $"{figure.Name}: {Format(figure.Value, figure.Unit)}" +
            (figure.BaselineValue is { } b ? $" (baseline {figure.Baseline}: {Format(b, figure.Unit)}, ratio {figure.Ratio:0.00})" : "") +
            (figure.TargetMet is { } met ? (met ? "  [target met]" : "  [target missed]") : ""));
    }

    public void Note(string scenario, string text)
    {
        Notes.Add((scenario, text));
        Progress.Line(scenario, text);
    }

    public void Loss(string scenario, string text)
    {
        Losses.Add((scenario, text));
        Progress.Line(scenario, "LOSS: " + text);
    }

    public void Problem(string scenario, string error, bool fatal)
    {
        Problems.Add((scenario, error, fatal));
        Progress.Line(scenario, (fatal ? "FAILED: " : "NOT MEASURED: ") + error);
    }

    public bool Failed => Losses.Count > 0 || Problems.Any(p => p.Fatal);

    public static string Format(double value, string unit) => unit switch
    {
        "ms" => $"{value:0.0} ms",
        "MiB" or "KiB" => $"{value:0.0} {unit}",
        _ => $"{value:#,0.#} {unit}",
    };
}
