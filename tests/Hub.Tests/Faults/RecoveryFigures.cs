using Xunit.Abstractions;

namespace Hub.Tests.Faults;

/// <summary>
/// The fault tests' recovery times: figures, not assertions (a 2-core machine running the suite measures the
/// suite as much as the hub). Each goes to the test's output and to <see cref="FilePath"/>, which ./test.sh prints
/// after the .NET tests.
/// </summary>
public static class RecoveryFigures
{
    private static readonly Lock Gate = new();

    public static string FilePath { get; } = Path.Combine(AppContext.BaseDirectory, "fault-recovery.txt");

    public static void Report(ITestOutputHelper output, string fault, string figure)
    {
        var line = $"{fault}: {figure}";
        output.WriteLine(line);
        lock (Gate)
        {
            File.AppendAllText(FilePath, $"{DateTimeOffset.UtcNow:u}  {line}{Environment.NewLine}");
        }
    }

    public static string Seconds(TimeSpan duration) => $"{duration.TotalSeconds:0.00} s";
}
