using System.Diagnostics;
using Spectre.Console;

namespace Hub.Bench.Reporting;

/// <summary>
/// The progress display: a live status line on a terminal (Spectre.Console), and on a pipe (CI) the same
/// status as a plain line every five seconds, so a log shows the run advancing.
/// </summary>
public static class Progress
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static readonly Lock Gate = new();

    /// <summary>In a CI log (output redirected): no escape codes, and long lines instead of wrapping at 80 columns.</summary>
    public static void ConfigureConsole()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Width = 240;
        }
    }

    public static void Line(string scenario, string text)
    {
        lock (Gate)
        {
            AnsiConsole.MarkupLine($"[grey]{Clock.Elapsed:mm\\:ss}[/] [blue]{Markup.Escape(scenario),-12}[/] {Markup.Escape(text)}");
        }
    }

    /// <summary>Runs <paramref name="work"/> while showing <paramref name="status"/> (refreshed every half second).</summary>
    public static async Task<T> WhileAsync<T>(string scenario, Func<string> status, Func<Task<T>> work)
    {
        var task = work();
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Status().StartAsync(scenario, async context =>
            {
                while (!task.IsCompleted)
                {
                    context.Status($"{Markup.Escape(scenario)}: {Markup.Escape(status())}");
                    await Task.WhenAny(task, Task.Delay(500));
                }
            });
        }
        else
        {
            while (!task.IsCompleted)
            {
                if (await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5))) != task)
                {
                    Line(scenario, status());
                }
            }
        }

        return await task;
    }

    public static async Task WhileAsync(string scenario, Func<string> status, Func<Task> work) =>
        await WhileAsync(scenario, status, async () =>
        {
            await work();
            return true;
        });
}
