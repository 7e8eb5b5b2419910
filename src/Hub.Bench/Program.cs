using System.CommandLine;
using Hub.Bench;

var shortMode = new Option<bool>("--short") { Description = "The CI mode: small figures, under two minutes once built." };
var fullMode = new Option<bool>("--full") { Description = "The full run quoted in docs/BENCHMARKS.md (about 12 minutes on 2 cores)." };
var scenario = new Option<string[]>("--scenario")
{
    Description = $"Run only these scenarios (repeatable): {string.Join(", ", BenchRun.Scenarios)}.",
    AllowMultipleArgumentsPerToken = true,
};
var output = new Option<string?>("--output") { Description = "Folder for the report (default bench/results)." };
var root = new RootCommand("Hub's benchmark: headline figures next to the raw limits of the parts they are built on.")
{
    shortMode, fullMode, scenario, output,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var isShort = parse.GetValue(shortMode);
    if (isShort && parse.GetValue(fullMode))
    {
        Console.Error.WriteLine("Choose --short or --full, not both.");
        return 2;
    }

    var selected = parse.GetValue(scenario) ?? [];
    var unknown = selected.Except(BenchRun.Scenarios, StringComparer.OrdinalIgnoreCase).ToList();
    if (unknown.Count > 0)
    {
        Console.Error.WriteLine($"Unknown scenario {string.Join(", ", unknown)}; choose among {string.Join(", ", BenchRun.Scenarios)}.");
        return 2;
    }

    var settings = isShort ? BenchSettings.Short : BenchSettings.Full;
    return await BenchRun.RunAsync(settings, selected, parse.GetValue(output), cancellationToken);
});
return await root.Parse(args).InvokeAsync();
