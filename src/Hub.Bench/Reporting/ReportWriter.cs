using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Hub.Bench.Reporting;

/// <summary>The report as Markdown (for people and docs/BENCHMARKS.md) and JSON (for tools), both in bench/results.</summary>
public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<(string Markdown, string Json)> WriteAsync(BenchReport report, string folder, string stamp)
    {
        Directory.CreateDirectory(folder);
        var markdown = Path.Combine(folder, stamp + ".md");
        var json = Path.Combine(folder, stamp + ".json");
        await File.WriteAllTextAsync(markdown, Markdown(report));
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new
        {
            report.Mode,
            report.Command,
            report.StartedAt,
            report.FinishedAt,
            report.Machine,
            Figures = report.Figures.Select(f => new { f.Scenario, f.Name, f.Value, f.Unit, f.Baseline, f.BaselineValue, f.Ratio, f.Target, f.TargetMet, f.Note }),
            Notes = report.Notes.Select(n => new { n.Scenario, n.Text }),
            Problems = report.Problems.Select(p => new { p.Scenario, p.Error, p.Fatal }),
            Losses = report.Losses.Select(l => new { l.Scenario, l.Text }),
            report.Failed,
        }, Json));
        return (markdown, json);
    }

    public static string Markdown(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## Hub benchmark, {report.Mode} run, {report.StartedAt:yyyy-MM-dd HH:mm} UTC ({(report.FinishedAt - report.StartedAt).TotalMinutes:0.0} min)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `{report.Command}`");
        text.AppendLine();
        foreach (var (name, value) in report.Machine)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{name}**: {value}");
        }

        text.AppendLine();
        text.AppendLine("| Scenario | Figure | Hub | Baseline (same run) | Ratio | Target | |");
        text.AppendLine("|---|---|---:|---|---:|---|---|");
        foreach (var f in report.Figures)
        {
            var baseline = f.BaselineValue is { } b ? $"{f.Baseline}: {BenchReport.Format(b, f.Unit)}" : "";
            var ratio = f.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "";
            var met = f.TargetMet switch { true => "met", false => "**missed**", null => "" };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {f.Scenario} | {f.Name} | {BenchReport.Format(f.Value, f.Unit)} | {baseline} | {ratio} | {f.Target} | {met} |");
        }

        text.AppendLine();
        text.AppendLine("Details and breakdowns:");
        text.AppendLine();
        foreach (var (scenario, note) in report.Notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario}: {note}");
        }

        foreach (var (scenario, error, fatal) in report.Problems)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario}: **{(fatal ? "failed" : "not measured")}**: {FirstLine(error)}");
        }

        foreach (var (scenario, loss) in report.Losses)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario}: **LOSS**: {loss}");
        }

        text.AppendLine();
        text.AppendLine(report.Failed ? "Result: **FAILED** (loss or crash, see above)." : "Result: no loss, no crash (timings are figures, not pass/fail).");
        return text.ToString();
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
